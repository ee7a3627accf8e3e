"""Lesson 07's ablation: the config's cache key, a real tiny trial per stabiliser (MNIST
classifier and a brick-style attribute scorer), and the attribute scorer itself (seconds)."""

import dataclasses
import functools

import numpy as np
import pytest

from gan_course import ablation, config, experiments, metrics, recipes
from gan_course.ablation import AblationConfig

TINY = dict(steps=2, batch_size=4, latent_dim=8, width=4, eval_samples=20, eager=True)


def test_config_adds_only_its_own_fields_and_bad_values_fail():
    base = AblationConfig("base", **TINY)
    # The run's settings are config.RunConfig's (tests/test_config.py); the ablation adds two labels.
    assert set(config.field_names(AblationConfig)) - set(config.field_names()) == {"dataset", "scorer"}
    keys = {base.key()} | {base.replace(dataset="lego").key(), base.replace(scorer="brick-classifier abc").key()}
    assert len(keys) == 3
    assert ablation.trial_stem(base) != ablation.trial_stem(base.replace("base", steps=3))
    assert AblationConfig("a", steps=5, image_shape=[28, 28, 1]).key() == AblationConfig("a", steps=5).key()
    with pytest.raises(ValueError, match="needs a budget"):
        AblationConfig("no budget")
    with pytest.raises(ValueError, match="invalid values"):
        AblationConfig("bad", steps=5, dropout=1.0)
    with pytest.raises(ValueError, match="r1_every"):
        AblationConfig("bad", steps=5, r1_every=0)
    with pytest.raises(ValueError, match="d_hidden"):
        AblationConfig("bad", steps=5, d_hidden=2.5)
    with pytest.raises(ValueError, match="Unknown DiffAugment policy"):
        AblationConfig("bad", steps=5, augment="translate")
    with pytest.raises(ValueError, match="no field"):
        base.replace("typo", learnig_rate=1e-3)


def test_build_dcgan_switches_each_stabiliser_on():
    cfg = AblationConfig("all", g_learning_rate=1e-4, d_learning_rate=4e-4, dropout=0.0, ema=0.99,
                         augment="translation,cutout", spectral_norm=True, r1_gamma=0.5, r1_every=4, mapping=1,
                         d_hidden=8, **TINY)
    gan = recipes.build_dcgan(cfg)
    assert gan.ema is not None and gan.sampling_generator is gan.ema.average
    assert gan.augment == "translation,cutout" and gan.r1_gamma == 0.5 and gan.r1_every == 4
    assert any("spectral_normalization" in layer.name for layer in gan.discriminator.layers)
    assert gan.generator.get_layer("mapping_1").units == 128
    inner = [getattr(layer, "layer", layer) for layer in gan.discriminator.layers]  # unwrap spectral normalisation
    assert [layer.units for layer in inner if layer.name == "hidden"] == [8]
    assert float(gan.d_optimizer.learning_rate) == pytest.approx(4e-4)
    assert float(gan.g_optimizer.learning_rate) == pytest.approx(1e-4)
    plain = recipes.build_dcgan(AblationConfig("plain", **TINY))
    assert plain.ema is None and plain.augment is None and plain.r1_gamma == 0.0 and plain.r1_every == 1
    small = recipes.build_dcgan(AblationConfig("16px", image_shape=(16, 16, 1), beta_2=0.9, **TINY))
    assert small.generator.output_shape == (None, 16, 16, 1) and small.discriminator.input_shape == (None, 16, 16, 1)
    assert float(small.d_optimizer.beta_2) == pytest.approx(0.9) and float(small.g_optimizer.beta_2) == pytest.approx(0.9)


def test_a_real_tiny_mnist_trial_saves_row_samples_and_model(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (40, 28, 28, 1)).astype("float32")
    cfg = AblationConfig("fast + R1", ema=0.999, r1_gamma=1.0, augment="translation", dropout=0.0, **TINY)
    row = ablation.run_trial(cfg, images, images[:30], samples_dir=tmp_path / "s", models_dir=tmp_path / "m")
    assert row["g_updates"] == 2 and row["real_images_seen"] == 8 and not row["diverged"]
    assert row["fid"] > 0 and 0 <= row["coverage"] <= 1 and row["d_grad_sq"] >= 0 and row["n_samples"] == 20
    stem = ablation.trial_stem(cfg)
    assert np.load(tmp_path / "s" / f"{stem}.npy").shape == (ablation.GRID_SIZE, 28, 28, 1)
    assert (tmp_path / "m" / f"{stem}_generator.keras").is_file()


def test_sweep_with_an_attribute_scorer_caches_rows(tmp_path):
    rng = np.random.default_rng(1)
    # Two "classes" a classifier can tell apart: dark and bright 16x16 images.
    labels = np.arange(64) % 2
    images = (np.where(labels[:, None, None, None] == 1, 0.6, -0.6)
              + 0.2 * rng.standard_normal((64, 16, 16, 1))).astype("float32")
    net = metrics.train_attribute_classifier(images[:48], labels[:48], 2, epochs=3, seed=0)
    scorer = metrics.AttributeScorer(net, images[48:])
    assert scorer.accuracy(images[48:], labels[48:]) > 0.9
    real = scorer(images[:48])
    assert real["coverage"] == 1.0 and real["fid"] < 1.0 and real["n_real"] == 16
    one_class = scorer(images[:48][labels[:48] == 1])
    assert one_class["coverage"] == 0.5 and one_class["entropy"] == pytest.approx(0.0, abs=1e-9)
    assert len(scorer.digest) == 10 and scorer.digest == metrics.AttributeScorer(net, images[48:]).digest

    configs = [AblationConfig(name, seed=s, dataset="toy", image_shape=(16, 16, 1), scorer=f"attr {scorer.digest}",
                              **dict(TINY, eval_samples=16), **changes)
               for name, changes in [("base", {}), ("sn", {"spectral_norm": True})] for s in (0, 1)]
    trial = functools.partial(ablation.run_trial, scorer=scorer.score_generator)
    results = tmp_path / "rows.jsonl"
    rows = experiments.run_sweep(configs, images[:48], images[48:], results, verbose=False, trial=trial)
    assert [r["name"] for r in rows] == ["base", "base", "sn", "sn"] and all(r["n_samples"] == 16 for r in rows)
    lines = results.read_text()
    again = experiments.run_sweep(configs, images[:48], images[48:], results, verbose=False, trial=trial)
    assert again == rows and results.read_text() == lines  # everything came from the cache (same configs, same code)
