"""Mixed precision: compute in 16 bits where the hardware does it fast, keep float32 where it matters.

Keras' dtype policies do the work: ``mixed_bfloat16`` / ``mixed_float16`` compute layers in 16
bits while the weights (and Adam's moments) stay float32. The course's models give their
*last* layer ``dtype="float32"`` (the generator's ``tanh`` image and the discriminator's logit),
and the losses and the gradient penalty cast to float32, because a loss needs float32's range.

Which 16-bit type?

- **GPUs** (compute capability 7.0+, tensor cores): ``mixed_float16``. float16 has a narrow
  exponent, so small gradients underflow to zero: the optimizer is wrapped in a
  ``keras.optimizers.LossScaleOptimizer``, which multiplies the loss before the gradient and
  divides the gradients after (the course's ``train_step`` calls ``optimizer.scale_loss``).
- **CPUs with native bfloat16** (AVX512_BF16 or AMX): ``mixed_bfloat16``. bfloat16 keeps
  float32's exponent, so no loss scaling is needed.
- Anything else: ``float32``; emulated 16-bit maths would be slower.

Mixed precision only pays when the convolutions are big enough to dominate the step: on a CPU,
oneDNN runs a bfloat16 convolution and its input gradient faster than float32 but not its
weight-gradient kernel, and batch norm and dropout gain nothing from 16 bits (the opt-in layers
of ``gan_course.speed.fast_layers`` address that). ``python -m gan_course.bench`` measures the
ratio and the time to quality on the machine at hand.
The ``cpu`` preset keeps float32, so every machine reproduces the lessons' numbers; ``"auto"``
never turns 16-bit maths on without native support.

This module is part of the core (``gan.TwoPlayerGAN.compile`` wraps each optimizer with
``wrap_optimizer``; ``recipes.build_dcgan`` builds under ``precision``), so it imports nothing
but Keras and TensorFlow. ``gan_course.speed.precision`` re-exports it.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "POLICIES",
    "cpu_has_native_bfloat16",
    "gpu_supports_float16",
    "recommended_policy",
    "resolve_policy",
    "set_precision",
    "precision",
    "wrap_optimizer",
]

POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")
_BF16_CPU_FLAGS = {"avx512_bf16", "amx_bf16"}


def cpu_has_native_bfloat16(cpuinfo: str | Path = "/proc/cpuinfo") -> bool:
    """True when the CPU advertises AVX512_BF16 or AMX-BF16 (read from /proc/cpuinfo on Linux;
    False where that file does not exist, e.g. macOS, so nothing slower gets switched on)."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return bool(_BF16_CPU_FLAGS & set(line.split(":", 1)[1].split()))
    return False


def gpu_supports_float16() -> bool:
    """True when a GPU with tensor cores (compute capability 7.0 or newer) is visible."""
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        capability = tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0))
        if tuple(capability) >= (7, 0):
            return True
    return False


def recommended_policy() -> str:
    """``mixed_float16`` on a tensor-core GPU, ``mixed_bfloat16`` on a CPU with native bfloat16,
    otherwise ``float32``."""
    if gpu_supports_float16():
        return "mixed_float16"
    if cpu_has_native_bfloat16():
        return "mixed_bfloat16"
    return "float32"


def resolve_policy(name: str) -> str:
    """Turn a preset's setting (``"auto"``, ``"off"``, or a policy name) into a policy name."""
    key = (name or "float32").strip().lower()
    if key == "auto":
        return recommended_policy()
    if key in {"off", "none", "fp32"}:
        return "float32"
    if key not in POLICIES:
        raise ValueError(f"Unknown precision {name!r}; choose 'auto', 'off' or one of {', '.join(POLICIES)}.")
    return key


def set_precision(name: str = "auto") -> str:
    """Set Keras' global dtype policy for the models built *after* this call; returns its name.

    Build the models after calling it: a layer keeps the policy it was created with.
    """
    import keras

    policy = resolve_policy(name)
    keras.mixed_precision.set_dtype_policy(policy)
    return policy


class precision:
    """``with precision("mixed_bfloat16"): build models`` sets the policy and restores the
    previous one afterwards (handy in benchmarks and tests that build both kinds)."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        import keras

        self._previous = keras.mixed_precision.dtype_policy().name
        return set_precision(self.name)

    def __exit__(self, *exc):
        import keras

        keras.mixed_precision.set_dtype_policy(self._previous)
        return False


def wrap_optimizer(optimizer, model):
    """Wrap ``optimizer`` in a ``LossScaleOptimizer`` when ``model`` computes in float16
    (bfloat16 and float32 need no loss scaling, so the optimizer comes back unchanged)."""
    import keras

    compute = model.dtype_policy.compute_dtype
    if compute == "float16" and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
