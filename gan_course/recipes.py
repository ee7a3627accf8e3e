"""The two MNIST DCGAN recipes of the course: the 2015 paper's, and the faster one ``make train`` runs.

Lesson 01 builds the DCGAN as Radford, Metz & Chintala (2015) set it up (Adam with learning
rate 2e-4 and beta_1 = 0.5, dropout in D) and then trains the ``"fast"`` recipe next to it.
What the fast recipe changes, each measured on the course's 4,000 offline digits at equal
training time on a 2-core CPU (see lesson 01 and ``python -m gan_course.bench.quality``):

- **a narrower network** (width 32 instead of 64 at the cpu preset): each step costs about a
  quarter as much, so the same minutes buy about four times as many updates, and a small GAN
  on 28x28 digits needs updates more than width;
- **no dropout in D**: dropout, which the 2015 recipe adds to slow D down, also blurs D's
  feedback. With a rate of 5e-4 and no dropout the FID after 1,500 steps at width 32 halved
  (97 -> 48; a rate of 1e-3 with dropout kept gave 64);
- **the R1 penalty, applied lazily** (``losses.r1_penalty``, Mescheder et al. 2018, gamma = 1;
  ``r1_every = 4``, StyleGAN2's lazy regularisation: the penalty on every fourth D step, four
  times as heavy: in these runs it cost 2-15% more per step, where R1 at every step cost 1.7-1.9x);
- **a learning rate of 2e-3** for both players, ten times the paper's, which pays only together
  with R1 (see below);
- **Adam's beta_1 = 0** instead of the paper's 0.5 (as in the R1 paper's and StyleGAN2's setups): no
  momentum, so each step follows the current gradient of a game whose other player just moved. It
  costs nothing per step; with R1 and 2e-3 it gave FID 17.0 / 16.0 against 22.0 / 23.1 with 0.5
  after 3,750 steps (seeds 0 / 1), while without R1 beta = (0, 0.99) had not helped (see below);
- **a hidden layer in D** (``d_hidden = 256``): Flatten -> Dense(256) + LeakyReLU -> logit
  instead of Flatten -> logit. D's two convolutions see 10x10-pixel patches; without the hidden
  layer its verdict on the whole digit is one weighted sum of patch features, with it D can judge
  how the strokes fit together. Alone it took the FID after 3,750 steps from 17.0 / 16.0 to
  5.5 / 7.6 (seeds 0 / 1) and the confident share from 74-75% to 80-82%;
- **a small mapping network in G** (``mapping = 2``): two Dense(128) + LeakyReLU layers and a linear
  Dense back to 64 numbers (StyleGAN's w; Karras, Laine & Aila 2019) between z and G's first layer. A
  Gaussian z is one round blob and the digits are ten clusters; a single linear layer cannot fold one
  into the other, so samples between clusters come out as blends of two digits. With D's hidden
  layer it raised the confident share to 90.0 / 92.1% (FID 6.2 / 5.5, seeds 0 / 1);
- **an exponential moving average of G's weights** (``gan_course.ema``; Karras et al. 2018,
  Yazici et al. 2019): samples, grids and the saved generator come from the average. It costs
  one multiply-add per weight per step and helps more the longer the generator circles a good
  point (FID 35.2 against 36.9 without it after 4,500 steps of the earlier 5e-4 recipe).

The last round, which made R1 and 2e-3 the default (2 cores, ``bench.quality.CourseTrainer``,
FID at n = 1000 after about 135 s of training, seeds 0 / 1): the earlier recipe (5e-4, no R1,
65 epochs) 36.2 / 36.3, and it had stopped improving; + lazy R1 30.0 / 33.6; + lazy R1 and 1e-3
24.2 / 25.5; + lazy R1 and 2e-3 20.1 / 23.1 (18.5 / 20.6 after about 154 s).
Every run drew all ten digits. The share of samples the classifier reads with confidence >= 0.9
barely moved (68-72% in every run), so R1 and the rate sharpened what the recipe draws rather than
turning the non-digits into digits. 4e-3 with lazy R1 was no better than 2e-3 (21.6 at 136 s, seed 0).
Without R1 the same 2e-3 stalled where the earlier recipe did (seed 0: 37.0 after 2,000 steps and
36.5 after 2,500, against 28.3 and 24.9 with lazy R1): R1 is what lets the higher rate pay.

Tried and not kept (same measurement): a cosine learning-rate decay to zero (45 against 35
after 4,500 steps), DiffAugment translation (48 against 35 after 3,750 steps), the hinge loss
with spectral normalisation in D (97 after 1,500 steps at the 2015 learning rate), batch 32,
layer normalisation in D instead of batch norm (47 against 41 after 2,250 steps), and the R1
penalty with gamma = 1 at the rate of 5e-4: better at equal steps (46 against 49.5 after 1,500),
but on one core each step cost 1.7x, so at equal time it lost then (46 after 145 s against 37.5
after 3,000 steps in 168 s; the round below, on 2 cores and lazy, reverses that).
Each number is one seed on one core, FID at n = 1000 against the held-out digits; lesson 07
repeats the main comparisons over three seeds.

A later round (seed 0, 2 cores, FID after about 3,000 steps unless said) found the same plateau
from every direction: Adam with beta = (0, 0.99) 37.3, the LSGAN loss 41.5, batch 128 at 1e-3
39.9 (1,500 steps), 1e-3 at batch 64 36.4, against 38.3 for this recipe. Nearest-neighbour
up-sampling + convolution in G starts much faster (39.9 against 71.4 after 1,000 steps) but each
step costs twice as much (34.6 after 2,000 steps in 125 s). Re-estimating the averaged
generator's batch-norm statistics from its own activations (as SWA does) changed nothing
(40.5 -> 40.2): the statistics it copies from the live G fit it.
Sampling nearer the mode (the truncation trick, z scaled by psi) did not help either: the
saved generator of a full run scored 40.5 at psi = 1, 40.9 at 0.8, 46.9 at 0.6 and 68.5 at 0.5.

What broke the plateau was R1 (the 5e-4 recipe, seed 0, 2 cores, 65 epochs, FID after epochs
20 / 40 / 65 with the training seconds, through ``fit`` with a grid per epoch): gamma = 1 at
every step 47.0 (75 s) / 35.4 (153 s) / 28.8 (256 s); lazy, every fourth step, 51.1 (52 s) /
34.1 (116 s) / 26.8 (195 s); R1 on 16 of the 64 real images at every step 28.8 (213 s); the
recipe without R1 ended near 40.5 after about 138 s. DiffAugment still lost here: translation
50.7, translation + cutout 53.1 after 65 epochs. Gamma = 2 instead of 1 (lazy, 5e-4) gave 28.1
against 30.0 at 137 s, within a seed's spread.

Adam's beta_1 = 0 came last (2 cores, ``bench.quality.CourseTrainer`` runs two at a time on one core
each, FID after 3,750 steps): 17.0 / 16.0 / 15.8 on seeds 0 / 1 / 2 against 22.0 / 23.1 with beta_1 = 0.5
(seeds 0 / 1); a rate of 3e-3 with it gave 15.9 (seed 0), within the seed spread, so 2e-3 stays. The confident
share stayed at 74-75%. ``make train`` then: 114.3 s, FID 17.5, coverage 1.0, 74.7% confident, where the same
command with beta_1 = 0.5 gave FID 25.3, coverage 0.9, 69.0% (107.9 s) and the 2015 recipe 75.4 (114.7 s),
all on the same machine the same afternoon.

The two layers came last of all (same probes, FID after 3,750 steps, seeds 0 / 1): D's hidden
layer alone 5.5 / 7.6 with 82 / 80% confident; G's mapping alone 15.5 / 84% (seed 0); both 6.2 / 5.5
with 90 / 92%, against 17.0 / 16.0 and 74-75% without either. The layers are small next to the
convolutions (a 64x128, 128x128 and 128x64 Dense in G; a 3136x256 Dense in D, which holds 0.8 M of
D's 0.84 M weights but is one matrix product per step). ``make train``
on the same machine, back to back: this recipe 107.6 s of training, FID 7.46, coverage 1.0, 91.2%
confident; the 2015 recipe 108.8 s, FID 75.4, coverage 0.9, 52.5%. With ``--seed 1`` / ``--seed 2``
this recipe gave FID 10.24 / 6.06, coverage 1.0, 92.3 / 93.2% confident (108.5 / 104.5 s). Lesson 07 repeated it over three seeds at 1,000 updates: 15.3 +- 7.2 against
35.4 +- 1.5 without the two layers, beyond the spread, 83% confident against 66%; on lesson 02's bricks they
were not shown to help (43.1 +- 9.6 against 37.7 +- 3.0, ranges overlapping). Tried and not kept: the mapping
without the linear w layer (one seed in three started slowly: FID 17.2 after 3,750 steps), a hidden
layer of 128 with the mapping (one run collapsed to blank images), an InfoGAN categorical code
(FID 23.7, 73% confident) and keeping only the samples D rates highest (FID 37.5, coverage 0.8: D's
score barely tracks sample quality).

The ``cpu`` preset's 60 epochs (about 3,700 steps) take about as long through
``python -m gan_course train`` as the earlier recipe's 65 epochs without R1.

``recipe(preset, name)`` gives the numbers; ``build_dcgan(recipe)`` the compiled model.
"""

