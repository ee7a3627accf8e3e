"""One ``train_step`` of each GAN equals its rule written out by hand with plain SGD.

Like lesson 01's check of the DCGAN (``test_training.test_update_orders_match_their_definitions``):
the networks have no dropout, so every score repeats; the random draws are replayed from a fresh
``SeedGenerator`` with the model's seed, in the order the step makes them; each expected weight is
``w - lr * gradient`` of the loss the paper defines. A second, deliberately wrong rule must *not*
match, so each test shows the detail it is about (the penalty reaches the critic, clipping follows
every critic step, each critic step has its own real images, the information term reaches G and Q,
the discriminators' input order).
"""

import keras
import numpy as np
import tensorflow as tf

from gan_course import losses, models, wgan
from gan_course.zoo import conditional, infogan, pix2pix
from sgd_rules import LR, assert_close, assign, differs, sgd_update, values

SHAPE = (8, 8, 1)


def sgd():
    return keras.optimizers.SGD(LR)



# --------------------------------------------------------------------------- WGAN


def _wgan(gp_weight, clip_value, n_critic=2, seed=5):
    keras.utils.set_random_seed(seed)
    g = models.dcgan_generator(4, SHAPE, width=4)
    c = wgan.wgan_critic(SHAPE, width=4)
    gan = wgan.WGAN(g, c, n_critic=n_critic, gp_weight=gp_weight, clip_value=clip_value, seed=seed)
    gan.compile(c_optimizer=sgd(), g_optimizer=sgd())
    return gan


def _wgan_rule(gan, reals, seed, penalty=True, clip_every_step=True, own_slices=True):
    """The papers' Algorithm 1 written out: n_critic critic steps, each on its own real batch,
    with fresh z (and alpha) each, clipping after each; then one generator step on fresh z."""
    sg = keras.random.SeedGenerator(seed)
    g_vars, c_vars = gan.generator.trainable_variables, gan.critic.trainable_variables
    per = reals.shape[0] // gan.n_critic
    for i in range(gan.n_critic):
        x = reals[i * per:(i + 1) * per] if own_slices else reals[:per]
        z = keras.random.normal((per, gan.latent_dim), seed=sg)
        fakes = gan.generator(z, training=True)
        with tf.GradientTape() as tape:
            loss = losses.wasserstein_critic_loss(gan.critic(x, training=True), gan.critic(fakes, training=True))
            if gan.gp_weight > 0:
                alpha = keras.random.uniform((per,), 0.0, 1.0, seed=sg)
                if penalty:
                    loss += gan.gp_weight * losses.gradient_penalty(gan.critic, x, fakes, alpha=alpha)
        assign(c_vars, sgd_update(values(c_vars), tape.gradient(loss, c_vars)))
        if gan.clip_value is not None and (clip_every_step or i == gan.n_critic - 1):
            losses.clip_weights(gan.critic, gan.clip_value)
    z = keras.random.normal((per, gan.latent_dim), seed=sg)
    with tf.GradientTape() as tape:
        g_loss = losses.wasserstein_generator_loss(gan.critic(gan.generator(z, training=True), training=True))
    assign(g_vars, sgd_update(values(g_vars), tape.gradient(g_loss, g_vars)))
    return values(g_vars) + values(c_vars)


def _expected_after(gan, reals, seed, **rule):
    everything = gan.generator.trainable_variables + gan.critic.trainable_variables
    start = values(everything)
    expected = _wgan_rule(gan, reals, seed, **rule)
    assign(everything, start)
    return expected


def test_wgan_gp_step_is_algorithm_1_with_the_penalty():
    gan = _wgan(gp_weight=10.0, clip_value=None)
    reals = tf.constant(np.random.default_rng(0).uniform(-1, 1, (8, *SHAPE)).astype("float32"))
    expected = _expected_after(gan, reals, seed=5)
    without_penalty = _expected_after(gan, reals, seed=5, penalty=False)
    same_slice = _expected_after(gan, reals, seed=5, own_slices=False)
    gan.train_step(reals)
    everything = gan.generator.trainable_variables + gan.critic.trainable_variables
    assert_close(everything, expected)
    assert differs(gan.critic.trainable_variables, without_penalty[len(gan.generator.trainable_variables):])
    assert differs(everything, same_slice)  # each critic step has its own real images


