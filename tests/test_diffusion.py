"""The diffusion model of lesson 08: schedule, closed-form forward process, loss, sampler steps, U-Net, saving."""

import math
import warnings

import keras
import numpy as np
import pytest

from gan_course import diffusion as dm


# --------------------------------------------------------------------------- the schedule

def test_linear_schedule_at_t_1000_is_ho_et_al():
    betas = dm.linear_betas(1000)
    assert betas[0] == pytest.approx(1e-4) and betas[-1] == pytest.approx(0.02)
    assert betas[1] == pytest.approx(1e-4 + (0.02 - 1e-4) / 999)


def test_linear_schedule_is_scaled_to_other_lengths_by_hand():
    # T = 200: scale 1000 / 200 = 5, betas from 5e-4 to 0.1 in steps of 0.0995 / 199 = 5e-4, so beta_t = 5e-4 (t + 1).
    s = dm.make_schedule(200)
    np.testing.assert_allclose(s.betas[:3], [0.0005, 0.0010, 0.0015], rtol=1e-12)
    assert s.betas[-1] == pytest.approx(0.1)
    # alpha_bar_2 = 0.9995 * 0.9990 * 0.9985 = 0.9985005 * 0.9985 = 0.99700274925
    assert s.alpha_bar[2] == pytest.approx(0.99700274925, rel=1e-12)
    np.testing.assert_allclose(s.alphas, 1 - s.betas)
    # x_T is pure noise at any T: alpha_bar_T = prod(1 - 5e-4 k) ~ exp(-sum) with sum = 5e-4 * 200 * 201 / 2 = 10.05
    assert s.alpha_bar[-1] < 1e-4 and dm.make_schedule(1000).alpha_bar[-1] < 1e-4


def test_schedule_clips_betas_and_refuses_nonsense():
    assert dm.linear_betas(2).max() == dm.MAX_BETA  # 500 * 0.02 = 10 would be no probability
    with pytest.raises(ValueError, match="whole number"):
        dm.linear_betas(0)


# --------------------------------------------------------------------------- forward process and loss

def test_closed_form_matches_the_iterated_process_exactly():
    """Mean and variance of x_t given x_0: one step at a time (x_t = sqrt(alpha_t) x_{t-1} + sqrt(beta_t) eps)
    against the closed form sqrt(alpha_bar_t) x_0 and 1 - alpha_bar_t."""
    s = dm.make_schedule(50)
    x0, mean, var = 0.7, 0.7, 0.0
    for t in range(s.T):
        mean, var = math.sqrt(s.alphas[t]) * mean, s.alphas[t] * var + s.betas[t]
        assert mean == pytest.approx(math.sqrt(s.alpha_bar[t]) * x0, rel=1e-10)
        assert var == pytest.approx(1 - s.alpha_bar[t], rel=1e-10)


def test_q_sample_by_monte_carlo_and_by_formula():
    s = dm.make_schedule(50)
    rng = np.random.default_rng(0)
    x0 = np.full((20000, 1, 1, 1), 0.7, "float32")
    noise = rng.standard_normal(x0.shape).astype("float32")
    t = np.full((20000, 1), 30)
    x_t = keras.ops.convert_to_numpy(dm.q_sample(s, x0, t, noise))
    np.testing.assert_allclose(x_t, np.sqrt(s.alpha_bar[30]) * x0 + np.sqrt(1 - s.alpha_bar[30]) * noise, rtol=1e-5, atol=1e-6)
    assert x_t.mean() == pytest.approx(np.sqrt(s.alpha_bar[30]) * 0.7, abs=0.02)
    assert x_t.var() == pytest.approx(1 - s.alpha_bar[30], rel=0.03)
    # a different time per image
    both = keras.ops.convert_to_numpy(dm.q_sample(s, x0[:2], np.array([0, 49]), noise[:2]))
    assert both[0, 0, 0, 0] == pytest.approx(np.sqrt(s.alpha_bar[0]) * 0.7 + np.sqrt(1 - s.alpha_bar[0]) * noise[0, 0, 0, 0], rel=1e-5)
    assert both[1, 0, 0, 0] == pytest.approx(np.sqrt(s.alpha_bar[49]) * 0.7 + np.sqrt(1 - s.alpha_bar[49]) * noise[1, 0, 0, 0], rel=1e-5)


