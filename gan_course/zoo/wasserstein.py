"""The zoo's Wasserstein variants: WGAN with weight clipping and WGAN-GP.

The training logic is lesson 03's ``gan_course.wgan.WGAN`` (``n_critic`` critic steps per
generator step, each on fresh real images); this module only builds it with the papers'
settings on the zoo's networks: by default the MLP generator of the rest of the zoo and an MLP
critic (the zoo's discriminator without dropout, so each score depends on its own image only,
as the gradient penalty requires), or the generator and critic you pass.
"""

from __future__ import annotations

import keras

from gan_course import wgan
from gan_course.zoo import networks

__all__ = ["WASSERSTEIN_VARIANTS", "make_wgan"]

# variant -> (settings of wgan.WGAN, optimizer settings, paper)
WASSERSTEIN_VARIANTS = {
    "wgan-clip": (dict(gp_weight=0.0, clip_value=0.01), wgan.PAPER_RMSPROP, "Arjovsky et al. 2017"),
    "wgan-gp": (dict(gp_weight=10.0, clip_value=None), wgan.PAPER_ADAM, "Gulrajani et al. 2017"),
}


def make_wgan(variant: str, latent_dim: int, image_shape=(28, 28, 1), n_critic: int = 5, seed=None,
              generator=None, critic=None):
    """A compiled ``wgan.WGAN`` with the paper's settings, on ``generator`` and ``critic``
    (default: the zoo's MLP generator and an MLP critic).

    Feed it batches of ``wgan.critic_batch_size(batch_size, n_critic)`` images.
    """
    if variant not in WASSERSTEIN_VARIANTS:
        known = ", ".join(WASSERSTEIN_VARIANTS)
        raise ValueError(f"Unknown variant {variant!r}; the Wasserstein variants are {known}.")
    settings, optimizer, _ = WASSERSTEIN_VARIANTS[variant]
    model = wgan.WGAN(
        generator if generator is not None else networks.mlp_generator(latent_dim, image_shape),
        critic if critic is not None else networks.mlp_discriminator(image_shape, dropout=0.0, name="mlp_critic"),
        n_critic=n_critic,
        seed=seed,
        name=variant.replace("-", "_"),
        **settings,
    )
    model.compile(
        c_optimizer=_optimizer(optimizer),
        g_optimizer=_optimizer(optimizer),
    )
    return model


def _optimizer(settings: dict):
    # Adam when the paper's settings name its betas (WGAN-GP), RMSprop otherwise (WGAN).
    if "beta_1" in settings:
        return keras.optimizers.Adam(**settings)
    return keras.optimizers.RMSprop(**settings)