def test_wgan_clip_step_clips_after_every_critic_step():
    gan = _wgan(gp_weight=0.0, clip_value=0.01)
    # Big weights and a big step, so clipping changes what the next critic step computes.
    for v in gan.critic.trainable_variables:
        v.assign(v * 20.0)
    reals = tf.constant(np.random.default_rng(1).uniform(-1, 1, (8, *SHAPE)).astype("float32"))
    expected = _expected_after(gan, reals, seed=5)
    clipped_once = _expected_after(gan, reals, seed=5, clip_every_step=False)
    gan.train_step(reals)
    everything = gan.generator.trainable_variables + gan.critic.trainable_variables
    assert_close(everything, expected)
    assert differs(everything, clipped_once)
    assert max(float(np.abs(v.numpy()).max()) for v in gan.critic.trainable_variables) <= 0.01 + 1e-7


# --------------------------------------------------------------------------- InfoGAN


def _infogan(info_weight, seed=7):
    keras.utils.set_random_seed(seed)
    g = infogan.infogan_generator(4, width=4)
    d = infogan.infogan_discriminator(width=4)
    gan = infogan.InfoGAN(g, d, seed=seed, info_weight=info_weight)
    gan.compile(d_optimizer=sgd(), g_optimizer=sgd())
    return gan


def _infogan_rule(gan, reals, seed, info_in_g=True):
    sg = keras.random.SeedGenerator(seed)
    n = reals.shape[0]
    z = keras.random.normal((n, gan.latent_dim), seed=sg)
    category = keras.random.randint((n,), 0, gan.n_categories, seed=sg, dtype="int32")
    continuous = keras.random.uniform((n, gan.n_continuous), -1.0, 1.0, seed=sg)
    g_vars, d_vars = gan.generator.trainable_variables, gan.discriminator.trainable_variables
    start = values(g_vars + d_vars)

    def info(cat_logits, cont_mean):
        return gan.info_weight * (losses.infogan_categorical_loss(category, cat_logits)
                                  + gan.continuous_weight * losses.infogan_gaussian_loss(continuous, cont_mean))

    fakes = gan.generator([z, category, continuous], training=True)
    with tf.GradientTape() as tape:
        real_score, _, _ = gan.discriminator(reals, training=True)
        fake_score, cat_logits, cont_mean = gan.discriminator(fakes, training=True)
        d_loss = losses.discriminator_loss(real_score, fake_score) + info(cat_logits, cont_mean)
    assign(d_vars, sgd_update(start[len(g_vars):], tape.gradient(d_loss, d_vars)))
    with tf.GradientTape() as tape:  # the updated D and Q judge the same fakes
        fake_score, cat_logits, cont_mean = gan.discriminator(
            gan.generator([z, category, continuous], training=True), training=True)
        g_loss = losses.generator_loss(fake_score) + (info(cat_logits, cont_mean) if info_in_g else 0.0)
    expected = sgd_update(start[: len(g_vars)], tape.gradient(g_loss, g_vars)) + values(d_vars)
    assign(g_vars + d_vars, start)
    return expected


def test_infogan_step_puts_the_information_term_in_both_players():
    gan = _infogan(info_weight=1.0)
    reals = tf.constant(np.random.default_rng(2).uniform(-1, 1, (8, 28, 28, 1)).astype("float32"))
    expected = _infogan_rule(gan, reals, seed=7)
    no_info_for_g = _infogan_rule(gan, reals, seed=7, info_in_g=False)
    q_head = [gan.discriminator.get_layer(name) for name in ("q_hidden", "category_logits", "continuous_mean")]
    q_before = [values(layer.trainable_variables) for layer in q_head]
    gan.train_step(reals)
    g_vars = gan.generator.trainable_variables
    assert_close(g_vars + gan.discriminator.trainable_variables, expected)
    assert differs(g_vars, no_info_for_g[: len(g_vars)])  # the term reaches G
    for layer, before in zip(q_head, q_before):  # and Q, which only the term trains
        assert differs(layer.trainable_variables, before), layer.name


