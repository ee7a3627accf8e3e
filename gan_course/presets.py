"""Presets: one switch that sizes every lesson.

``smoke`` runs each notebook in seconds (tests and CI), ``cpu`` is the default for a
student's laptop (minutes, real results) and ``gpu`` is the full-length run. A preset
changes sizes and step counts only, never which cells run.

Choose one with an argument (``get_preset("gpu")``, ``--preset gpu``) or with the
environment variable ``GAN_COURSE_PRESET``; the argument wins.
"""

from __future__ import annotations

import dataclasses
import os

__all__ = ["Preset", "PRESETS", "ENV_VAR", "DEFAULT_PRESET", "get_preset", "preset_names"]

ENV_VAR = "GAN_COURSE_PRESET"
DEFAULT_PRESET = "cpu"


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


def get_preset(name: str | None = None) -> Preset:
    """Return the preset called ``name``, else ``$GAN_COURSE_PRESET``, else ``cpu``.

    Raises:
        ValueError: for an unknown name; the message lists the valid ones.
    """
    chosen = name or os.environ.get(ENV_VAR) or DEFAULT_PRESET
    key = chosen.strip().lower()
    if key not in PRESETS:
        source = "argument" if name else f"environment variable {ENV_VAR}"
        raise ValueError(
            f"Unknown preset {chosen!r} (from the {source}). "
            f"Valid presets: {', '.join(PRESETS)}. "
            f"Example: {ENV_VAR}=smoke, or --preset cpu."
        )
    return PRESETS[key]
