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
        [sys.executable, "-m", "gan_course.distributed", "--steps", "4", "--batch-size", "32"],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_two_devices_really_were_used(losses):
    assert len(losses["devices"]) == 2 and losses["devices"][0] != losses["devices"][1]
    assert len(losses["one_device"]) == len(losses["two_devices"]) == 4


def test_two_devices_match_one_device(losses):
    for step, (one, two) in enumerate(zip(losses["one_device"], losses["two_devices"])):
        for key in ("d_loss", "g_loss"):
            assert abs(one[key] - two[key]) < TOLERANCE, (step, key, one[key], two[key])


def test_training_moved_the_losses(losses):
    # Guards against a comparison that passes because nothing trained.
    first, last = losses["one_device"][0], losses["one_device"][-1]
    assert abs(first["d_loss"] - last["d_loss"]) > 0.1


def test_strategy_names_are_checked():
    from gan_course import distributed

    with pytest.raises(ValueError, match="mirrored"):
        distributed.make_strategy("horovod")