def test_noise_loss_is_the_mean_squared_error():
    assert float(dm.noise_loss(np.array([1.0, -1.0, 2.0, 0.0]), np.array([0.0, -1.0, 0.0, 1.0]))) == pytest.approx((1 + 0 + 4 + 1) / 4)


# --------------------------------------------------------------------------- the sampler steps on fixed numbers

TOY = dm.Schedule(np.array([0.1, 0.2, 0.5]))  # alphas 0.9, 0.8, 0.5; alpha_bar 0.9, 0.72, 0.36


def test_toy_schedule_by_hand():
    np.testing.assert_allclose(TOY.alpha_bar, [0.9, 0.72, 0.36])


def test_ddpm_step_against_algorithm_2():
    # t = 2: (1 - 0.5 / sqrt(1 - 0.36) * 0.5) / sqrt(0.5) + sqrt(0.5) * 0.2 = 0.6875 * 1.41421356 + 0.14142136
    x = dm.ddpm_step(np.array([1.0]), 2, np.array([0.5]), TOY, z=np.array([0.2]))
    assert x[0] == pytest.approx(0.6875 * math.sqrt(2) + 0.2 / math.sqrt(2), rel=1e-12)
    assert x[0] == pytest.approx(1.1136931, abs=1e-7)
    # the last step (t = 0) adds no noise: (1 - 0.1 / sqrt(0.1) * 0.5) / sqrt(0.9)
    last = dm.ddpm_step(np.array([1.0]), 0, np.array([0.5]), TOY, z=np.array([123.0]))
    assert last[0] == pytest.approx((1 - 0.1 / math.sqrt(0.1) * 0.5) / math.sqrt(0.9), rel=1e-12)


def test_ddim_step_against_its_formula():
    # x0_hat = (1 - sqrt(0.64) * 0.5) / sqrt(0.36) = 0.6 / 0.6 = 1; to t_prev = 0: sqrt(0.9) * 1 + sqrt(0.1) * 0.5
    x = dm.ddim_step(np.array([1.0]), 2, 0, np.array([0.5]), TOY)
    assert x[0] == pytest.approx(math.sqrt(0.9) + 0.5 * math.sqrt(0.1), rel=1e-12)
    assert dm.ddim_step(np.array([1.0]), 2, -1, np.array([0.5]), TOY)[0] == pytest.approx(1.0)  # the end: x0_hat
    # with clip: x0_hat = (2 - 0.4) / 0.6 = 2.67 -> 1, noise recomputed as (2 - 0.6 * 1) / 0.8 = 1.75
    clipped = dm.ddim_step(np.array([2.0]), 2, 0, np.array([0.5]), TOY, clip=True)
    assert clipped[0] == pytest.approx(math.sqrt(0.9) + 1.75 * math.sqrt(0.1), rel=1e-12)


def test_ddim_with_every_step_and_ddpm_agree_on_the_mean():
    """With eta = 0 and all steps DDIM is deterministic; DDPM's mean at one step differs from DDIM's
    (it aims at a noisier point), but both see through x0_hat: with a perfect eps they return x_0."""
    x0, eps = np.array([0.3]), np.array([-0.8])
    x_t = math.sqrt(TOY.alpha_bar[2]) * x0 + math.sqrt(1 - TOY.alpha_bar[2]) * eps
    x0_hat, _ = dm.predicted_x0(x_t, 2, eps, TOY)
    np.testing.assert_allclose(x0_hat, x0)
    np.testing.assert_allclose(dm.ddim_step(x_t, 2, -1, eps, TOY), x0)


def test_ddim_timesteps():
    np.testing.assert_array_equal(dm.ddim_timesteps(1000, 5), [999, 749, 500, 250, 0])
    np.testing.assert_array_equal(dm.ddim_timesteps(3, 10), [2, 1, 0])
    np.testing.assert_array_equal(dm.ddim_timesteps(200, 1), [199])


class ZeroNoise:
    """A stand-in network that always predicts zero noise."""

    input_shape = [(None, 2, 2, 1), (None, 1)]

    def predict_on_batch(self, inputs):
        return np.zeros_like(inputs[0])


