"""The two MNIST DCGAN recipes of the course: the 2015 paper's, and the faster one ``make train`` runs.

Lesson 01 builds the DCGAN as Radford, Metz & Chintala set it up ("Unsupervised Representation
Learning with Deep Convolutional GANs", 2015, arXiv:1511.06434: Adam with learning rate 2e-4 and
beta_1 = 0.5; the course adds dropout in D) and then trains the ``"fast"`` recipe next to it. Each
change of the fast recipe was measured on the course's offline digits on a CPU and kept because it
lowered the classifier FID: the first ones (the width, no dropout, the EMA, lazy R1 and the 2e-3 rate)
at equal training time, beta_1 = 0, D's hidden layer and G's mapping network at equal steps (3,750),
and R1's gamma on 620-step probes over six seeds; the runs and their numbers are recorded in
``docs/recipes_log.md``, and lessons 01 and 07 print their own. What the fast recipe changes, and why:

- **a narrower network** (width 32 instead of 64 at the cpu preset): halving the width quarters
  the convolutions' work, so the same minutes buy more updates, and a small GAN on 28x28 digits
  needs updates more than width;
- **no dropout in D**: dropout, which the 2015 recipe adds to slow D down, also blurs D's feedback;
- **the R1 penalty, applied lazily** (``losses.r1_penalty``; Mescheder, Geiger & Nowozin 2018,
  "Which Training Methods for GANs do actually Converge?", arXiv:1801.04406; gamma = 4 on MNIST,
  chosen over seeds as ``docs/recipes_log.md`` records):
  applying it lazily is StyleGAN2's idea (Karras et al. 2019, arXiv:1912.04958, sec. 3.1), which
  adds the penalty on every 16th minibatch; the fast recipe's ``r1_every = 4`` adds it on every
  fourth D step, four times as heavy, for a fraction of its cost;
- **a learning rate of 2e-3** for both players, ten times the paper's, which pays only together
  with R1 (without it the same rate stalled where the paper's did);
- **Adam's beta_1 = 0** instead of the paper's 0.5 (as in the R1 paper's and StyleGAN2's setups): no
  momentum, so each step follows the current gradient of a game whose other player just moved;
- **a hidden layer in D** (``d_hidden = 256``): Flatten -> Dense(256) + LeakyReLU -> logit instead
  of Flatten -> logit. D's two convolutions see 10x10-pixel patches; without the hidden layer its
  verdict on the whole digit is one weighted sum of patch features, with it D can judge how the
  strokes fit together;
- **a small mapping network in G** (``mapping = 2``): two Dense(128) + LeakyReLU layers and a
  linear Dense back to ``latent_dim`` numbers (64 at the cpu preset; StyleGAN's w; Karras, Laine
  & Aila 2018, arXiv:1812.04948) between z and G's first layer. A Gaussian z is one round blob
  and the digits are ten clusters; a single linear layer cannot fold one into the other, so
  samples between clusters come out as blends of two digits;
- **an exponential moving average of G's weights** (``gan_course.ema``; Karras et al. 2017,
  arXiv:1710.10196; Yazici et al. 2018, arXiv:1806.04498): samples, grids and the saved generator
  come from the average. It costs one multiply-add per weight per step and helps more the longer
  the generator circles a good point.

``docs/recipes_log.md`` also records what was tried and not kept: a learning-rate decay,
DiffAugment, the hinge and LSGAN losses, spectral and layer normalisation in D, up-sampling +
convolution in G, other batch sizes and rates, truncation, and variants of the two layers.

``recipe(preset, name)`` gives the numbers (a ``config.RunConfig``); ``build_dcgan(recipe)`` the compiled model.

The face lessons' main runs are named here too (``FACE_RECIPES``), for the code that trains them
outside their notebooks (``python -m gan_course.bench.quality --race faces``):

- ``"wgan-gp-faces"``: lesson 03's main run (``notebooks/03_wgan_gp_celeba.ipynb``, section 7), a
  ``config.WGANConfig``: ``models.dcgan_generator`` against ``wgan.wgan_critic``, lambda 10 as in the
  paper (``WGANConfig``'s default), n_critic the paper's 5 at cpu and gpu (2 at smoke, to stay short);
  at smoke and cpu the lesson's 10x Adam rate (1e-3) and a moving average of G, at gpu the paper's 1e-4.
  ``build_wgan`` builds it exactly as the lesson does.
- ``"dcgan-faces"``: the settings of lesson 02's face run (``notebooks/02_dcgan_image_folder.ipynb``,
  section 5): Adam 2e-3 with beta_1 0.5, lazy R1 (gamma 1, every 4th D step), no dropout and a moving
  average at smoke and cpu; the lab's Adam 1e-4 and dropout 0.3 at gpu; 3x3 kernels. Lesson 02
  draws its face networks inline (G from an 8x8 map with LeakyReLU, D without batch norm); the
  recipe trains the package's DCGAN (``models``) with those settings, the one builder the package has.

``build_gan(recipe)`` builds either kind.
"""

