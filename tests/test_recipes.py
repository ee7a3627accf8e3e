"""The course's recipes: what each sets, and that build_dcgan (build_gan) builds exactly that."""

import keras
import pytest

from gan_course import models, presets, recipes
from gan_course.config import RunConfig


def test_dcgan2015_takes_the_presets_sizes_and_the_papers_settings():
    for name in presets.preset_names():
        p = presets.get_preset(name)
        r = recipes.recipe(name, "dcgan2015")
        assert (r.width, r.latent_dim, r.batch_size, r.epochs) == (p.width, p.latent_dim, p.batch_size, p.epochs)
        assert (r.learning_rate, r.beta_1, r.dropout, r.ema) == (2e-4, 0.5, 0.3, None)


def test_fast_recipe_is_narrower_and_averages_the_generator():
    r = recipes.recipe("cpu")
    assert r.name == "fast" and r.width < presets.get_preset("cpu").width
    assert r.dropout == 0.0 and r.learning_rate > 2e-4 and 0.99 <= r.ema < 1
    assert r.r1_gamma > 0 and r.r1_every > 1  # lazy R1: what lets the higher learning rate pay
    assert recipes.recipe(presets.get_preset("cpu")) == r  # a Preset works as well as its name
    assert recipes.recipe("cpu", epochs=3).epochs == 3
    assert r.mapping > 0 and r.d_hidden > 0  # the mapping layers in G, the hidden layer in D


def test_unknown_recipe_names_the_choices():
    with pytest.raises(ValueError, match="fast, dcgan2015"):
        recipes.recipe("cpu", "dcgan2016")


def test_build_dcgan_follows_the_recipe():
    r = recipes.recipe("smoke", learning_rate=3e-4, dropout=0.25)
    gan = recipes.build_dcgan(r, seed=0)
    assert gan.ema is not None and gan.ema.decay == r.ema
    assert gan.latent_dim == r.latent_dim
    assert [l.rate for l in gan.discriminator.layers if isinstance(l, keras.layers.Dropout)] == [0.25, 0.25]
    for opt in (gan.d_optimizer, gan.g_optimizer):
        assert float(keras.ops.convert_to_numpy(opt.learning_rate)) == pytest.approx(3e-4)
        assert float(opt.beta_1) == r.beta_1
    first_conv = next(l for l in gan.discriminator.layers if isinstance(l, keras.layers.Conv2D))
    assert first_conv.filters == r.width
    assert (gan.r1_gamma, gan.r1_every) == (r.r1_gamma, r.r1_every)
    assert [gan.generator.get_layer(f"mapping_{i + 1}").units for i in range(r.mapping)] == [128] * r.mapping
    assert gan.discriminator.get_layer("hidden").units == r.d_hidden
    plain = recipes.build_dcgan(recipes.recipe("smoke", "dcgan2015"), seed=0)
    assert plain.ema is None and plain.sampling_generator is plain.generator
    assert plain.r1_gamma == 0.0
    names = [l.name for l in plain.generator.layers + plain.discriminator.layers]
    assert not [n for n in names if n.startswith("mapping") or n == "hidden"]  # the paper's networks


def test_build_dcgan_builds_run_config_defaults_and_takes_shape_and_seed():
    """One builder for every entry point: ``RunConfig``'s defaults are the 2015 networks and
    Adam, and image_shape / seed passed in override the configuration's own."""
    bare = recipes.build_dcgan(RunConfig(latent_dim=8, width=4))
    reference = (models.dcgan_generator(8, (28, 28, 1), width=4), models.dcgan_discriminator((28, 28, 1), width=4))
    assert [n.count_params() for n in (bare.generator, bare.discriminator)] == [n.count_params() for n in reference]
    assert bare.ema is None and bare.r1_gamma == 0.0 and bare.real_label == 1.0
    for opt in (bare.d_optimizer, bare.g_optimizer):  # the DCGAN paper's Adam
        assert float(keras.ops.convert_to_numpy(opt.learning_rate)) == pytest.approx(2e-4) and float(opt.beta_1) == 0.5
    ttur = recipes.build_dcgan(RunConfig(latent_dim=8, width=4, g_learning_rate=1e-4, d_learning_rate=4e-4))
    assert [float(keras.ops.convert_to_numpy(o.learning_rate)) for o in (ttur.g_optimizer, ttur.d_optimizer)] == \
        pytest.approx([1e-4, 4e-4])
    cfg = RunConfig(latent_dim=8, width=4, image_shape=(32, 32, 3), seed=5)
    assert recipes.build_dcgan(cfg).generator.output_shape == (None, 32, 32, 3)
    assert recipes.build_dcgan(cfg, image_shape=(16, 16, 1)).generator.output_shape == (None, 16, 16, 1)


