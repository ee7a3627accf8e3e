import dataclasses

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
