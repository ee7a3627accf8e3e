"""GAN losses as small pure functions of the discriminator's logits.

Every function takes logits (raw scores before the sigmoid) because
``log(sigmoid(l))`` computed from ``l`` directly cannot overflow or give ``log(0)``;
D(x) below always means ``sigmoid(logit)``. Each returns a scalar averaged over the batch.
"""

from __future__ import annotations

import math

from keras import ops

__all__ = ["bce_with_logits", "discriminator_loss", "generator_loss", "minimax_generator_loss",
           "GP_EPSILON", "wasserstein_critic_loss", "wasserstein_generator_loss", "interpolate",
           "gradient_penalty", "clip_weights", "r1_penalty",
           # lesson 04, the GAN zoo
           "lsgan_discriminator_loss", "lsgan_generator_loss", "hinge_discriminator_loss",
           "hinge_generator_loss", "infogan_categorical_loss", "infogan_gaussian_loss", "l1_loss",
           "pix2pix_generator_loss", "srgan_generator_loss"]


def bce_with_logits(targets, logits):
    """Mean binary cross-entropy ``-[t log s(l) + (1 - t) log(1 - s(l))]`` with s the sigmoid.

    Uses the stable form ``softplus(l) - l t`` (softplus(l) = log(1 + e^l)), whose gradient
    ``s(l) - t`` is exact everywhere; the common ``max(l, 0) - l t + log(1 + exp(-|l|))`` has
    the same value but a wrong gradient at l = 0, where max and |.| have a kink.
    """
    logits = ops.convert_to_tensor(logits, dtype="float32")
    targets = ops.broadcast_to(ops.cast(targets, logits.dtype), ops.shape(logits))
    per_item = ops.softplus(logits) - logits * targets
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


# --------------------------------------------------------------------------- Wasserstein GAN
# Introduced in lesson 03 (notebooks/03_wgan_gp_celeba.ipynb). The critic returns a raw score,
# not a logit: no sigmoid anywhere. Scores and gradients are cast to float32 so the losses stay
# exact when the networks run in mixed precision.

GP_EPSILON = 1e-12


def wasserstein_critic_loss(real_scores, fake_scores):
    """The critic's loss: ``L_C = E_z[C(G(z))] - E_x[C(x)]``.

    The critic C maximises ``E_x[C(x)] - E_z[C(G(z))]``, which over 1-Lipschitz critics equals
    the Wasserstein-1 distance between the data and the generator's distribution
    (Kantorovich-Rubinstein duality; Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN",
    arXiv:1701.07875, eq. 3). Minimising the negative is the same thing, so
    ``-wasserstein_critic_loss`` is the critic's running estimate of that distance.
    No logarithm and no sigmoid: scores are unbounded real numbers.
    """
    real_scores = ops.cast(ops.convert_to_tensor(real_scores), "float32")
    fake_scores = ops.cast(ops.convert_to_tensor(fake_scores), "float32")
    return ops.mean(fake_scores) - ops.mean(real_scores)


def wasserstein_generator_loss(fake_scores):
    """The WGAN generator's loss: ``L_G = -E_z[C(G(z))]`` (Arjovsky et al. 2017, Algorithm 1).

    The generator raises the critic's score of its images; ``E_x[C(x)]`` does not depend on G
    and is left out. There is no logarithm: ``-E[log C(G(z))]`` (written in one of the course's
    sources) is undefined for the negative scores a critic produces.
    """
    return -ops.mean(ops.cast(ops.convert_to_tensor(fake_scores), "float32"))


