import dataclasses

import numpy as np
import pytest

from gan_course.presets import ENV_VAR, PRESETS, get_preset


def test_argument_beats_environment(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "gpu")
    assert get_preset().name == "gpu"
    assert get_preset("smoke").name == "smoke"


def test_default_is_cpu(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert get_preset().name == "cpu"


def test_names_are_case_insensitive():
    assert get_preset(" CPU ").name == "cpu"


@pytest.mark.parametrize("source", ["argument", "environment"])
def test_unknown_preset_lists_the_valid_ones(monkeypatch, source):
    if source == "environment":
        monkeypatch.setenv(ENV_VAR, "laptop")
        call = get_preset
    else:
        call = lambda: get_preset("laptop")  # noqa: E731
    with pytest.raises(ValueError) as err:
        call()
    message = str(err.value)
    assert "'laptop'" in message
    for name in PRESETS:
        assert name in message
    if source == "environment":
        assert ENV_VAR in message  # says where the bad name came from


def test_smoke_only_shrinks_sizes():
    smoke, cpu, gpu = PRESETS["smoke"], PRESETS["cpu"], PRESETS["gpu"]
    for field in ("epochs", "width", "latent_dim", "grid_size", "eval_samples", "batch_size"):
        assert getattr(smoke, field) < getattr(cpu, field) <= getattr(gpu, field), field
    assert smoke.max_images is not None and cpu.max_images is None


def test_replace_makes_a_copy():
    cpu = get_preset("cpu")
    short = cpu.replace(epochs=1)
    assert short.epochs == 1 and cpu.epochs != 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        cpu.epochs = 3


def test_pick_returns_the_value_for_this_preset():
    values = dict(smoke=16, cpu=32, gpu=64)
    assert [PRESETS[name].pick(**values) for name in ("smoke", "cpu", "gpu")] == [16, 32, 64]


def test_pick_rejects_missing_or_unknown_presets():
    with pytest.raises(ValueError, match="missing: \\['gpu'\\]"):
        PRESETS["cpu"].pick(smoke=1, cpu=2)
    with pytest.raises(ValueError, match="unknown: \\['laptop'\\]"):
        PRESETS["cpu"].pick(smoke=1, cpu=2, gpu=3, laptop=4)


# The step cap: the gpu preset's shapes for a few steps (nbval runs every lesson so in make test).

def test_step_cap_keeps_every_shape_and_cuts_loops_and_sets(monkeypatch):
    from gan_course.presets import CAP_ENV, CAPPED_COUNT

    monkeypatch.setenv(CAP_ENV, "2")
    capped, full = get_preset("gpu"), PRESETS["gpu"]
    for field in ("width", "latent_dim", "batch_size", "grid_size", "precision", "name"):
        assert getattr(capped, field) == getattr(full, field), field
    assert (capped.epochs, capped.eval_samples, capped.step_cap) == (2, CAPPED_COUNT, 2)
    assert capped.max_images == 5 * full.batch_size, "enough digits for one WGAN step (5 critic batches)"
    assert capped.pick(smoke=16, cpu=32, gpu=100) == 100, "pick sets shapes: never capped"
    assert capped.steps(smoke=4, cpu=1500, gpu=20000) == 2
    assert capped.steps(smoke=(0,), cpu=(0, 1, 2), gpu=(1, 1 / 3, 1 / 10)) == (1, 1 / 3), "a sweep's values keep two"
    assert capped.seeds(smoke=(0,), cpu=(0, 1, 2), gpu=(0, 1, 2, 3, 4)) == (0,), "one seed: a one-step run has no spread"
    assert capped.seeds(smoke=[0], cpu=[0, 1, 2], gpu=[0, 1, 2, 3, 4]) == [0]
    assert capped.count(smoke=200, cpu=None, gpu=None) == CAPPED_COUNT, "None (all of them) is capped too"
    assert capped.count(smoke=20, cpu=CAPPED_COUNT - 1, gpu=CAPPED_COUNT - 1) == CAPPED_COUNT - 1, "below the cap: as asked"


def test_step_cap_cuts_every_pass_over_a_pipeline_to_n_batches(monkeypatch):
    from gan_course import data
    from gan_course.presets import CAP_ENV

    images = np.zeros((64, 4, 4, 1), "float32")
    monkeypatch.delenv(CAP_ENV, raising=False)
    assert len(list(data.make_dataset(images, 8))) == 8
    monkeypatch.setenv(CAP_ENV, "2")  # read when the pipeline is made
    capped = data.make_dataset(images, 8)
    assert [len(list(capped)) for _ in range(2)] == [2, 2], "every pass (epoch) is two batches"
    assert [b.shape[0] for b in capped] == [8, 8], "a batch of at most CAPPED_BATCH stays"


def test_step_cap_halves_large_batches_keeping_n_critic_splits(monkeypatch, tmp_path):
    from PIL import Image

    from gan_course import data
    from gan_course.presets import CAP_ENV, CAPPED_BATCH, capped_batch

    monkeypatch.delenv(CAP_ENV, raising=False)
    assert capped_batch(256) == 256, "no cap: the batch as asked"
    monkeypatch.setenv(CAP_ENV, "1")
    assert capped_batch(256) == CAPPED_BATCH == 32 and capped_batch(16) == 16
    assert capped_batch(5 * 64) == 20 and capped_batch(20) % 5 == 0, "a WGAN's 5 critic batches stay whole"
    assert capped_batch(125) == 125, "odd: not halved"
    images = np.zeros((600, 4, 4, 1), "float32")
    assert [b.shape[0] for b in data.make_dataset(images, 256)] == [32]
    for i in range(40):  # an image folder's pipeline is capped the same way
        Image.new("RGB", (8, 8), (i, i, i)).save(tmp_path / f"{i}.png")
    batches = list(data.load_image_folder(tmp_path, 8, batch_size=40))
    assert [b.shape[0] for b in batches] == [20], "one capped pass: one batch, halved while above 32"
    # A capped set fills a capped batch: 40 images and a batch of 64 (32 under the cap) train ...
    assert [b.shape[0] for b in data.load_image_folder(tmp_path, 8, batch_size=64)] == [32]
    monkeypatch.delenv(CAP_ENV)
    with pytest.raises(data.DataError, match="fewer than one batch of 64"):  # ... and without the cap they cannot
        data.load_image_folder(tmp_path, 8, batch_size=64)


def test_without_the_cap_steps_and_count_are_pick(monkeypatch):
    from gan_course.presets import CAP_ENV

    monkeypatch.delenv(CAP_ENV, raising=False)
    gpu = get_preset("gpu")
    assert gpu == PRESETS["gpu"] and gpu.step_cap is None
    assert gpu.steps(smoke=4, cpu=1500, gpu=20000) == 20000
    assert gpu.steps(smoke=(0,), cpu=(0, 1), gpu=(0, 1, 2, 3, 4)) == (0, 1, 2, 3, 4)
    assert gpu.seeds(smoke=(0,), cpu=(0, 1), gpu=(0, 1, 2, 3, 4)) == (0, 1, 2, 3, 4)
    with pytest.raises(ValueError, match="non-empty list or tuple of seeds"):
        gpu.seeds(smoke=0, cpu=0, gpu=0)
    assert gpu.count(smoke=200, cpu=None, gpu=None) is None


@pytest.mark.parametrize("bad", ["0", "-3", "two", "1.5"])
def test_a_bad_step_cap_says_what_to_set(monkeypatch, bad):
    from gan_course.presets import CAP_ENV

    monkeypatch.setenv(CAP_ENV, bad)
    with pytest.raises(ValueError, match=f"{CAP_ENV}=.*positive whole number"):
        get_preset("gpu")


def test_entry_points_can_default_to_smoke(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert get_preset(default="smoke").name == "smoke"
    monkeypatch.setenv(ENV_VAR, "cpu")
    assert get_preset(default="smoke").name == "cpu", "the environment still wins over an entry point's default"
