"""Mixed precision: ``gan_course.precision``, re-exported here with the other speed choices.

The policies, ``set_precision``, the ``precision`` context and ``wrap_optimizer`` live in the
core module ``gan_course.precision``, because the GAN base class needs ``wrap_optimizer`` (loss
scaling under ``mixed_float16``) and the core must not import ``gan_course.speed``.
"""

from gan_course.precision import (  # noqa: F401
    POLICIES,
    __all__,
    cpu_has_native_bfloat16,
    gpu_supports_float16,
    precision,
    recommended_policy,
    resolve_policy,
    set_precision,
    wrap_optimizer,
)
