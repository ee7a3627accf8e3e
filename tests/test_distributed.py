"""Two logical CPU devices must train like one device with the same global batch and seed.

Runs in a fresh process: TensorFlow can only split the CPU before it initialises its devices.
"""

import json
import os
import subprocess
import sys

import pytest

# Per-step losses agree to float32 round-off when replica scaling, noise slicing and
# synchronised batch norm are right. Each mistake is orders of magnitude above this: no loss
# scaling gives a difference of about 40 after 4 SGD steps, unsynchronised batch norm about 0.02.
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def losses():
    env = dict(os.environ, GAN_COURSE_OFFLINE="1")
    out = subprocess.run(
        [sys.executable, "-m", "gan_course.speed.distributed", "--steps", "4", "--batch-size", "32"],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


MODELS = {"dcgan": ("d_loss", "g_loss"), "wgan-gp": ("c_loss", "g_loss")}


def test_two_devices_really_were_used(losses):
    assert len(losses["devices"]) == 2 and losses["devices"][0] != losses["devices"][1]
    for model in MODELS:
        assert len(losses[model]["one_device"]) == len(losses[model]["two_devices"]) == 4


@pytest.mark.parametrize("model", MODELS)
def test_two_devices_match_one_device(losses, model):
    # For WGAN-GP this includes the gradient penalty, computed per replica on its own samples.
    run = losses[model]
    for step, (one, two) in enumerate(zip(run["one_device"], run["two_devices"])):
        for key in MODELS[model]:
            assert abs(one[key] - two[key]) < TOLERANCE, (model, step, key, one[key], two[key])


@pytest.mark.parametrize("model", MODELS)
def test_training_moved_the_losses(losses, model):
    # Guards against a comparison that passes because nothing trained.
    key = MODELS[model][0]
    first, last = losses[model]["one_device"][0], losses[model]["one_device"][-1]
    assert abs(first[key] - last[key]) > 0.05


def test_strategy_names_are_checked():
    from gan_course.speed import distributed

    with pytest.raises(ValueError, match="mirrored"):
        distributed.make_strategy("horovod")