# --------------------------------------------------------------------------- conditional GAN and Pix2Pix


def test_conditional_step_judges_image_label_pairs():
    keras.utils.set_random_seed(3)
    g = conditional.conditional_generator(4, hidden=(16,), image_shape=SHAPE)
    d = conditional.conditional_discriminator(hidden=(16,), dropout=0.0, image_shape=SHAPE)
    gan = conditional.ConditionalGAN(g, d, seed=3)
    gan.compile(d_optimizer=sgd(), g_optimizer=sgd())
    reals = tf.constant(np.random.default_rng(3).uniform(-1, 1, (8, *SHAPE)).astype("float32"))
    labels = tf.constant(np.arange(8, dtype="int32") % 10)

    def rule(d_labels):
        sg = keras.random.SeedGenerator(3)
        z = keras.random.normal((8, 4), seed=sg)
        g_vars, d_vars = g.trainable_variables, d.trainable_variables
        start = values(g_vars + d_vars)
        fakes = g([z, labels], training=True)
        with tf.GradientTape() as tape:
            d_loss = losses.discriminator_loss(d([reals, d_labels], training=True), d([fakes, d_labels], training=True))
        assign(d_vars, sgd_update(start[len(g_vars):], tape.gradient(d_loss, d_vars)))
        with tf.GradientTape() as tape:
            g_loss = losses.generator_loss(d([g([z, labels], training=True), d_labels], training=True))
        expected = sgd_update(start[: len(g_vars)], tape.gradient(g_loss, g_vars)) + values(d_vars)
        assign(g_vars + d_vars, start)
        return expected

    expected, label_blind = rule(labels), rule(tf.zeros_like(labels))
    gan.train_step((reals, labels))
    everything = g.trainable_variables + d.trainable_variables
    assert_close(everything, expected)
    assert differs(everything, label_blind)  # D really reads the pair's label


def test_pix2pix_step_shows_d_the_condition_first():
    keras.utils.set_random_seed(4)
    g, d = pix2pix.unet_generator(width=4), pix2pix.patch_discriminator(width=4)
    gan = pix2pix.PairedGAN(g, d)
    gan.compile(d_optimizer=sgd(), g_optimizer=sgd())
    y = np.random.default_rng(4).uniform(-1, 1, (4, 28, 28, 1)).astype("float32")
    x = tf.constant(pix2pix.digit_outlines(y))
    y = tf.constant(y)

    def rule(order):
        pair = (lambda a, b: [a, b]) if order == "condition first" else (lambda a, b: [b, a])
        g_vars, d_vars = g.trainable_variables, d.trainable_variables
        start = values(g_vars + d_vars)
        y_hat = g(x, training=True)
        with tf.GradientTape() as tape:
            d_loss = losses.discriminator_loss(d(pair(x, y), training=True), d(pair(x, y_hat), training=True))
        assign(d_vars, sgd_update(start[len(g_vars):], tape.gradient(d_loss, d_vars)))
        with tf.GradientTape() as tape:
            y_hat = g(x, training=True)
            g_loss = losses.pix2pix_generator_loss(d(pair(x, y_hat), training=True), y, y_hat)
        expected = sgd_update(start[: len(g_vars)], tape.gradient(g_loss, g_vars)) + values(d_vars)
        assign(g_vars + d_vars, start)
        return expected

    expected, swapped = rule("condition first"), rule("image first")
    gan.train_step((x, y))
    everything = g.trainable_variables + d.trainable_variables
    assert_close(everything, expected, atol=1e-4)
    assert differs(everything, swapped, atol=1e-4)
