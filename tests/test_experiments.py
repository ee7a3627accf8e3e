"""The sweep runner of lesson 05: configurations, networks with switches, scoring, resuming."""

import dataclasses
import functools
import importlib
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
        variant(TINY, "typo", learnig_rate=1e-3)
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


def test_sweep_scores_on_held_out_digits_and_resumes(digits, tmp_path):
    train, test = digits
    results = tmp_path / "results.jsonl"
    configs = [TINY, variant(TINY, "label smoothing", real_label=0.9)]
    trained = []

    def counting_trial(cfg, *args, **kwargs):  # the same function both times: the same code digest
        trained.append(cfg.name)
        return experiments.run_trial(cfg, *args, **kwargs)

    rows = experiments.run_sweep(configs[:1], train, test, results, samples_dir=tmp_path / "s", verbose=False,
                                 trial=counting_trial)
    row = rows[0]
    assert row["steps"] == 2 and not row["diverged"]
    assert row["fid"] > 0 and 0 <= row["coverage"] <= 1 and 0 <= row["confident_share"] <= 1
    assert (tmp_path / "s" / f"{experiments.trial_stem(TINY)}.npy").exists()
    assert len(experiments.load_results(results)) == 1

    with results.open("a") as f:
        f.write('{"half a line')  # a run killed while writing
    rows = experiments.run_sweep(configs, train, test, results, verbose=False, trial=counting_trial)
    assert trained == ["baseline", "label smoothing"]  # the finished trial is not trained again
    assert [r["name"] for r in rows] == ["baseline", "label smoothing"]
    assert rows[0] == row
    assert json.loads(results.read_text().splitlines()[-1])["name"] == "label smoothing"


LOSSES_V1 = '''
from keras import ops


def d_loss(real_scores, fake_scores):
    """Least squares, as LSGAN."""
    return ops.mean((real_scores - 1.0) ** 2) + ops.mean(fake_scores ** 2)
'''


@dataclasses.dataclass(frozen=True)
class LossConfig:
    """A configuration that carries a loss function, as a notebook's own experiment might."""

    name: str
    d_loss: object
    seed: int = 0

    def key(self):
        return json.dumps({"name": self.name, "d_loss": self.d_loss.__name__, "seed": self.seed})


def loss_trial(cfg, train, test, samples_dir=None, models_dir=None):
    """Two eager gradient steps of a linear discriminator under ``cfg.d_loss``: the loss decides the row."""
    import tensorflow as tf

    weights = tf.Variable(tf.zeros((28 * 28, 1)))
    real = tf.reshape(tf.constant(train[:32], "float32"), (32, -1))
    fake = tf.random.stateless_uniform(real.shape, (cfg.seed, 0), -1.0, 1.0)
    for _ in range(2):
        with tf.GradientTape() as tape:
            loss = cfg.d_loss(real @ weights, fake @ weights)
        weights.assign_sub(0.01 * tape.gradient(loss, weights))
    final = float(cfg.d_loss(real @ weights, fake @ weights))
    return {"name": cfg.name, "fid": final, "coverage": 1.0, "confident_share": 1.0, "train_seconds": 0.0}


def test_an_edited_loss_trains_its_row_again(digits, tmp_path, monkeypatch, capsys):
    """The cache is keyed by code too: editing a loss (here in a module file; a notebook cell works the
    same way) retrains its rows, while prose-only edits and unchanged code reuse them."""
    train, test = digits
    module = tmp_path / "edited_losses.py"
    module.write_text(LOSSES_V1)
    monkeypatch.syspath_prepend(str(tmp_path))
    import edited_losses

    results, calls = tmp_path / "rows.jsonl", []

    def counting(cfg, *args, **kwargs):
        calls.append(cfg.name)
        return loss_trial(cfg, *args, **kwargs)

    def sweep():
        return experiments.run_sweep([LossConfig("lsgan", edited_losses.d_loss)], train, test, results,
                                     verbose=False, trial=counting)

    first = sweep()
    assert calls == ["lsgan"]
    assert sweep() == first and calls == ["lsgan"]  # unchanged code: the cached row

    module.write_text(LOSSES_V1.replace("Least squares, as LSGAN.", "The LSGAN loss (Mao et al. 2017)."))
    importlib.reload(edited_losses)
    assert sweep() == first and calls == ["lsgan"]  # a docstring is not code

    module.write_text(LOSSES_V1.replace("(real_scores - 1.0) ** 2", "(real_scores - 0.9) ** 2"))  # smoothed labels
    importlib.reload(edited_losses)
    capsys.readouterr()
    again = sweep()
    assert calls == ["lsgan", "lsgan"]  # the edited loss trained again
    assert again[0]["fid"] != first[0]["fid"] and again[0]["code"] != first[0]["code"]
    assert "1 cached trial in rows.jsonl ran older code; training it again" in capsys.readouterr().out
    assert sweep() == again and len(calls) == 2  # and is cached in turn

    rows = [json.loads(line) for line in results.read_text().splitlines()]
    del rows[-1]["code"]  # a row saved before the cache knew about code
    results.write_text(json.dumps(rows[-1]) + "\n")
    sweep()
    assert len(calls) == 3  # is trained again, once


def test_the_code_digest_follows_package_imports():
    from gan_course import ablation
    from gan_course.zoo import compare

    sweep_modules, _ = experiments.code_modules(experiments.run_trial)
    assert {"gan_course.experiments", "gan_course.models", "gan_course.recipes", "gan_course.metrics.scores"} <= set(sweep_modules)
    zoo_modules, _ = experiments.code_modules(compare.run_trial)
    assert {"gan_course.zoo.vanilla", "gan_course.zoo.wasserstein", "gan_course.losses"} <= set(zoo_modules)
    assert "gan_course.teaching.slides" not in zoo_modules  # only what the trial can reach
    scorer = functools.partial(ablation.run_trial, scorer=experiments.save_trial_outputs)
    assert "gan_course.ablation" in experiments.code_modules(scorer)[0]
    assert experiments.code_digest(experiments.run_trial) == experiments.code_digest(experiments.run_trial)
    assert experiments.code_digest(experiments.run_trial) != experiments.code_digest(compare.run_trial)


def test_duplicate_trials_are_refused(tmp_path):
    with pytest.raises(ValueError, match="identical"):
        experiments.run_sweep([TINY, TINY], np.zeros((64, 28, 28, 1)), np.zeros((10, 28, 28, 1)), tmp_path / "r.jsonl")


def test_summarise_gives_mean_and_sample_std():
    rows = [{"name": "a", "fid": 100.0}, {"name": "a", "fid": 110.0}, {"name": "a", "fid": 120.0}, {"name": "b", "fid": 5.0}]
    out = {r["name"]: r for r in experiments.summarise(rows)}
    assert out["a"]["fid_mean"] == pytest.approx(110.0) and out["a"]["fid_std"] == pytest.approx(10.0)
    assert out["b"]["n"] == 1 and np.isnan(out["b"]["fid_std"])