def interpolate(real_images, fake_images, alpha=None, seed=None):
    """Random points on the segments between real and generated images, one per pair.

    ``x_hat = alpha * x + (1 - alpha) * x_fake`` with one ``alpha ~ U[0, 1]`` per sample
    (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs", arXiv:1704.00028,
    Algorithm 1). ``alpha`` may be given, shape (batch,) or (batch, 1, 1, 1); otherwise it is
    drawn uniformly with ``seed`` (an int or a ``keras.random.SeedGenerator``).

    Returns:
        (x_hat, alpha) with alpha shaped (batch, 1, ..., 1) to broadcast over each image.
    """
    real_images = ops.cast(ops.convert_to_tensor(real_images), "float32")
    fake_images = ops.cast(ops.convert_to_tensor(fake_images), "float32")
    if real_images.shape[1:] != fake_images.shape[1:]:
        raise ValueError(
            f"Real images {tuple(real_images.shape)} and generated images {tuple(fake_images.shape)} "
            "must have the same shape to interpolate between them; build G and the critic for the "
            "data's image shape."
        )
    ndim = len(real_images.shape)
    broadcast_shape = [ops.shape(real_images)[0]] + [1] * (ndim - 1)
    if alpha is None:
        import keras

        alpha = keras.random.uniform(broadcast_shape, minval=0.0, maxval=1.0, seed=seed)
    else:
        alpha = ops.reshape(ops.cast(ops.convert_to_tensor(alpha), "float32"), broadcast_shape)
    return alpha * real_images + (1.0 - alpha) * fake_images, alpha


def gradient_penalty(critic, real_images, fake_images, alpha=None, seed=None, epsilon=GP_EPSILON):
    """The WGAN-GP penalty ``E_xhat[(||grad_xhat C(x_hat)||_2 - 1)^2]``, without the weight lambda.

    Gulrajani et al. (2017, arXiv:1704.00028, eq. 3) add ``lambda * penalty`` (lambda = 10)
    to the critic's loss: a differentiable function is 1-Lipschitz if and only if its gradient
    norm is at most 1 everywhere, and the optimal critic has norm 1 on the lines between
    paired real and generated points, so the penalty asks for exactly that on random points
    ``x_hat`` of those lines (see ``interpolate``: alpha ~ U[0, 1], one per sample).

    Details that matter:

    - the norm is taken per sample over all non-batch axes (height, width, channels), not
      over the whole batch and not per pixel;
    - the norm is ``sqrt(sum g^2 + epsilon)``: the derivative of sqrt at 0 is infinite, so a
      critic with zero input-gradient somewhere would give NaN weight gradients without it.
      ``epsilon = 1e-12`` changes the norm by at most 1e-6 (and by nothing at norm 1 in
      float32);
    - there is no factor 1/2 (one of the course's sources writes one);
    - the critic must treat samples independently (no batch norm): the gradient of the
      summed scores w.r.t. ``x_hat`` is then each sample's own gradient.

    Call it inside the critic's ``GradientTape``: the penalty depends on the critic's weights
    through its input-gradient (a second derivative), and the outer tape differentiates that.

    Args:
        critic: a callable image batch -> scores (batch, 1).
        alpha: optional interpolation weights in [0, 1], shape (batch,); drawn when None.
        seed: an int or ``keras.random.SeedGenerator`` for drawing alpha.
        epsilon: added under the square root; must be > 0.
    """
    import tensorflow as tf

    if not epsilon > 0:
        raise ValueError(f"epsilon must be > 0 so the norm's gradient is finite at 0, got {epsilon!r}")
    x_hat, _ = interpolate(real_images, fake_images, alpha=alpha, seed=seed)
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = tf.cast(critic(x_hat, training=True), tf.float32)
    grads = tf.cast(tape.gradient(scores, x_hat), tf.float32)
    axes = list(range(1, len(grads.shape)))
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=axes) + epsilon)
    return tf.reduce_mean(tf.square(norms - 1.0))