from __future__ import annotations

from gan_course.config import RunConfig, WGANConfig, from_preset
from gan_course.presets import get_preset

__all__ = ["RECIPES", "FACE_RECIPES", "recipe", "build_dcgan", "build_wgan", "build_gan"]

RECIPES = ("fast", "dcgan2015")  # MNIST (python -m gan_course train --recipe)
FACE_RECIPES = ("wgan-gp-faces", "dcgan-faces")  # lessons 03 and 02 on faces, 32x32 RGB at cpu


def recipe(preset=None, name: str = "fast", **changes) -> RunConfig:
    """The recipe ``name`` (``"fast"``, the default, or ``"dcgan2015"``) sized for ``preset``: a
    ``config.RunConfig`` whose sizes come from the preset.

    ``"dcgan2015"`` is ``RunConfig``'s defaults at the preset's sizes; ``"fast"`` is narrower and
    trains for more epochs in about the same time. ``FACE_RECIPES`` are the face lessons' main runs
    at their own sizes (see the module's docstring). ``changes`` override single fields, e.g.
    ``epochs=5`` (a misspelt field is an error).
    """
    preset = get_preset(preset) if preset is None or isinstance(preset, str) else preset
    lesson_fast = preset.pick(smoke=True, cpu=True, gpu=False)  # the face lessons' FAST: the sources' settings at gpu
    if name == "wgan-gp-faces":  # lesson 03 takes its main run from here (its parameters cell)
        size = preset.pick(smoke=16, cpu=32, gpu=64)
        base = from_preset(
            preset, WGANConfig, name=name, image_shape=(size, size, 3), width=preset.pick(smoke=8, cpu=32, gpu=64),
            latent_dim=preset.pick(smoke=16, cpu=64, gpu=128), batch_size=preset.pick(smoke=16, cpu=64, gpu=64),
            n_critic=preset.pick(smoke=2, cpu=5, gpu=5), learning_rate=1e-3 if lesson_fast else 1e-4,
            ema=0.999 if lesson_fast else None, steps=preset.steps(smoke=2, cpu=900, gpu=20_000),
            max_images=preset.count(smoke=96, cpu=2500, gpu=55_000),
            eval_samples=preset.count(smoke=64, cpu=500, gpu=5000), eager=preset.few_steps)
    elif name == "dcgan-faces":  # lesson 02's parameters cell, its face run
        size = preset.pick(smoke=16, cpu=32, gpu=100)
        base = from_preset(
            preset, name=name, image_shape=(size, size, 3), kernel_size=3, width=preset.pick(smoke=8, cpu=32, gpu=64),
            latent_dim=preset.pick(smoke=32, cpu=100, gpu=200), batch_size=preset.pick(smoke=32, cpu=64, gpu=16),
            learning_rate=2e-3 if lesson_fast else 1e-4, beta_1=0.5, dropout=0.0 if lesson_fast else 0.3,
            ema=0.999 if lesson_fast else None, r1_gamma=1.0 if lesson_fast else 0.0, r1_every=4,
            epochs=preset.steps(smoke=1, cpu=40, gpu=100), max_images=preset.count(smoke=256, cpu=2500, gpu=20_000),
            eval_samples=preset.count(smoke=96, cpu=500, gpu=2000), eager=preset.few_steps)
    elif name == "dcgan2015":
        base = from_preset(preset, name=name)
    elif name == "fast":
        base = from_preset(preset, name=name, width=preset.pick(smoke=16, cpu=32, gpu=64),
                           epochs=preset.steps(smoke=2, cpu=60, gpu=50), learning_rate=2e-3, beta_1=0.0,
                           dropout=0.0, ema=0.999, r1_gamma=4.0, r1_every=4, mapping=2, d_hidden=256)
    else:
        raise ValueError(f"Unknown recipe {name!r}; choose one of {', '.join(RECIPES + FACE_RECIPES)}.")
    return base.replace(**changes)


