"""One configuration for one GAN training run: every setting, one default each (minGPT's style).

``RunConfig`` holds what decides a DCGAN run of the course: the networks, the optimisers, the
stabilisers, the budget, the evaluation and the seed. Its defaults are the 2015 DCGAN recipe
(Radford, Metz & Chintala, arXiv:1511.06434: Adam 2e-4, beta_1 0.5; the course adds dropout 0.3
in D) at the course's small width for 28x28 digits. Everything else that describes a run is built
from it, never declared a second time:

- a **preset** (``gan_course.presets``) says how big a lesson runs; ``from_preset`` copies its
  sizes into a ``RunConfig``;
- a **recipe** (``gan_course.recipes``) is a named ``RunConfig``: ``recipes.recipe(preset, "fast")``;
- the **sweep**, **ablation** and **zoo** configurations (``experiments.TrialConfig``,
  ``ablation.AblationConfig``, ``zoo.compare.ZooConfig``) are subclasses that add only their own
  fields (the factor a sweep varies, the yardstick of an ablation, the zoo's variant and backbone);
- a **WGAN-GP** run (lesson 03) is a ``WGANConfig``: a ``RunConfig`` plus the critic's schedule
  and penalty, with the WGAN-GP paper's Adam as its defaults.

Overrides are merged in one place, ``replace``: an unknown field is an error that lists the valid
ones (a typo would otherwise silently run the default), and every value is checked when the
configuration is built. ``key()`` is the configuration's identity for caches: every field, sorted.
``recipes.build_dcgan(cfg)`` turns a configuration into a compiled GAN.
"""

from __future__ import annotations

import dataclasses
import json

