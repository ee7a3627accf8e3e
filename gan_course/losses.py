"""GAN losses as small pure functions of the discriminator's logits.

Every function takes logits (raw scores before the sigmoid) because
``log(sigmoid(l))`` computed from ``l`` directly cannot overflow or give ``log(0)``;
D(x) below always means ``sigmoid(logit)``. Each returns a scalar averaged over the batch.
"""

from __future__ import annotations

from keras import ops

__all__ = ["bce_with_logits", "discriminator_loss", "generator_loss", "minimax_generator_loss"]


def bce_with_logits(targets, logits):
    """Mean binary cross-entropy ``-[t log s(l) + (1 - t) log(1 - s(l))]`` with s the sigmoid.

    Uses the stable form ``max(l, 0) - l t + log(1 + exp(-|l|))``.
    """
    logits = ops.convert_to_tensor(logits, dtype="float32")
    targets = ops.broadcast_to(ops.cast(targets, logits.dtype), ops.shape(logits))
    per_item = ops.maximum(logits, 0.0) - logits * targets + ops.log1p(ops.exp(-ops.abs(logits)))
    return ops.mean(per_item)


def discriminator_loss(real_logits, fake_logits, real_label: float = 1.0, fake_label: float = 0.0):
    """The discriminator's loss: ``L_D = -E_x[log D(x)] - E_z[log(1 - D(G(z)))]``.

    This is the negative of the value D maximises in the minimax game
    ``min_G max_D E_x[log D(x)] + E_z[log(1 - D(G(z)))]`` (Goodfellow et al. 2014,
    "Generative Adversarial Nets", eq. 1), written as binary cross-entropy with
    target 1 for real images and 0 for generated ones, summed over the two halves.

    ``real_label=0.9`` gives one-sided label smoothing (Salimans et al. 2016, "Improved
    Techniques for Training GANs", sec. 3.4): only the real target is softened.
    """
    return bce_with_logits(real_label, real_logits) + bce_with_logits(fake_label, fake_logits)


def generator_loss(fake_logits):
    """Non-saturating generator loss: ``L_G = -E_z[log D(G(z))]``.

    Goodfellow et al. (2014, sec. 3) propose it instead of minimising ``log(1 - D(G(z)))``:
    both push D(G(z)) up, but this one has strong gradients early in training, when D
    easily rejects the generator's samples. It is BCE with target 1 on generated images.
    """
    return bce_with_logits(1.0, fake_logits)


def minimax_generator_loss(fake_logits):
    """The original (saturating) generator loss: ``L_G = E_z[log(1 - D(G(z)))]``.

    The generator minimises the same value the discriminator maximises (Goodfellow et al.
    2014, eq. 1). When D confidently rejects a sample (D(G(z)) near 0) the gradient of this
    loss vanishes, which is why practice uses ``generator_loss``. Equal to minus BCE with target 0.
    """
    return -bce_with_logits(0.0, fake_logits)