def test_face_recipes_are_lesson_03s_main_run_and_lesson_02s_face_run():
    """Lesson 03's parameters cell (section 7's run) and lesson 02's face run, named in one place;
    ``build_gan`` builds lesson 03's as the lesson does (``models`` against ``wgan.wgan_critic``)."""
    from gan_course import wgan
    from gan_course.config import WGANConfig

    w = recipes.recipe("cpu", "wgan-gp-faces")
    assert isinstance(w, WGANConfig) and w.image_shape == (32, 32, 3) and (w.width, w.latent_dim) == (32, 64)
    assert (w.n_critic, w.gp_weight, w.learning_rate, w.beta_1, w.beta_2, w.ema) == (5, 10.0, 1e-3, 0.0, 0.9, 0.999)
    assert w.fit_batch_size == 5 * 64 == wgan.critic_batch_size(64, 5)
    paper = recipes.recipe("gpu", "wgan-gp-faces")
    assert (paper.learning_rate, paper.ema) == (1e-4, None)  # the sources' settings at gpu
    d = recipes.recipe("cpu", "dcgan-faces")
    assert (d.kernel_size, d.learning_rate, d.beta_1, d.r1_gamma, d.r1_every, d.dropout, d.ema) == \
        (3, 2e-3, 0.5, 1.0, 4, 0.0, 0.999)
    assert d.fit_batch_size == d.batch_size == 64 and d.latent_dim == 100
    with pytest.raises(ValueError, match="n_critic"):
        WGANConfig(n_critic=0)
    gan = recipes.build_gan(recipes.recipe("smoke", "wgan-gp-faces"))
    assert isinstance(gan, wgan.WGAN) and gan.n_critic == 2 and gan.gp_weight == 10.0 and gan.run_eagerly
    assert gan.critic.count_params() == wgan.wgan_critic((16, 16, 3), width=8).count_params()
    assert gan.generator.count_params() == models.dcgan_generator(16, (16, 16, 3), width=8).count_params()
    assert float(keras.ops.convert_to_numpy(gan.c_optimizer.learning_rate)) == pytest.approx(1e-3)
    assert float(gan.g_optimizer.beta_2) == 0.9


def _parameters(lesson: str, preset: str, monkeypatch) -> dict:
    """The constants a lesson's first code cell (its parameters) sets at ``preset``."""
    import json
    from pathlib import Path

    nb = json.loads((Path(__file__).resolve().parents[1] / "notebooks" / f"{lesson}.ipynb").read_text())
    cell = next(c for c in nb["cells"] if c["cell_type"] == "code")
    monkeypatch.setenv("GAN_COURSE_PRESET", preset)
    monkeypatch.delenv("GAN_COURSE_STEP_CAP", raising=False)
    namespace: dict = {}
    exec("".join(cell["source"]), namespace)
    return namespace


@pytest.mark.parametrize("preset", ["smoke", "cpu", "gpu"])
def test_lesson_02s_face_run_is_the_dcgan_faces_recipe(preset, monkeypatch):
    """Lesson 02 types its face run's settings in its parameters cell (its networks are its own); the
    faces race trains ``recipe(preset, "dcgan-faces")`` as that run: the two must not drift apart."""
    p = _parameters("02_dcgan_image_folder", preset, monkeypatch)
    r = recipes.recipe(preset, "dcgan-faces")
    assert r.image_shape == (p["FACE_SIZE"], p["FACE_SIZE"], 3)
    assert (r.latent_dim, r.width, r.batch_size) == (p["FACE_LATENT"], p["WIDTH"], p["FACE_BATCH"])
    assert (r.learning_rate, r.r1_gamma, r.dropout, r.ema) == (p["FACE_LR"], p["FACE_R1"], p["MAIN_DROPOUT"], p["MAIN_EMA"])
    assert (r.epochs, r.max_images, r.eval_samples) == (p["FACE_EPOCHS"], p["N_TRAIN"], p["N_HOLDOUT"])


@pytest.mark.parametrize("preset", ["smoke", "cpu", "gpu"])
def test_lesson_03_reads_its_main_run_from_the_recipe(preset, monkeypatch):
    p = _parameters("03_wgan_gp_celeba", preset, monkeypatch)
    assert p["MAIN"] == recipes.recipe(preset, "wgan-gp-faces")
    assert (p["IMAGE_SIZE"], p["N_CRITIC"], p["MAIN_LR"], p["GEN_STEPS"]) == \
        (p["MAIN"].image_shape[0], p["MAIN"].n_critic, p["MAIN"].learning_rate, p["MAIN"].steps)
