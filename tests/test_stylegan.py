"""The style-based generator's pieces (gan_course.zoo.stylegan): each one's defining property."""

import keras
import numpy as np
import pytest

from gan_course.zoo import stylegan

W_DIM, WIDTH = 8, 8


def rng(seed=0):
    return np.random.default_rng(seed)


def small_synthesis():
    keras.utils.set_random_seed(0)
    return stylegan.synthesis_network(W_DIM, width=WIDTH)


def inputs_for(synthesis, ws, seed=0, noise_scale=1.0):
    r = rng(seed)
    return [ws] + [noise_scale * r.standard_normal((len(ws),) + tuple(s[1:])).astype("float32")
                   for s in synthesis.input_shape[1:]]


def test_adain_output_has_the_style_statistics():
    x = rng(1).normal(3.0, 2.0, (2, 5, 5, 4)).astype("float32")
    w = rng(2).standard_normal((2, W_DIM)).astype("float32")
    adain = stylegan.AdaIN()
    y = keras.ops.convert_to_numpy(adain([x, w]))
    scale, bias = (keras.ops.convert_to_numpy(adain.to_scale(w)), keras.ops.convert_to_numpy(adain.to_bias(w)))
    np.testing.assert_allclose(y.mean(axis=(1, 2)), bias, atol=1e-4)
    np.testing.assert_allclose(y.std(axis=(1, 2)), np.abs(scale), rtol=1e-3)


def test_modulated_conv_demodulation_ignores_the_style_scale():
    x = rng(3).standard_normal((2, 7, 7, 6)).astype("float32")
    ws = rng(4).standard_normal((2, 1, W_DIM)).astype("float32")
    conv = stylegan.ModulatedConv2D(5, 3)
    y1 = keras.ops.convert_to_numpy(conv([x, ws]))
    conv.style_bias.assign(10.0 * conv.style_bias.numpy())  # A w + b, both scaled: s becomes exactly 10 s
    conv.style_kernel.assign(10.0 * conv.style_kernel.numpy())
    y10 = keras.ops.convert_to_numpy(conv([x, ws]))
    np.testing.assert_allclose(y1, y10, rtol=1e-3, atol=1e-4)  # s and 10 s: the same output after demodulation


def test_modulated_conv_equals_a_per_sample_convolution_with_modulated_weights():
    x = rng(5).standard_normal((2, 5, 5, 3)).astype("float32")
    ws = rng(6).standard_normal((2, 2, W_DIM)).astype("float32")
    conv = stylegan.ModulatedConv2D(4, 3, style_index=1)
    y = keras.ops.convert_to_numpy(conv([x, ws]))
    for i in range(2):  # the paper's form: k'' = s k / sqrt(sum (s k)^2), one kernel per sample
        s = keras.ops.convert_to_numpy(conv.style(ws[i:i + 1, 1]))[0]
        k = conv.kernel.numpy() * conv.kernel_gain * s[None, None, :, None]
        k = k / np.sqrt((k ** 2).sum(axis=(0, 1, 2), keepdims=True) + 1e-8)
        expected = keras.ops.convert_to_numpy(keras.ops.conv(x[i:i + 1], k, padding="same")) + conv.bias.numpy()
        np.testing.assert_allclose(y[i:i + 1], expected, rtol=1e-4, atol=1e-4)


def test_unit_variance_in_gives_about_unit_variance_out():
    x = rng(7).standard_normal((8, 14, 14, 32)).astype("float32")
    ws = rng(8).standard_normal((8, 1, W_DIM)).astype("float32")
    y = keras.ops.convert_to_numpy(stylegan.ModulatedConv2D(32, 3)([x, ws]))
    assert 0.8 < y.std() < 1.2


