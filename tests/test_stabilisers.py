"""The stabilisers, each checked against its formula: generator EMA, DiffAugment, TTUR,
spectral normalisation and R1.

Steps are checked as in ``test_reference_steps.py``: no dropout, plain SGD, the random draws
replayed from a fresh ``SeedGenerator`` with the model's seed in the order the step makes them,
and a deliberately wrong rule that must *not* match.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_course import callbacks, diffaugment, ema, gan, losses, models, saving, training, wgan
from sgd_rules import LR, assert_close, assign, differs, sgd_update, values

SHAPE = (8, 8, 3)


def reals(n=8, shape=SHAPE, seed=0):
    return tf.constant(np.random.default_rng(seed).uniform(-1, 1, (n, *shape)).astype("float32"))


def small_dcgan(seed=3, d_lr=LR, g_lr=LR, **options):
    keras.utils.set_random_seed(seed)
    g = models.dcgan_generator(4, SHAPE, width=4)
    d = models.dcgan_discriminator(SHAPE, width=4, dropout=0.0)
    model = training.DCGAN(g, d, seed=seed, **options)
    model.compile(d_optimizer=keras.optimizers.SGD(d_lr), g_optimizer=keras.optimizers.SGD(g_lr))
    return model


# --------------------------------------------------------------------------- generator EMA


def test_ema_after_k_generator_updates_is_the_closed_form():
    """w_ema_k = beta^k w_0 + (1 - beta) sum_i beta^(k - i) w_i, one term per generator move."""
    beta, k = 0.8, 4
    keras.utils.set_random_seed(3)
    g = models.dcgan_generator(4, SHAPE, width=4)
    model = training.DCGAN(g, models.dcgan_discriminator(SHAPE, width=4, dropout=0.0), seed=3,
                           ema=ema.GeneratorEMA(g, decay=beta, warmup=False))
    model.compile(d_optimizer=keras.optimizers.SGD(LR), g_optimizer=keras.optimizers.SGD(LR))
    g_vars = model.generator.trainable_variables
    history = [values(g_vars)]
    for step in range(k):
        model.train_step(reals(seed=step))
        history.append(values(g_vars))
    assert int(model.ema.updates.numpy()) == k
    trainable_average = [a for a, w in zip(model.ema.average.weights, model.generator.weights) if w.trainable]
    assert len(trainable_average) == len(g_vars)
    far_from_last = []
    for j, a in enumerate(trainable_average):
        closed = beta**k * history[0][j] + (1 - beta) * sum(beta ** (k - i) * history[i][j] for i in range(1, k + 1))
        np.testing.assert_allclose(a.numpy(), closed, rtol=1e-5, atol=1e-6)
        far_from_last.append(np.abs(closed - history[-1][j]).max() > 1e-4)
    assert any(far_from_last)  # the average is not simply the last weights


def test_ema_measures_batch_norm_statistics_on_the_averaged_weights():
    """Batch norm makes the layer before it blind to its weights' scale, so the live generator's
    statistics need not fit the average (the fast recipe's seed 1 drew blank digits from the EMA
    while the live generator drew digits). The average's moving mean and variance move towards its
    own activations' with the layer's momentum; copying the live ones fails this test."""
    keras.utils.set_random_seed(5)
    g = models.dcgan_generator(4, SHAPE, width=4)
    average = ema.GeneratorEMA(g, decay=0.5, warmup=False)
    norm = next(layer for layer in g.layers if isinstance(layer, keras.layers.BatchNormalization))
    before = g.layers[g.layers.index(norm) - 1]
    for w in before.trainable_weights:  # the live layer 1000 times larger; batch norm hides it
        w.assign(w * 1000.0)
    norm.moving_variance.assign(norm.moving_variance * 1e6)
    z = tf.constant(np.random.default_rng(0).normal(size=(16, 4)).astype("float32"))
    average.update(g, z)
    mirror = average.average.get_layer(norm.name)
    old_mean, old_var = np.zeros(mirror.moving_mean.shape), np.ones(mirror.moving_variance.shape)  # at build
    x = keras.Model(average.average.inputs, mirror.input)(z, training=False).numpy()
    x = x.reshape(-1, x.shape[-1])
    m = mirror.momentum
    np.testing.assert_allclose(mirror.moving_mean.numpy(), m * old_mean + (1 - m) * x.mean(0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(mirror.moving_variance.numpy(), m * old_var + (1 - m) * x.var(0), rtol=1e-4, atol=1e-4)
    assert not np.allclose(mirror.moving_variance.numpy(), norm.moving_variance.numpy())  # not the live ones
    # Without the input batch (a caller that has none) the statistics are copied, as before.
    average.update(g)
    np.testing.assert_array_equal(mirror.moving_variance.numpy(), norm.moving_variance.numpy())


def test_ema_warm_up_schedule():
    assert float(ema.ema_decay(0, 0.999)) == pytest.approx(0.1)
    assert float(ema.ema_decay(8, 0.999)) == pytest.approx(0.5)
    assert float(ema.ema_decay(80, 0.999)) == pytest.approx(0.9)
    assert float(ema.ema_decay(100_000, 0.999)) == pytest.approx(0.999)
    assert float(ema.ema_decay(0, 0.999, warmup=False)) == pytest.approx(0.999)
    with pytest.raises(ValueError, match="decay"):
        ema.GeneratorEMA(models.dcgan_generator(4, SHAPE, width=4), decay=1.0)


def test_sampling_grids_and_saving_use_the_ema_generator(tmp_path):
    from test_portable import load_in_plain_keras

    model = small_dcgan(ema=0.9)
    plain = small_dcgan()
    assert plain.sampling_generator is plain.generator  # off by default
    for step in range(3):
        model.train_step(reals(seed=step))
    z = np.random.default_rng(1).normal(size=(4, 4)).astype("float32")
    from_ema = model.ema.average(z, training=False).numpy()
    assert not np.allclose(from_ema, model.generator(z, training=False).numpy(), atol=1e-6)
    np.testing.assert_allclose(model(z).numpy(), from_ema, atol=1e-6)  # gan(z) samples from the average

    monitor = callbacks.GANMonitor(z)
    monitor.set_model(model)
    monitor.on_epoch_end(0)
    np.testing.assert_allclose(monitor.grids[-1], from_ema, atol=1e-6)

    saved = saving.save_gan(model, tmp_path / "run")
    np.save(tmp_path / "z.npy", z)
    np.save(tmp_path / "ema_out.npy", from_ema)
    load_in_plain_keras([(saved["generator"], [tmp_path / "z.npy"], [tmp_path / "ema_out.npy"])], tmp_path)


# --------------------------------------------------------------------------- DiffAugment


@pytest.mark.parametrize("policy", ["color", "translation", "cutout", diffaugment.POLICY])
def test_diffaugment_passes_gradients_to_the_generator(policy):
    keras.utils.set_random_seed(0)
    g = models.dcgan_generator(4, SHAPE, width=4)
    d = models.dcgan_discriminator(SHAPE, width=4, dropout=0.0)
    z = keras.random.normal((8, 4), seed=1)
    with tf.GradientTape() as tape:
        augmented = diffaugment.diff_augment(g(z, training=True), policy, seed=2)
        loss = losses.generator_loss(d(augmented, training=True))
    grads = tape.gradient(loss, g.trainable_variables)
    assert all(gr is not None for gr in grads)
    flat = np.concatenate([tf.reshape(gr, [-1]).numpy() for gr in grads])
    assert np.all(np.isfinite(flat)) and np.abs(flat).max() > 0


def test_diffaugment_is_the_identity_when_off_and_at_evaluation():
    x = reals()
    np.testing.assert_array_equal(diffaugment.diff_augment(x, "").numpy(), x.numpy())
    plain, augmented = small_dcgan(), small_dcgan(augment=diffaugment.POLICY)
    assert plain.augment_images(x) is x
    expected = augmented.discriminator(x, training=False).numpy()
    np.testing.assert_array_equal(augmented.score(x, training=False).numpy(), expected)  # off at evaluation
    assert not np.allclose(augmented.score(x).numpy(), augmented.discriminator(x, training=True).numpy())
    with pytest.raises(ValueError, match="Unknown DiffAugment policy"):
        small_dcgan(augment="colour")


def test_translation_shifts_whole_images_and_fills_zeros():
    x = np.random.default_rng(0).uniform(0.1, 1, (16, 8, 8, 3)).astype("float32")  # no zeros of its own
    out = diffaugment.rand_translation(tf.constant(x), seed=4).numpy()
    assert out.shape == x.shape
    shifts = set()
    for image, moved in zip(x, out):
        matches = []
        for dy in (-1, 0, 1):  # 8 pixels * 0.125 = at most 1 pixel each way
            for dx in (-1, 0, 1):
                want = np.zeros_like(image)
                src = image[max(dy, 0):8 + min(dy, 0), max(dx, 0):8 + min(dx, 0)]
                want[max(-dy, 0):max(-dy, 0) + src.shape[0], max(-dx, 0):max(-dx, 0) + src.shape[1]] = src
                if np.array_equal(moved, want):
                    matches.append((dy, dx))
        assert len(matches) == 1
        shifts.add(matches[0])
    assert len(shifts) > 1  # one draw per image


def test_cutout_zeroes_one_square_and_keeps_the_rest():
    x = np.random.default_rng(0).uniform(0.1, 1, (16, 8, 8, 1)).astype("float32")
    out = diffaugment.rand_cutout(tf.constant(x), seed=5).numpy()
    assert out.shape == x.shape
    for image, cut in zip(x, out):
        hole = cut[..., 0] == 0
        np.testing.assert_array_equal(cut[~hole], image[~hole])
        rows, cols = np.nonzero(hole)
        assert hole.any() and hole.sum() == (np.ptp(rows) + 1) * (np.ptp(cols) + 1)  # one rectangle
        assert np.ptp(rows) + 1 <= 4 and np.ptp(cols) + 1 <= 4  # half of the side at most
    assert out.min() >= 0 and out.max() <= x.max()  # the input's values or 0


def test_colour_changes_follow_their_formulas():
    x = tf.constant(np.random.default_rng(0).uniform(-1, 1, (32, 8, 8, 3)).astype("float32"))
    brighter = diffaugment.rand_brightness(x, seed=1).numpy() - x.numpy()
    per_image = brighter.reshape(32, -1)
    np.testing.assert_allclose(per_image, per_image[:, :1].repeat(per_image.shape[1], 1), atol=1e-6)
    assert np.all(np.abs(per_image) <= 0.5) and np.ptp(per_image[:, 0]) > 0.1

    mean = x.numpy().mean(axis=(1, 2, 3), keepdims=True)
    ratio = ((diffaugment.rand_contrast(x, seed=2).numpy() - mean) / (x.numpy() - mean)).reshape(32, -1)
    assert np.all((ratio > 0.5 - 1e-4) & (ratio < 1.5 + 1e-4)) and np.allclose(ratio, ratio[:, :1], atol=1e-3)

    grey = x[..., :1]
    np.testing.assert_allclose(diffaugment.rand_saturation(grey, seed=3).numpy(), grey.numpy(), atol=1e-6)
    channel_mean = x.numpy().mean(axis=-1, keepdims=True)
    factor = ((diffaugment.rand_saturation(x, seed=3).numpy() - channel_mean) / (x.numpy() - channel_mean))
    assert np.all((factor > -1e-3) & (factor < 2 + 1e-3))
    assert diffaugment.diff_augment(x, "color", seed=4).shape == x.shape


def _dcgan_rule(model, x, seed, lr_d=LR, lr_g=LR, augment_g=True, r1=True, r1_gamma=None):
    """DCGAN's alternating step written out: D's BCE on D(T(x)) and D(T(G(z))) (plus
    (gamma / 2) E||grad_x D(T(x))||^2), an SGD step; then G's non-saturating loss on the updated
    D(T(G(z))), an SGD step. T draws afresh at each call, in that order."""
    sg = keras.random.SeedGenerator(seed)

    def D(images, augment=True):
        if augment and model.augment:
            images = diffaugment.diff_augment(images, model.augment, seed=sg)
        return model.discriminator(images, training=True)

    g_vars, d_vars = model.generator.trainable_variables, model.discriminator.trainable_variables
    start = values(g_vars + d_vars)
    z = keras.random.normal((x.shape[0], model.latent_dim), seed=sg)
    fakes = model.generator(z, training=True)
    with tf.GradientTape() as tape:
        d_loss = losses.discriminator_loss(D(x), D(fakes))
        if r1 and model.r1_gamma:
            with tf.GradientTape() as inner:
                inner.watch(x)
                total = tf.reduce_sum(D(x))
            grad_x = inner.gradient(total, x)
            gamma = model.r1_gamma if r1_gamma is None else r1_gamma
            d_loss += gamma / 2 * tf.reduce_mean(tf.reduce_sum(grad_x**2, axis=[1, 2, 3]))
    assign(d_vars, sgd_update(start[len(g_vars):], tape.gradient(d_loss, d_vars), lr_d))
    with tf.GradientTape() as tape:
        g_loss = losses.generator_loss(D(model.generator(z, training=True), augment=augment_g))
    expected = sgd_update(start[: len(g_vars)], tape.gradient(g_loss, g_vars), lr_g) + values(d_vars)
    assign(g_vars + d_vars, start)
    return expected


def test_dcgan_step_with_diffaugment_augments_both_players():
    model = small_dcgan(augment=diffaugment.POLICY)
    x = reals()
    expected = _dcgan_rule(model, x, seed=3)
    d_only = _dcgan_rule(model, x, seed=3, augment_g=False)
    model.train_step(x)
    everything = model.generator.trainable_variables + model.discriminator.trainable_variables
    assert_close(everything, expected)
    assert differs(model.generator.trainable_variables, d_only)  # G's gradient passes through T too


def test_wgan_step_with_diffaugment_augments_critic_penalty_and_generator():
    keras.utils.set_random_seed(5)
    model = wgan.WGAN(models.dcgan_generator(4, SHAPE, width=4), wgan.wgan_critic(SHAPE, width=4), n_critic=2,
                      seed=5, augment="color,translation,cutout")
    model.compile(c_optimizer=keras.optimizers.SGD(LR), g_optimizer=keras.optimizers.SGD(LR))
    x = reals()

    def rule(augment_g=True):
        sg = keras.random.SeedGenerator(5)

        def C(images, training=True, augment=True):
            if augment:
                images = diffaugment.diff_augment(images, model.augment, seed=sg)
            return model.critic(images, training=True)

        g_vars, c_vars = model.generator.trainable_variables, model.critic.trainable_variables
        start = values(g_vars + c_vars)
        for i in range(2):
            real = x[i * 4:(i + 1) * 4]
            fakes = model.generator(keras.random.normal((4, 4), seed=sg), training=True)
            with tf.GradientTape() as tape:
                loss = losses.wasserstein_critic_loss(C(real), C(fakes))
                alpha = keras.random.uniform((4,), 0.0, 1.0, seed=sg)
                loss += 10.0 * losses.gradient_penalty(C, real, fakes, alpha=alpha)
            assign(c_vars, sgd_update(values(c_vars), tape.gradient(loss, c_vars)))
        z = keras.random.normal((4, 4), seed=sg)
        with tf.GradientTape() as tape:
            g_loss = losses.wasserstein_generator_loss(C(model.generator(z, training=True), augment=augment_g))
        expected = sgd_update(start[: len(g_vars)], tape.gradient(g_loss, g_vars)) + values(c_vars)
        assign(g_vars + c_vars, start)
        return expected

    expected, critic_only = rule(), rule(augment_g=False)
    model.train_step(x)
    assert_close(model.generator.trainable_variables + model.critic.trainable_variables, expected)
    assert differs(model.generator.trainable_variables, critic_only)


# --------------------------------------------------------------------------- TTUR


def test_two_time_scales_give_each_player_its_own_learning_rate():
    d_opt, g_opt = gan.two_time_scale_optimizers()
    assert d_opt is not g_opt
    model = small_dcgan()
    model.compile(d_opt, g_opt)
    assert float(model.d_optimizer.learning_rate) == pytest.approx(4e-4)
    assert float(model.g_optimizer.learning_rate) == pytest.approx(1e-4)

    model = small_dcgan(d_lr=0.08, g_lr=0.01)
    x = reals()
    expected = _dcgan_rule(model, x, seed=3, lr_d=0.08, lr_g=0.01)
    swapped = _dcgan_rule(model, x, seed=3, lr_d=0.01, lr_g=0.08)
    model.train_step(x)
    everything = model.generator.trainable_variables + model.discriminator.trainable_variables
    assert_close(everything, expected)
    assert differs(model.generator.trainable_variables, swapped) and differs(everything, swapped)


# --------------------------------------------------------------------------- spectral normalisation


def _sn_layers(model):
    return [layer for layer in model.layers if isinstance(layer, keras.layers.SpectralNormalization)]


@pytest.mark.parametrize("build", [
    lambda sn: models.dcgan_discriminator((16, 16, 1), width=8, dropout=0.0, spectral_norm=sn),
    lambda sn: wgan.wgan_critic((16, 16, 1), width=8, spectral_norm=sn),
])
def test_spectral_norm_makes_each_kernel_s_largest_singular_value_one(build):
    keras.utils.set_random_seed(0)
    x = reals(4, (16, 16, 1))
    plain = build(False)
    plain_sigmas = [np.linalg.svd(layer.kernel.numpy().reshape(-1, layer.kernel.shape[-1]), compute_uv=False)[0]
                    for layer in plain.layers if hasattr(layer, "kernel")]
    assert all(abs(s - 1) > 0.1 for s in plain_sigmas)  # N(0, 0.02) kernels are far from 1

    model = build(True)
    wrapped = _sn_layers(model)
    assert len(wrapped) == len(plain_sigmas)  # every conv and the dense
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)
    for _ in range(100):  # power iteration: one step per training call, u kept in between
        model(x, training=True)
    for layer in wrapped:
        kernel = layer.layer.kernel.numpy()
        sigma = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0]
        # Power iteration converges at the rate (sigma_2 / sigma_1)^2 per call, slowly when the two
        # largest singular values are close (seen: 1.0034 after 100 calls), and its sigma is an
        # underestimate, so W / sigma lands a little above 1.
        assert sigma == pytest.approx(1.0, abs=1e-2), layer.name


def test_spectral_norm_models_load_in_plain_keras(tmp_path):
    from test_portable import load_in_plain_keras

    x = reals(3, (16, 16, 1)).numpy()
    cases = []
    for name, model in [("sn_discriminator", models.dcgan_discriminator((16, 16, 1), width=8, spectral_norm=True)),
                        ("sn_critic", wgan.wgan_critic((16, 16, 1), width=8, spectral_norm=True))]:
        model(x, training=True)  # normalise once, so the saved kernels are the normalised ones
        path = saving.save_model(model, tmp_path / f"{name}.keras")
        np.save(tmp_path / f"{name}_in.npy", x)
        np.save(tmp_path / f"{name}_out.npy", model(x, training=False).numpy())
        cases.append((path, [tmp_path / f"{name}_in.npy"], [tmp_path / f"{name}_out.npy"]))
    load_in_plain_keras(cases, tmp_path)


# --------------------------------------------------------------------------- R1


def test_r1_of_a_linear_discriminator_is_gamma_half_the_squared_weight_norm():
    """D(x) = w . x + b has grad_x D = w for every image: R1 = (gamma / 2) ||w||^2."""
    d = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
    d.layers[-1].set_weights([np.array([[1.0], [2.0], [3.0], [4.0]], "float32"), np.array([5.0], "float32")])
    x = reals(6, (2, 2, 1))
    assert float(losses.r1_penalty(d, x, gamma=10.0)) == pytest.approx(10.0 / 2 * 30.0, rel=1e-6)
    assert float(losses.r1_penalty(d, x, gamma=0.0)) == 0.0


def test_r1_averages_each_image_s_own_squared_gradient():
    """D(x) = ||x||^2 / 2 has grad_x D = x: R1 = (gamma / 2) mean_i ||x_i||^2."""
    x = tf.constant([[[[1.0]], [[2.0]]], [[[0.0]], [[3.0]]]])  # ||x_1||^2 = 5, ||x_2||^2 = 9

    def half_square(images, training=True):
        return 0.5 * tf.reduce_sum(images**2, axis=[1, 2, 3])[:, None]

    assert float(losses.r1_penalty(half_square, x, gamma=4.0)) == pytest.approx(4.0 / 2 * (5 + 9) / 2)


def test_dcgan_step_with_r1_adds_it_to_the_discriminator_s_loss():
    model = small_dcgan(r1_gamma=10.0)
    x = reals()
    expected = _dcgan_rule(model, x, seed=3)
    without = _dcgan_rule(model, x, seed=3, r1=False)
    model.train_step(x)
    assert_close(model.generator.trainable_variables + model.discriminator.trainable_variables, expected)
    assert differs(model.discriminator.trainable_variables, without[len(model.generator.trainable_variables):])


def test_lazy_r1_penalises_every_kth_step_with_k_times_the_weight():
    """r1_every=3: D's steps 0 and 3 carry (3 gamma / 2) E||grad_x D||^2, steps 1 and 2 none."""
    model = small_dcgan(r1_gamma=10.0, r1_every=3)
    x = reals()
    everything = model.generator.trainable_variables + model.discriminator.trainable_variables
    first_draws = model.seed_generator.state.numpy()
    for penalised in (True, False, False, True):
        expected = _dcgan_rule(model, x, seed=3, r1=penalised, r1_gamma=30.0)
        model.seed_generator.state.assign(first_draws)  # the rule's noise and augmentations, replayed
        model.train_step(x)
        assert_close(everything, expected)
    with pytest.raises(ValueError, match="r1_every"):
        small_dcgan(r1_gamma=10.0, r1_every=0)


def test_dcgan_step_with_r1_and_diffaugment_penalises_the_augmented_discriminator():
    model = small_dcgan(r1_gamma=10.0, augment="translation,cutout")
    x = reals()
    expected = _dcgan_rule(model, x, seed=3)
    model.train_step(x)
    assert_close(model.generator.trainable_variables + model.discriminator.trainable_variables, expected)
