"""One run configuration (gan_course.config): one default per setting, overrides merged and checked
in one place, and every other configuration of the course built from it, never beside it."""

import dataclasses

import pytest

from gan_course import ablation, config, experiments, presets, recipes
from gan_course.config import RunConfig
from gan_course.zoo import compare

SUBCLASSES = {experiments.TrialConfig: {"factor"}, ablation.AblationConfig: {"dataset", "scorer"},
              compare.ZooConfig: {"backbone", "norm", "n_critic"}}
LABELS = {"name"}  # a subclass may give its rows another label; no setting of the run may differ


def test_every_configuration_extends_the_one_run_configuration_with_only_its_own_fields():
    base = {f.name: f for f in dataclasses.fields(RunConfig)}
    for cls, added in SUBCLASSES.items():
        assert issubclass(cls, RunConfig)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        assert set(fields) - set(base) == added, cls.__name__
        redefined = {n for n in base if n not in LABELS and (fields[n].default, fields[n].default_factory)
                     != (base[n].default, base[n].default_factory)}
        assert not redefined, f"{cls.__name__} gives {sorted(redefined)} a second default"
    assert isinstance(recipes.recipe("smoke"), RunConfig) and isinstance(recipes.recipe("smoke", "dcgan2015"), RunConfig)


def test_key_changes_with_every_setting():
    base = RunConfig()
    other = {"name": "x", "image_shape": (32, 32, 3), "latent_dim": 8, "width": 8, "kernel_size": 3,
             "extra_blocks": 1, "batch_norm": False, "dropout": 0.0, "mapping": 2, "d_hidden": 16,
             "spectral_norm": True, "learning_rate": 1e-3, "g_learning_rate": 1e-4, "d_learning_rate": 4e-4,
             "beta_1": 0.0, "beta_2": 0.99, "real_label": 0.9, "ema": 0.999, "augment": "translation",
             "r1_gamma": 4.0, "r1_every": 4, "batch_size": 32, "epochs": 3, "steps": 100, "max_images": 64,
             "eval_samples": 50, "seed": 1, "eager": True}
    assert set(other) == set(config.field_names())  # a new field must be added here, and to the key
    keys = {base.key()} | {base.replace(**{k: v}).key() for k, v in other.items()}
    assert len(keys) == 1 + len(other)
    assert RunConfig(image_shape=[28, 28, 1]).key() == base.key()  # a list (from JSON) reads as the tuple


def test_overrides_are_checked_in_one_place():
    cfg = RunConfig()
    with pytest.raises(ValueError, match=r"no field\(s\) \['learnig_rate'\].*Valid fields: name, image_shape"):
        cfg.replace(learnig_rate=1e-3)
    for bad in [dict(dropout=1.0), dict(r1_every=0), dict(mapping=-1), dict(batch_size=1), dict(learning_rate=0),
                dict(ema=1.0), dict(steps=0), dict(width=2.5)]:
        with pytest.raises(ValueError, match="invalid values"):
            cfg.replace(**bad)
    with pytest.raises(ValueError, match="Unknown DiffAugment policy"):
        cfg.replace(augment="translate")
    assert cfg.replace("ttur", g_learning_rate=1e-4).name == "ttur"
    assert (cfg.g_lr, cfg.d_lr) == (2e-4, 2e-4) and (cfg.replace(d_learning_rate=8e-4).d_lr) == 8e-4


def test_presets_size_a_configuration_and_recipes_are_named_configurations():
    for name in presets.preset_names():
        p = presets.get_preset(name)
        cfg = config.from_preset(p)
        assert (cfg.latent_dim, cfg.width, cfg.batch_size, cfg.epochs, cfg.max_images, cfg.eval_samples) == \
            (p.latent_dim, p.width, p.batch_size, p.epochs, p.max_images, p.eval_samples)
        # The 2015 recipe is the defaults at the preset's sizes: nothing else of it is declared twice.
        assert recipes.recipe(p, "dcgan2015") == cfg.replace("dcgan2015")
    trial = config.from_preset(presets.get_preset("smoke"), experiments.TrialConfig, factor="width", width=8)
    assert isinstance(trial, experiments.TrialConfig) and trial.width == 8 and trial.factor == "width"