def r1_penalty(discriminator, real_images, gamma: float = 10.0):
    """The R1 penalty ``(gamma / 2) E_x[||grad_x D(x)||_2^2]`` on real images, with its weight.

    Mescheder, Geiger & Nowozin (2018), "Which Training Methods for GANs do actually Converge?"
    (arXiv:1801.04406, eq. 9): D(x) is the raw score (the logit), and penalising its gradient
    on the *real* data only stops the discriminator from pushing back once the generator
    matches the data, so training converges instead of circling; the paper uses gamma = 10.
    Unlike WGAN-GP's penalty there is no target norm 1, no interpolation and no square root.

    The squared norm is taken per sample over (height, width, channels) and averaged over the
    batch. The gradient of the summed scores is each sample's own gradient only when D treats
    samples independently; with batch norm in training mode the samples of a batch mix.

    Call it inside the discriminator's ``GradientTape``: the penalty depends on D's weights
    through its input-gradient, and the outer tape differentiates that.

    Args:
        discriminator: a callable ``discriminator(images, training=True) -> scores``.
        real_images: a batch of real images.
        gamma: the weight; ``gamma / 2`` multiplies the mean squared gradient norm.
    """
    import tensorflow as tf

    if gamma < 0:
        raise ValueError(f"gamma must be >= 0 (the R1 paper uses 10), got {gamma!r}")
    x = tf.cast(tf.convert_to_tensor(real_images), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        # Summed inside the tape: the gradient of the sum is each sample's own gradient.
        total = tf.reduce_sum(tf.cast(discriminator(x, training=True), tf.float32))
    grads = tf.cast(tape.gradient(total, x), tf.float32)
    squared_norms = tf.reduce_sum(tf.square(grads), axis=list(range(1, len(grads.shape))))
    return 0.5 * gamma * tf.reduce_mean(squared_norms)


def clip_weights(model, clip_value=0.01):
    """Clip every trainable weight of ``model`` into ``[-clip_value, clip_value]``, in place.

    The original WGAN's crude way to keep the critic K-Lipschitz for some K (Arjovsky et al.
    2017, Algorithm 1: c = 0.01, applied after every critic update). Gulrajani et al. (2017,
    sec. 3) show why it is a poor constraint: most weights end up at +-c and the critic
    becomes a very simple function; the gradient penalty replaces it.

    Returns the model, so ``clip_weights(critic)`` can be chained.
    """
    if not clip_value > 0:
        raise ValueError(f"clip_value must be > 0 (the WGAN paper uses 0.01), got {clip_value!r}")
    for weight in model.trainable_weights:
        weight.assign(ops.clip(weight, -clip_value, clip_value))
    return model


# --------------------------------------------------------------------------- the GAN zoo (lesson 04)
# Scores below are raw discriminator outputs (no sigmoid), as LSGAN and hinge use them.


def lsgan_discriminator_loss(real_scores, fake_scores, a: float = 0.0, b: float = 1.0):
    """LSGAN discriminator loss: ``L_D = 1/2 E_x[(D(x) - b)^2] + 1/2 E_z[(D(G(z)) - a)^2]``.

    Mao et al. (2016), "Least Squares Generative Adversarial Networks", eq. 2, with the 0-1
    coding a = 0 (fake), b = 1 (real). D's output is a raw score: no sigmoid. A squared error
    keeps penalising fakes that are classified correctly but lie far from the real data, so
    the generator still gets a gradient where the sigmoid's log loss has gone flat.
    """
    real = ops.convert_to_tensor(real_scores, dtype="float32")
    fake = ops.convert_to_tensor(fake_scores, dtype="float32")
    return 0.5 * ops.mean(ops.square(real - b)) + 0.5 * ops.mean(ops.square(fake - a))


def lsgan_generator_loss(fake_scores, c: float = 1.0):
    """LSGAN generator loss: ``L_G = 1/2 E_z[(D(G(z)) - c)^2]`` (Mao et al. 2016, eq. 2, c = 1)."""
    fake = ops.convert_to_tensor(fake_scores, dtype="float32")
    return 0.5 * ops.mean(ops.square(fake - c))


def hinge_discriminator_loss(real_scores, fake_scores):
    """Hinge discriminator loss: ``L_D = E_x[max(0, 1 - D(x))] + E_z[max(0, 1 + D(G(z)))]``.

    Lim & Ye (2017), "Geometric GAN"; used by SAGAN (Zhang et al. 2018) and BigGAN (Brock et al.
    2018). D stops being pushed on a sample once it scores it beyond the margin (> 1 for
    real, < -1 for fake), so it spends its capacity on the samples it still confuses.
    """
    real = ops.convert_to_tensor(real_scores, dtype="float32")
    fake = ops.convert_to_tensor(fake_scores, dtype="float32")
    return ops.mean(ops.relu(1.0 - real)) + ops.mean(ops.relu(1.0 + fake))


def hinge_generator_loss(fake_scores):
    """Hinge-GAN generator loss: ``L_G = -E_z[D(G(z))]`` (no margin on the generator's side;
    Zhang et al. 2018, SAGAN, eq. 6)."""
    return -ops.mean(ops.convert_to_tensor(fake_scores, dtype="float32"))


def infogan_categorical_loss(codes, code_logits):
    """InfoGAN term for a categorical code: ``L_I = -E[log Q(c | G(z, c))]``, cross-entropy.

    Chen et al. (2016), "InfoGAN", eq. 4-5: the mutual information ``I(c; G(z, c))`` has the
    lower bound ``H(c) + E[log Q(c | x)]``. ``H(c)`` is fixed by the prior (ln K for a uniform
    K-way code), so maximising the bound is minimising this cross-entropy. Both G and the
    auxiliary head Q minimise it.

    Args:
        codes: int class indices of shape (batch,).
        code_logits: Q's logits of shape (batch, K).
    """
    logits = ops.convert_to_tensor(code_logits, dtype="float32")
    codes = ops.cast(ops.convert_to_tensor(codes), "int32")
    log_q = logits - ops.logsumexp(logits, axis=-1, keepdims=True)
    picked = ops.take_along_axis(log_q, ops.expand_dims(codes, -1), axis=-1)
    return -ops.mean(picked)


def infogan_gaussian_loss(codes, mean, log_std=None):
    """InfoGAN term for continuous codes: Gaussian negative log-likelihood ``-E[log Q(c | x)]``.

    With Q(c | x) = N(mean, std^2) per code dimension (Chen et al. 2016, sec. 6, a factored
    Gaussian), ``-log Q = log std + (c - mean)^2 / (2 std^2) + log(2 pi) / 2``, summed over
    the code dimensions and averaged over the batch. ``log_std=None`` fixes std = 1, which
    leaves ``(c - mean)^2 / 2`` plus the constant: a plain squared error, and a common choice.
    """
    c = ops.convert_to_tensor(codes, dtype="float32")
    mu = ops.convert_to_tensor(mean, dtype="float32")
    log_std = ops.zeros_like(mu) if log_std is None else ops.convert_to_tensor(log_std, dtype="float32")
    nll = log_std + 0.5 * ops.square((c - mu) * ops.exp(-log_std)) + 0.5 * math.log(2.0 * math.pi)
    return ops.mean(ops.sum(nll, axis=-1))


def l1_loss(targets, predictions):
    """Mean absolute error ``E[|y - y_hat|]`` over every pixel of the batch."""
    y = ops.convert_to_tensor(targets, dtype="float32")
    return ops.mean(ops.abs(y - ops.convert_to_tensor(predictions, dtype="float32")))


def pix2pix_generator_loss(fake_logits, targets, generated, l1_weight: float = 100.0):
    """Pix2Pix generator loss: ``L_G = -E[log D(x, G(x))] + lambda E[|y - G(x)|_1]``.

    Isola et al. (2016), "Image-to-Image Translation with Conditional Adversarial Networks",
    eq. 4 with lambda = 100, and the non-saturating form of the adversarial term. The L1 term
    gets the image roughly right (it alone gives blurry averages); the conditional D, which
    sees the input x next to the output, makes it sharp. The discriminator uses the ordinary
    ``discriminator_loss`` on logits of (input, output) pairs.
    """
    return generator_loss(fake_logits) + l1_weight * l1_loss(targets, generated)


def srgan_generator_loss(fake_logits, targets, generated, adversarial_weight: float = 1e-3):
    """Super-resolution GAN generator loss: ``L_G = content + w * (-E[log D(G(x_lr))])``.

    Ledig et al. (2016), "Photo-Realistic Single Image Super-Resolution Using a GAN", eq. 3
    with w = 1e-3. The paper calls this whole sum, content plus adversarial term, the
    *perceptual loss*. The content term here is the pixel mean squared error (the paper's
    "SRGAN-MSE"); the paper's best model compares VGG feature maps instead (its "VGG loss").
    """
    y = ops.convert_to_tensor(targets, dtype="float32")
    content = ops.mean(ops.square(y - ops.convert_to_tensor(generated, dtype="float32")))
    return content + adversarial_weight * generator_loss(fake_logits)