def test_noise_strength_starts_at_zero_and_then_matters():
    synthesis = small_synthesis()
    ws = rng(9).standard_normal((2, 6, W_DIM)).astype("float32")
    a = synthesis(inputs_for(synthesis, ws, seed=1)).numpy()
    b = synthesis(inputs_for(synthesis, ws, seed=2)).numpy()
    np.testing.assert_allclose(a, b, atol=1e-6)  # strengths start at 0: noise has no effect yet
    synthesis.get_layer("noise_injection_4").strength.assign(np.ones(WIDTH // 2, "float32"))
    c = synthesis(inputs_for(synthesis, ws, seed=1)).numpy()
    d = synthesis(inputs_for(synthesis, ws, seed=2)).numpy()
    assert np.abs(c - d).max() > 1e-3


def test_each_layer_reads_its_own_style():
    synthesis = small_synthesis()
    ws = rng(10).standard_normal((1, 6, W_DIM)).astype("float32")
    base = synthesis(inputs_for(synthesis, ws)).numpy()
    for layer in range(6):
        changed = ws.copy()
        changed[0, layer] += 3.0
        assert np.abs(synthesis(inputs_for(synthesis, changed)).numpy() - base).max() > 1e-4, layer
    assert synthesis.output_shape == (None, 28, 28, 1)


def test_style_mixing_and_truncation():
    w_a, w_b = np.zeros((2, 3), "float32"), np.ones((2, 3), "float32")
    ws = stylegan.mix_styles(w_a, w_b, n_styles=4, crossover=1)
    assert ws.shape == (2, 4, 3) and (ws[:, 0] == 0).all() and (ws[:, 1:] == 1).all()
    assert (stylegan.mix_styles(w_a, w_b, 4, 4) == 0).all() and (stylegan.mix_styles(w_a, w_b, 4, 0) == 1).all()
    with pytest.raises(ValueError, match="crossover"):
        stylegan.mix_styles(w_a, w_b, 4, 5)
    w, avg = np.array([2.0, 4.0]), np.array([1.0, 1.0])
    np.testing.assert_allclose(stylegan.truncate(w, avg, 0.5), [1.5, 2.5])
    np.testing.assert_allclose(stylegan.truncate(w, avg, 1.0), w)
    np.testing.assert_allclose(stylegan.truncate(w, avg, 0.0), avg)


def test_generate_psi_zero_gives_the_average_image_and_needs_w_avg():
    keras.utils.set_random_seed(0)
    mapping, synthesis = stylegan.mapping_network(6, W_DIM, n_layers=2), stylegan.synthesis_network(W_DIM, width=WIDTH)
    z = rng(11).standard_normal((3, 6)).astype("float32")
    w_avg = keras.ops.convert_to_numpy(mapping(rng(12).standard_normal((100, 6)).astype("float32"))).mean(0)
    images = stylegan.generate(mapping, synthesis, z, psi=0.0, w_avg=w_avg, noise_scale=0.0)
    np.testing.assert_allclose(images[0], images[2], atol=1e-5)
    assert np.abs(stylegan.generate(mapping, synthesis, z)[0] - stylegan.generate(mapping, synthesis, z)[1]).max() > 1e-4
    with pytest.raises(ValueError, match="w_avg"):
        stylegan.generate(mapping, synthesis, z, psi=0.5)


def test_synthesis_saves_and_loads_with_load_model(tmp_path):
    synthesis = small_synthesis()
    synthesis.get_layer("noise_injection_0").strength.assign(np.full(WIDTH, 0.5, "float32"))
    path = tmp_path / "synthesis.keras"
    synthesis.save(path)
    loaded = keras.saving.load_model(path)
    x = inputs_for(synthesis, rng(13).standard_normal((2, 6, W_DIM)).astype("float32"))
    np.testing.assert_allclose(loaded(x).numpy(), synthesis(x).numpy(), atol=1e-6)


def test_one_training_step_moves_both_players():
    keras.utils.set_random_seed(0)
    mapping, synthesis = stylegan.mapping_network(6, W_DIM, n_layers=2), stylegan.synthesis_network(W_DIM, width=WIDTH)
    d = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 4, strides=2), keras.layers.Flatten(),
                          keras.layers.Dense(1)])
    gan = stylegan.StyleGAN(mapping, synthesis, d, seed=0)
    gan.compile(run_eagerly=True)
    before_g, before_d = mapping.get_weights()[0].copy(), d.get_weights()[0].copy()
    logs = gan.train_on_batch(rng(14).uniform(-1, 1, (8, 28, 28, 1)).astype("float32"), return_dict=True)
    assert set(logs) >= {"d_loss", "g_loss"} and all(np.isfinite(v) for v in logs.values())
    assert np.abs(mapping.get_weights()[0] - before_g).max() > 0 and np.abs(d.get_weights()[0] - before_d).max() > 0
    ws = keras.ops.convert_to_numpy(gan.styles(64))  # mixing 0.9: most samples switch w somewhere
    switched = np.abs(ws[:, 0] - ws[:, -1]).max(axis=1) > 1e-6
    assert 0.6 < switched.mean() <= 1.0


def _tiny_style_gan(**kwargs):
    keras.utils.set_random_seed(0)
    mapping, synthesis = stylegan.mapping_network(6, W_DIM, n_layers=2), stylegan.synthesis_network(W_DIM, width=WIDTH)
    d = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 4, strides=2), keras.layers.Flatten(),
                          keras.layers.Dense(1)])
    gan = stylegan.StyleGAN(mapping, synthesis, d, seed=0, **kwargs)
    gan.compile(run_eagerly=True)
    return gan


def test_d_moves_at_stylegan2_s_rate_with_lazy_r1_on_real_images():
    """StyleGAN2's D: Adam(2e-3, beta_1 0, beta_2 0.99), and R1 (weight k * gamma) on D's steps 0, k, 2k, ...
    Twin GANs (same weights, same noise) differ in D's first loss by exactly that penalty."""
    from gan_course import losses

    gan = _tiny_style_gan()
    assert (gan.r1_gamma, gan.r1_every) == (1.0, 4)
    assert float(gan.d_optimizer.learning_rate) == pytest.approx(2e-3)
    assert float(gan.d_optimizer.beta_1) == 0.0 and float(gan.d_optimizer.beta_2) == pytest.approx(0.99)
    real = rng(15).uniform(-1, 1, (8, 28, 28, 1)).astype("float32")
    with_r1, without = _tiny_style_gan(r1_gamma=3.0, r1_every=4), _tiny_style_gan(r1_gamma=0.0)
    penalty = float(losses.r1_penalty(with_r1.discriminator, real, 3.0 * 4))
    assert penalty > 1e-4
    first = [g.train_on_batch(real, return_dict=True)["d_loss"] for g in (with_r1, without)]
    assert first[0] - first[1] == pytest.approx(penalty, rel=1e-3)


def test_a_gan_that_adds_no_r1_refuses_r1_gamma():
    from gan_course import wgan

    g = keras.Sequential([keras.Input((4,)), keras.layers.Dense(28 * 28), keras.layers.Reshape((28, 28, 1))])
    critic = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="does not add the R1 penalty"):
        wgan.WGAN(g, critic, r1_gamma=1.0)