def build_dcgan(cfg: RunConfig, image_shape=None, seed=None, precision: str = "off"):
    """The compiled ``training.DCGAN`` a ``config.RunConfig`` describes: the one place the course
    turns a configuration into a DCGAN (``make train``, the recipes, lesson 05's sweeps and
    lesson 07's ablation all build through it), with Keras' stock layers and Adam for each player.

    ``image_shape`` and ``seed`` default to the configuration's own. ``precision`` is a preset's
    setting (``"off"``, ``"auto"`` or a Keras policy name) for the two networks; see
    ``gan_course.precision``. Call it inside ``strategy.scope()`` to train on several devices.
    """
    import keras

    from gan_course import models, training
    from gan_course.precision import precision as dtype_policy

    image_shape = cfg.image_shape if image_shape is None else image_shape
    seed = cfg.seed if seed is None else seed
    shared = dict(width=cfg.width, kernel_size=cfg.kernel_size, use_batch_norm=cfg.batch_norm,
                  extra_blocks=cfg.extra_blocks)
    with dtype_policy(precision):  # models keep the policy they are built with
        generator = models.dcgan_generator(cfg.latent_dim, image_shape, mapping=cfg.mapping, **shared)
        discriminator = models.dcgan_discriminator(image_shape, dropout=cfg.dropout, spectral_norm=cfg.spectral_norm,
                                                   hidden=cfg.d_hidden, **shared)
    gan = training.DCGAN(generator, discriminator, seed=seed, real_label=cfg.real_label, ema=cfg.ema,
                         augment=cfg.augment, r1_gamma=cfg.r1_gamma, r1_every=cfg.r1_every)
    betas = dict(beta_1=cfg.beta_1, beta_2=cfg.beta_2)
    gan.compile(d_optimizer=keras.optimizers.Adam(cfg.d_lr, **betas),
                g_optimizer=keras.optimizers.Adam(cfg.g_lr, **betas))
    return gan


def build_wgan(cfg: WGANConfig, image_shape=None, seed=None):
    """The compiled ``wgan.WGAN`` a ``config.WGANConfig`` describes, as lesson 03 builds it:
    ``models.dcgan_generator`` against ``wgan.wgan_critic``, Adam for each player. Feed it batches
    of ``cfg.fit_batch_size`` images (``n_critic`` critic batches)."""
    import keras

    from gan_course import models, wgan

    image_shape = cfg.image_shape if image_shape is None else image_shape
    seed = cfg.seed if seed is None else seed
    generator = models.dcgan_generator(cfg.latent_dim, image_shape, width=cfg.width, kernel_size=cfg.kernel_size,
                                       mapping=cfg.mapping, use_batch_norm=cfg.batch_norm,
                                       extra_blocks=cfg.extra_blocks)
    critic = wgan.wgan_critic(image_shape, width=cfg.width, kernel_size=cfg.kernel_size,
                              spectral_norm=cfg.spectral_norm)
    gan = wgan.WGAN(generator, critic, n_critic=cfg.n_critic, gp_weight=cfg.gp_weight, seed=seed, ema=cfg.ema,
                    augment=cfg.augment)
    betas = dict(beta_1=cfg.beta_1, beta_2=cfg.beta_2)
    gan.compile(c_optimizer=keras.optimizers.Adam(cfg.d_lr, **betas),
                g_optimizer=keras.optimizers.Adam(cfg.g_lr, **betas))
    return gan


def build_gan(cfg: RunConfig, image_shape=None, seed=None, precision: str = "off"):
    """``build_wgan`` for a ``config.WGANConfig``, ``build_dcgan`` for any other ``RunConfig``;
    ``gan.run_eagerly`` is the configuration's ``eager``."""
    if isinstance(cfg, WGANConfig):
        if precision != "off":
            raise ValueError("build_gan: the WGAN is built in float32 only (precision='off').")
        gan = build_wgan(cfg, image_shape, seed)
    else:
        gan = build_dcgan(cfg, image_shape, seed, precision)
    gan.run_eagerly = cfg.eager
    return gan