def test_samplers_follow_their_steps_on_a_fixed_seed():
    x = np.random.default_rng(5).standard_normal((3, 2, 2, 1))
    expected = x.copy()
    for t, t_prev in [(2, 1), (1, 0), (0, -1)]:
        expected = dm.ddim_step(expected, t, t_prev, np.zeros_like(expected), TOY, clip=True)
    np.testing.assert_allclose(dm.ddim_sample(ZeroNoise(), TOY, 3, 3, seed=5), np.clip(expected, -1, 1), rtol=1e-6)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 2, 2, 1))
    for t in (2, 1, 0):
        x = dm.ddpm_step(x, t, np.zeros_like(x), TOY, rng.standard_normal(x.shape), clip=True)
    np.testing.assert_allclose(dm.ddpm_sample(ZeroNoise(), TOY, 3, seed=5), np.clip(x, -1, 1), rtol=1e-6)


# --------------------------------------------------------------------------- the U-Net

def test_time_table_is_the_sinusoidal_formula():
    table = dm.timestep_table(10, 8)
    freqs = 10000.0 ** (-np.arange(4) / 4)
    np.testing.assert_allclose(table[7], np.concatenate([np.sin(7 * freqs), np.cos(7 * freqs)]), rtol=1e-6)
    net = dm.unet(10, width=8)
    np.testing.assert_allclose(net.get_layer("time_table").get_weights()[0], dm.timestep_table(10, dm.EMBED_DIM))
    assert not net.get_layer("time_table").trainable


def test_unet_shapes_and_zero_start(seeded):
    net = dm.unet(10, width=8)
    out = net.predict_on_batch([np.ones((2, 28, 28, 1), "float32"), np.array([[0], [9]], "int32")])
    assert out.shape == (2, 28, 28, 1) and np.all(out == 0), "the output conv starts at zero: no noise predicted"


def test_group_norm_is_an_option():
    def norms(net):
        return sum(isinstance(layer, keras.layers.GroupNormalization) for layer in net.layers)
    assert norms(dm.unet(10, width=8)) == 0 and norms(dm.unet(10, width=8, norm=True)) == 6  # 2 per block, 3 blocks


@pytest.mark.parametrize("norm", [False, True])
def test_saved_unet_loads_with_plain_keras_in_safe_mode(tmp_path, seeded, norm):
    net = dm.unet(10, width=8, norm=norm)
    net.get_layer("noise").set_weights([w + 0.01 for w in net.get_layer("noise").get_weights()])
    path = tmp_path / "unet.keras"
    net.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    x, t = np.random.default_rng(0).standard_normal((2, 28, 28, 1)).astype("float32"), np.array([[1], [8]], "int32")
    np.testing.assert_allclose(loaded.predict_on_batch([x, t]), net.predict_on_batch([x, t]), atol=1e-6)
    # only Keras' own layers: nothing a plain `import keras` would not know
    assert {type(layer).__module__.split(".")[0] for layer in loaded.layers} == {"keras"}


def test_a_few_training_steps_lower_the_loss(seeded):
    import tensorflow as tf

    schedule = dm.make_schedule(20)
    model = dm.DiffusionModel(dm.unet(20, width=8), schedule, ema=0.9, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), run_eagerly=True)  # eager: no 15 s graph build for 17 steps
    images = np.tanh(np.random.default_rng(0).standard_normal((32, 28, 28, 1))).astype("float32")
    batches = tf.data.Dataset.from_tensor_slices(images).batch(16).repeat()
    with warnings.catch_warnings(record=True) as caught:  # every warning, not once per process
        warnings.simplefilter("always")
        first = model.fit(batches, epochs=1, steps_per_epoch=1, verbose=0).history["loss"][0]
    # The course's pipelines shuffle themselves: no Keras warning about shuffle=True in a lesson
    assert not [w for w in caught if "shuffle" in str(w.message)], [str(w.message) for w in caught]
    later = model.fit(batches, epochs=2, steps_per_epoch=8, verbose=0).history["loss"][-1]
    assert first == pytest.approx(1.0, abs=0.1), "a zero prediction scores E[eps^2] = 1"
    assert later < 0.9 * first
    assert model.sampling_network is model.ema.average
    averaged, live = model.ema.average.get_layer("noise").get_weights()[0], model.network.get_layer("noise").get_weights()[0]
    assert not np.allclose(averaged, live) and np.abs(averaged).sum() > 0
    samples = model.sample_ddim(3, 2, seed=1)
    assert samples.shape == (3, 28, 28, 1) and samples.dtype == np.float32 and np.abs(samples).max() <= 1