__all__ = ["RunConfig", "WGANConfig", "from_preset", "field_names"]


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Every setting of one DCGAN training run. Defaults: the 2015 recipe's optimiser and dropout at
    width 32 on 28x28 digits (the ``dcgan2015`` recipe takes the preset's width)."""

    name: str = "dcgan2015"  # a label: the recipe's name or a sweep's row
    # --- networks (models.dcgan_generator / models.dcgan_discriminator)
    image_shape: tuple = (28, 28, 1)
    latent_dim: int = 64
    width: int = 32  # base filter count: G's last hidden block, D's first block
    kernel_size: int = 4
    extra_blocks: int = 0  # stride-1 conv blocks after each resolution step (depth)
    batch_norm: bool = True  # in both G and D, where DCGAN puts it
    dropout: float = 0.3  # in D only
    mapping: int = 0  # Dense + LeakyReLU layers on z before G's first layer; 0: none
    d_hidden: int = 0  # a hidden Dense layer of this size before D's logit; 0: none
    spectral_norm: bool = False  # in D (which then has no batch norm)
    # --- optimisation (Adam for each player)
    learning_rate: float = 2e-4  # both players, unless one of the two below is set
    g_learning_rate: float | None = None  # G's own rate (TTUR); None: learning_rate
    d_learning_rate: float | None = None  # D's own rate (TTUR); None: learning_rate
    beta_1: float = 0.5
    beta_2: float = 0.999
    # --- stabilisers
    real_label: float = 1.0  # 0.9: one-sided label smoothing
    ema: float | None = None  # decay of the generator's moving average (gan_course.ema); None: off
    augment: str | None = None  # DiffAugment policy, e.g. "translation,cutout"; None: off
    r1_gamma: float = 0.0  # weight of the R1 penalty on real images (losses.r1_penalty); 0: off
    r1_every: int = 1  # lazy R1: the penalty on every r1_every-th D step, r1_every times as heavy
    # --- budget and data
    batch_size: int = 64
    epochs: int = 8  # passes over the training images (when steps is None)
    steps: int | None = None  # a budget in generator updates instead of passes; None: epochs decide
    max_images: int | None = None  # None: every training image
    # --- evaluation and reproducibility
    eval_samples: int = 1000  # generated images scored
    seed: int = 0
    eager: bool = False  # run without building a graph (faster for a handful of steps)

    def __post_init__(self):
        object.__setattr__(self, "image_shape", tuple(int(s) for s in self.image_shape))
        whole = lambda v, low: int(v) == v and v >= low  # noqa: E731
        checks = {
            "latent_dim": whole(self.latent_dim, 1), "width": whole(self.width, 1),
            "kernel_size": whole(self.kernel_size, 1), "extra_blocks": whole(self.extra_blocks, 0),
            "dropout": 0.0 <= self.dropout < 1.0, "mapping": whole(self.mapping, 0),
            "d_hidden": whole(self.d_hidden, 0), "learning_rate": self.learning_rate > 0,
            "g_learning_rate": self.g_learning_rate is None or self.g_learning_rate > 0,
            "d_learning_rate": self.d_learning_rate is None or self.d_learning_rate > 0,
            "beta_1": 0.0 <= self.beta_1 < 1.0, "beta_2": 0.0 <= self.beta_2 < 1.0,
            "ema": self.ema is None or 0.0 <= self.ema < 1.0, "r1_gamma": self.r1_gamma >= 0.0,
            "r1_every": whole(self.r1_every, 1), "batch_size": whole(self.batch_size, 2),
            "epochs": whole(self.epochs, 1), "steps": self.steps is None or whole(self.steps, 1),
            "max_images": self.max_images is None or whole(self.max_images, 1),
            "eval_samples": whole(self.eval_samples, 2),
        }
        bad = {field: getattr(self, field) for field, ok in checks.items() if not ok}
        if bad:
            raise ValueError(f"{type(self).__name__} {self.name!r} has invalid values {bad}: "
                             "fix them and build it again.")
        if self.augment:
            from gan_course import diffaugment

            diffaugment.policy_names(self.augment)  # an unknown policy fails here, not after minutes

    @property
    def g_lr(self) -> float:
        """G's Adam learning rate: ``g_learning_rate`` if set, else ``learning_rate``."""
        return self.learning_rate if self.g_learning_rate is None else self.g_learning_rate

    @property
    def d_lr(self) -> float:
        """D's Adam learning rate: ``d_learning_rate`` if set, else ``learning_rate``."""
        return self.learning_rate if self.d_learning_rate is None else self.d_learning_rate

    def replace(self, name: str | None = None, **changes) -> "RunConfig":
        """A copy with some fields changed (and a new label if ``name`` is given), e.g.
        ``cfg.replace("lr x4", learning_rate=8e-4)``.

        Raises:
            ValueError: for a field this configuration does not have, listing the valid ones.
        """
        unknown = sorted(set(changes) - set(field_names(type(self))))
        if unknown:
            raise ValueError(f"{type(self).__name__} has no field(s) {unknown}. "
                             f"Valid fields: {', '.join(field_names(type(self)))}.")
        if name is not None:
            changes["name"] = name
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        """Every field by name (the image shape as a list, as JSON gives it back)."""
        values = dataclasses.asdict(self)
        values["image_shape"] = list(self.image_shape)
        return values

    def key(self) -> str:
        """A stable identity for caches: every field, sorted. Any change of setting changes it."""
        return json.dumps(self.as_dict(), sort_keys=True)

    @property
    def fit_batch_size(self) -> int:
        """Real images per ``fit`` batch: ``batch_size`` (one D step per G step)."""
        return self.batch_size


@dataclasses.dataclass(frozen=True)
class WGANConfig(RunConfig):
    """A WGAN-GP run (lesson 03; ``gan_course.wgan``): every ``RunConfig`` setting plus the critic's
    schedule and penalty. Defaults: Gulrajani et al. (2017), Algorithm 1 (Adam 1e-4, beta_1 0,
    beta_2 0.9, n_critic 5, lambda 10). The critic is ``wgan.wgan_critic``: no batch norm, dropout,
    hidden layer or R1 (the penalty bounds it); of D's settings it takes ``width``, ``kernel_size``
    and ``spectral_norm``, and ``batch_norm`` is the generator's only."""

    name: str = "wgan-gp"
    learning_rate: float = 1e-4
    beta_1: float = 0.0
    beta_2: float = 0.9
    dropout: float = 0.0
    n_critic: int = 5  # critic steps per generator step, each on its own real batch
    gp_weight: float = 10.0  # lambda, the gradient penalty's weight; 0: no penalty

    def __post_init__(self):
        super().__post_init__()
        checks = {"n_critic": int(self.n_critic) == self.n_critic and self.n_critic >= 1,
                  "gp_weight": self.gp_weight >= 0}
        bad = {field: getattr(self, field) for field, ok in checks.items() if not ok}
        if bad:
            raise ValueError(f"{type(self).__name__} {self.name!r} has invalid values {bad}: "
                             "fix them and build it again.")

    @property
    def fit_batch_size(self) -> int:
        """Real images per ``fit`` batch: ``n_critic`` critic batches of ``batch_size`` (``wgan.critic_batch_size``)."""
        from gan_course.wgan import critic_batch_size

        return critic_batch_size(self.batch_size, self.n_critic)


def field_names(cls=RunConfig) -> list[str]:
    """The fields of a configuration class, in declaration order."""
    return [f.name for f in dataclasses.fields(cls)]


def from_preset(preset, cls=RunConfig, **changes) -> RunConfig:
    """A configuration sized by ``preset`` (a ``presets.Preset``): its latent size, width, batch
    size, epochs, image cap and evaluation samples; ``changes`` override any field (checked)."""
    sized = dict(latent_dim=preset.latent_dim, width=preset.width, batch_size=preset.batch_size,
                 epochs=preset.epochs, max_images=preset.max_images, eval_samples=preset.eval_samples)
    return cls().replace(**{**sized, **changes}) if cls is RunConfig else cls(**{**sized, **changes})
