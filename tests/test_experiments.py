"""The sweep runner of lesson 05: configurations, networks with switches, scoring, resuming."""

import json

import numpy as np
import pytest

from gan_course import experiments, models
from gan_course.experiments import TrialConfig, variant

TINY = TrialConfig(width=4, latent_dim=8, batch_size=32, epochs=1, max_images=64, eval_samples=50)


def test_variant_changes_one_field_and_refuses_typos():
    v = variant(TINY, "lr D x4", "learning rates", d_learning_rate=8e-4)
    assert (v.name, v.factor, v.d_learning_rate, v.g_learning_rate) == ("lr D x4", "learning rates", 8e-4, TINY.g_learning_rate)
    assert v.key() != TINY.key()
    with pytest.raises(ValueError, match="no field"):
        variant(TINY, "typo", learning_rate=1e-3)
    with pytest.raises(ValueError, match="invalid values"):
        variant(TINY, "bad", dropout=1.5)


def test_default_networks_are_lesson_01s():
    cfg = TrialConfig(width=8, latent_dim=16)
    assert experiments.sweep_generator(cfg).count_params() == models.dcgan_generator(16, (28, 28, 1), width=8).count_params()
    assert experiments.sweep_discriminator(cfg).count_params() == models.dcgan_discriminator((28, 28, 1), width=8).count_params()


def test_switches_change_the_networks():
    def layer_types(model):
        return [type(layer).__name__ for layer in model.layers]

    no_bn = variant(TINY, "bn off", batch_norm=False)
    assert "BatchNormalization" not in layer_types(experiments.sweep_generator(no_bn))
    assert "BatchNormalization" not in layer_types(experiments.sweep_discriminator(no_bn))
    assert "Dropout" not in layer_types(experiments.sweep_discriminator(variant(TINY, "d0", dropout=0.0)))
    deep = variant(TINY, "deep", extra_blocks=1)
    assert layer_types(experiments.sweep_generator(deep)).count("Conv2D") == 1
    assert layer_types(experiments.sweep_discriminator(deep)).count("Conv2D") == 4
    k5 = experiments.sweep_generator(variant(TINY, "k5", kernel_size=5))
    assert k5.output_shape == (None, 28, 28, 1)
    assert any(getattr(layer, "kernel_size", None) == (5, 5) for layer in k5.layers)


@pytest.fixture(scope="module")
def digits():
    from gan_course import data

    return data.load_mnist("train", max_images=64, verbose=False).images, data.load_mnist("test", verbose=False).images[:100]


def test_sweep_scores_on_held_out_digits_and_resumes(digits, tmp_path, monkeypatch):
    train, test = digits
    results = tmp_path / "results.jsonl"
    configs = [TINY, variant(TINY, "label smoothing", real_label=0.9)]
    rows = experiments.run_sweep(configs[:1], train, test, results, samples_dir=tmp_path / "s", verbose=False)
    row = rows[0]
    assert row["steps"] == 2 and not row["diverged"]
    assert row["fid"] > 0 and 0 <= row["coverage"] <= 1 and 0 <= row["confident_share"] <= 1
    assert (tmp_path / "s" / f"{experiments.trial_stem(TINY)}.npy").exists()
    assert len(experiments.load_results(results)) == 1

    trained = []

    def fake_trial(cfg, *args, **kwargs):
        trained.append(cfg.name)
        return {**row, "name": cfg.name, "real_label": cfg.real_label, "fid": 1.0}

    monkeypatch.setattr(experiments, "run_trial", fake_trial)
    with results.open("a") as f:
        f.write('{"half a line')  # a run killed while writing
    rows = experiments.run_sweep(configs, train, test, results, verbose=False)
    assert trained == ["label smoothing"]  # the finished trial is not trained again
    assert [r["name"] for r in rows] == ["baseline", "label smoothing"]
    assert rows[0]["fid"] == row["fid"]
    assert json.loads(results.read_text().splitlines()[-1])["name"] == "label smoothing"


def test_duplicate_trials_are_refused(tmp_path):
    with pytest.raises(ValueError, match="identical"):
        experiments.run_sweep([TINY, TINY], np.zeros((64, 28, 28, 1)), np.zeros((10, 28, 28, 1)), tmp_path / "r.jsonl")


def test_summarise_gives_mean_and_sample_std():
    rows = [{"name": "a", "fid": 100.0}, {"name": "a", "fid": 110.0}, {"name": "a", "fid": 120.0}, {"name": "b", "fid": 5.0}]
    out = {r["name"]: r for r in experiments.summarise(rows)}
    assert out["a"]["fid_mean"] == pytest.approx(110.0) and out["a"]["fid_std"] == pytest.approx(10.0)
    assert out["b"]["n"] == 1 and np.isnan(out["b"]["fid_std"])
