"""The GAN zoo under mixed precision: every family wraps its optimizers for mixed_float16 (loss
scaling), keeps them plain in float32, and trains a step with finite losses and float32 weights."""

import keras
import numpy as np
import pytest

from gan_course import losses, precision, training, wgan
from gan_course.zoo import conditional, infogan, networks, pix2pix, superres, vanilla

LATENT = 8
N = 4  # images per batch


def _images():
    return np.random.default_rng(0).uniform(-1, 1, (N, 28, 28, 1)).astype("float32")


def vanilla_gan():
    g = networks.mlp_generator(LATENT, hidden=(16,))
    d = networks.mlp_discriminator(hidden=(16,))
    return training.DCGAN(g, d, seed=0), _images()


def wasserstein_gan():
    g = networks.mlp_generator(LATENT, hidden=(16,))
    c = networks.mlp_discriminator(hidden=(16,), dropout=0.0, name="mlp_critic")
    images = np.concatenate([_images()] * 2)  # n_critic=2 critic batches of N
    return wgan.WGAN(g, c, n_critic=2, seed=0), images


def conditional_gan():
    g = conditional.conditional_generator(LATENT, hidden=(16,))
    d = conditional.conditional_discriminator(hidden=(16,))
    labels = np.arange(N, dtype="int32") % 10
    return conditional.ConditionalGAN(g, d, seed=0), (_images(), labels)


def info_gan():
    g = infogan.infogan_generator(LATENT, width=4)
    d = infogan.infogan_discriminator(width=4)
    return infogan.InfoGAN(g, d, seed=0), _images()


def pix2pix_gan():
    x = _images()
    return pix2pix.PairedGAN(pix2pix.unet_generator(width=4), pix2pix.patch_discriminator(width=4)), (
        pix2pix.digit_outlines(x), x)


def superres_gan():
    x = _images()
    critic = pix2pix.patch_discriminator(condition_channels=0, width=4)
    gan = pix2pix.PairedGAN(superres.superres_generator(width=4), critic, conditional_discriminator=False,
                            g_loss_fn=losses.srgan_generator_loss)
    return gan, (superres.downsample(x), x)


FAMILIES = {
    "vanilla": vanilla_gan,
    "wasserstein": wasserstein_gan,
    "conditional": conditional_gan,
    "infogan": info_gan,
    "pix2pix": pix2pix_gan,
    "superres": superres_gan,
}


def optimizers(gan):
    first = gan.c_optimizer if isinstance(gan, wgan.WGAN) else gan.d_optimizer
    return first, gan.g_optimizer


def build(family, policy):
    with precision.precision(policy):
        return FAMILIES[family]()


@pytest.mark.parametrize("policy", ["float32", "mixed_float16"])
@pytest.mark.parametrize("family", list(FAMILIES))
def test_zoo_trains_a_step_in_each_precision(family, policy, seeded):
    gan, data = build(family, policy)
    compute = policy.removeprefix("mixed_")
    assert any(layer.compute_dtype == compute for layer in gan.generator.layers if layer.weights)
    gan.compile()
    scaled = policy == "mixed_float16"
    for opt in optimizers(gan):
        # float16 needs loss scaling; float32 keeps the plain optimizer (and its exact numbers).
        assert isinstance(opt, keras.optimizers.LossScaleOptimizer) == scaled, (family, policy, opt)
    logs = gan.train_step(data)
    assert all(np.isfinite(float(v)) for v in logs.values()), logs
    for model in (gan.generator, gan.discriminator):
        assert all(w.dtype == "float32" for w in model.weights), model.name


class CountingScaler(keras.optimizers.LossScaleOptimizer):
    """A LossScaleOptimizer that counts its ``scale_loss`` calls (``wrap_optimizer`` keeps it)."""

    def scale_loss(self, loss):
        self.calls += 1
        return super().scale_loss(loss)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_each_optimizer_scales_its_own_loss(family, seeded):
    # Unscaled gradients would be divided by the loss scale (2**15) in apply_gradients: Adam
    # barely notices, so count the calls instead of looking at the update.
    gan, data = build(family, "mixed_float16")
    opts = [CountingScaler(keras.optimizers.Adam(1e-3)) for _ in range(2)]
    for opt in opts:
        opt.calls = 0
    gan.compile(*opts)
    assert all(a is b for a, b in zip(optimizers(gan), opts))
    gan.train_step(data)
    n_critic = getattr(gan, "n_critic", 1)
    assert [opt.calls for opt in opts] == [n_critic, 1]
