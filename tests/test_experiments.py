"""The sweep runner of lesson 05: configurations, networks with switches, scoring, resuming."""

import json

import keras
import numpy as np
import pytest

from gan_course import experiments, models, recipes
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


def _networks(cfg):
    gan = recipes.build_dcgan(cfg)  # what run_trial trains
    return gan.generator, gan.discriminator


def test_default_networks_are_lesson_01s():
    g, d = _networks(TrialConfig(width=8, latent_dim=16))
    for built, lesson_01 in ((g, models.dcgan_generator(16, (28, 28, 1), width=8)),
                             (d, models.dcgan_discriminator((28, 28, 1), width=8))):
        assert built.count_params() == lesson_01.count_params()
        assert [type(l).__name__ for l in built.layers] == [type(l).__name__ for l in lesson_01.layers]


def test_switches_change_the_networks():
    def layer_types(model):
        return [type(layer).__name__ for layer in model.layers]

    for net in _networks(variant(TINY, "bn off", batch_norm=False)):
        assert "BatchNormalization" not in layer_types(net)
    assert "Dropout" not in layer_types(_networks(variant(TINY, "d0", dropout=0.0))[1])
    g, d = _networks(variant(TINY, "deep", extra_blocks=1))
    assert layer_types(g).count("Conv2D") == 1
    assert layer_types(d).count("Conv2D") == 4
    k5 = _networks(variant(TINY, "k5", kernel_size=5))[0]
    assert k5.output_shape == (None, 28, 28, 1)
    assert any(getattr(layer, "kernel_size", None) == (5, 5) for layer in k5.layers)


def test_trial_settings_reach_the_gan_and_batch_norm_syncs_under_a_strategy():
    import tensorflow as tf

    cfg = variant(TINY, "all", real_label=0.9, g_learning_rate=1e-4, d_learning_rate=8e-4, beta_1=0.0, seed=3,
                  extra_blocks=1)
    with tf.distribute.OneDeviceStrategy("/cpu:0").scope():
        gan = recipes.build_dcgan(cfg)
    assert gan.real_label == 0.9 and gan.latent_dim == TINY.latent_dim
    assert float(gan.d_optimizer.learning_rate) == pytest.approx(8e-4)
    assert float(gan.g_optimizer.learning_rate) == pytest.approx(1e-4) and float(gan.g_optimizer.beta_1) == 0.0
    norms = [l for net in (gan.generator, gan.discriminator) for l in net.layers
             if isinstance(l, keras.layers.BatchNormalization)]
    assert len(norms) == 6 and all(n.synchronized for n in norms)  # models.batch_norm, as in every DCGAN


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