from __future__ import annotations

import dataclasses

from gan_course.presets import get_preset

__all__ = ["Recipe", "RECIPES", "recipe", "build_dcgan"]

RECIPES = ("fast", "dcgan2015")


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Everything that differs between two ways of training the MNIST DCGAN."""

    name: str
    width: int  # base filter count (models.dcgan_generator / dcgan_discriminator)
    latent_dim: int
    batch_size: int
    epochs: int
    learning_rate: float  # both players, Adam
    beta_1: float
    dropout: float  # in D
    ema: float | None  # decay of the generator's moving average; None: off
    r1_gamma: float = 0.0  # weight of the R1 penalty on real images (losses.r1_penalty); 0: off
    r1_every: int = 1  # lazy R1: penalise every r1_every-th D step, r1_every times as hard
    mapping: int = 0  # Dense + LeakyReLU layers on z before G's first layer (models.dcgan_generator); 0: none
    d_hidden: int = 0  # size of a hidden Dense layer before D's logit (models.dcgan_discriminator); 0: none

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def replace(self, **changes) -> "Recipe":
        return dataclasses.replace(self, **changes)


def recipe(preset=None, name: str = "fast", **changes) -> Recipe:
    """The recipe ``name`` (``"fast"``, the default, or ``"dcgan2015"``) sized for ``preset``.

    ``"dcgan2015"`` takes the preset's sizes as they are; ``"fast"`` is narrower and trains for
    more epochs in about the same time. ``changes`` override single fields, e.g. ``epochs=5``.
    """
    preset = get_preset(preset) if preset is None or isinstance(preset, str) else preset
    if name == "dcgan2015":
        base = Recipe(name, preset.width, preset.latent_dim, preset.batch_size, preset.epochs,
                      learning_rate=2e-4, beta_1=0.5, dropout=0.3, ema=None)
    elif name == "fast":
        base = Recipe(name, width=preset.pick(smoke=16, cpu=32, gpu=64), latent_dim=preset.latent_dim,
                      batch_size=preset.batch_size, epochs=preset.steps(smoke=2, cpu=60, gpu=50),
                      learning_rate=2e-3, beta_1=0.0, dropout=0.0, ema=0.999, r1_gamma=1.0, r1_every=4,
                      mapping=2, d_hidden=256)
    else:
        raise ValueError(f"Unknown recipe {name!r}; choose one of {', '.join(RECIPES)}.")
    return base.replace(**changes)


def build_dcgan(r: Recipe, image_shape=(28, 28, 1), seed: int | None = 0, precision: str = "off"):
    """A compiled ``training.DCGAN`` built and set up as recipe ``r`` says (stock Keras layers).

    ``precision`` is a preset's setting (``"off"``, ``"auto"`` or a Keras policy name) for the two
    networks; see ``gan_course.precision``. Call it inside ``strategy.scope()`` to train on
    several devices.
    """
    import keras

    from gan_course import models, training
    from gan_course.precision import precision as dtype_policy

    with dtype_policy(precision):  # models keep the policy they are built with
        generator = models.dcgan_generator(r.latent_dim, image_shape, width=r.width, mapping=r.mapping)
        discriminator = models.dcgan_discriminator(image_shape, width=r.width, dropout=r.dropout, hidden=r.d_hidden)
    gan = training.DCGAN(generator, discriminator, seed=seed, ema=r.ema, r1_gamma=r.r1_gamma, r1_every=r.r1_every)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(r.learning_rate, beta_1=r.beta_1),
        g_optimizer=keras.optimizers.Adam(r.learning_rate, beta_1=r.beta_1),
    )
    return gan
