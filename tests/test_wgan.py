"""The WGAN critic and model on tiny networks: structure, n_critic, clipping, NaN guard, resuming."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from gan_course import callbacks, models, saving, wgan

SHAPE = (8, 8, 1)
LATENT = 4


def tiny_wgan(n_critic=2, **kwargs):
    g = models.dcgan_generator(LATENT, SHAPE, width=4)
    c = wgan.wgan_critic(SHAPE, width=4)
    return wgan.WGAN(g, c, n_critic=n_critic, seed=0, **kwargs)


def images(n, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n,) + SHAPE).astype("float32")


def batches(n_batches, batch_size, seed=0):
    return tf.data.Dataset.from_tensor_slices(images(n_batches * batch_size, seed)).batch(batch_size)


def test_critic_has_no_batch_norm_no_sigmoid_and_a_float32_score():
    critic = wgan.wgan_critic((16, 16, 3), width=8)
    kinds = {type(layer).__name__ for layer in critic.layers}
    assert "BatchNormalization" not in kinds and "Dropout" not in kinds
    assert critic.layers[-1].activation.__name__ == "linear"
    assert critic.layers[-1].dtype_policy.compute_dtype == "float32"
    assert critic.output_shape == (None, 1)
    assert wgan.critic_problems(critic) == []


def test_layer_norm_critic_scores_each_sample_on_its_own():
    critic = wgan.wgan_critic((8, 8, 3), width=4, norm="layer")
    x = np.random.default_rng(1).normal(size=(4, 8, 8, 3)).astype("float32")
    changed = x.copy()
    changed[1:] = 5.0  # change every other sample of the batch
    np.testing.assert_allclose(critic(x)[0], critic(changed)[0], atol=1e-6)


def test_batch_norm_critic_scores_depend_on_the_rest_of_the_batch():
    """Why batch norm is banned: in training mode, sample 0's score moves when sample 1 changes."""
    critic = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.BatchNormalization(), layers.Dense(1)])
    x = np.random.default_rng(2).normal(size=(4, 4)).astype("float32")
    changed = x.copy()
    changed[1] += 3.0
    assert abs(float(critic(x, training=True)[0, 0] - critic(changed, training=True)[0, 0])) > 1e-3


def test_bad_critics_are_refused_with_the_reason():
    bn_sigmoid = keras.Sequential([
        keras.Input(SHAPE), layers.Conv2D(4, 3), layers.BatchNormalization(), layers.Flatten(),
        layers.Dense(1, activation="sigmoid"),
    ])
    problems = wgan.critic_problems(bn_sigmoid)
    assert len(problems) == 2 and "BatchNormalization" in problems[0] and "sigmoid" in problems[1]
    g = models.dcgan_generator(LATENT, SHAPE, width=4)
    with pytest.raises(ValueError, match="Not a valid WGAN critic"):
        wgan.WGAN(g, bn_sigmoid)
    wgan.WGAN(g, bn_sigmoid, check_critic=False)  # allowed on purpose, for demonstrations
    with pytest.raises(ValueError, match="Batch norm is not offered"):
        wgan.wgan_critic(SHAPE, norm="batch")


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="n_critic"):
        tiny_wgan(n_critic=0)
    with pytest.raises(ValueError, match="gp_weight"):
        tiny_wgan(gp_weight=-1.0)
    with pytest.raises(ValueError, match="clip_value"):
        tiny_wgan(clip_value=0.0)


def test_default_optimizers_follow_the_papers():
    gp = tiny_wgan()
    gp.compile()
    assert isinstance(gp.c_optimizer, keras.optimizers.Adam)
    assert float(gp.c_optimizer.learning_rate) == pytest.approx(1e-4)
    assert gp.c_optimizer.beta_1 == 0.0 and gp.c_optimizer.beta_2 == 0.9
    clipped = tiny_wgan(gp_weight=0.0, clip_value=0.01)
    clipped.compile()
    assert isinstance(clipped.c_optimizer, keras.optimizers.RMSprop)
    assert float(clipped.c_optimizer.learning_rate) == pytest.approx(5e-5)


def test_a_training_step_changes_both_players_and_runs_n_critic_critic_steps():
    gan = tiny_wgan(n_critic=3)
    gan.compile()
    g_before = [w.numpy().copy() for w in gan.generator.trainable_weights]
    c_before = [w.numpy().copy() for w in gan.critic.trainable_weights]
    history = gan.fit(batches(2, wgan.critic_batch_size(4, 3)), epochs=1, verbose=0)
    # Every critic weight moves except the score's bias: E[C(x)] - E[C(G(z))] does not depend on it.
    moved = [not np.allclose(a, b.numpy()) for a, b in zip(c_before, gan.critic.trainable_weights)]
    assert moved == [True] * (len(moved) - 1) + [False]
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(g_before, gan.generator.trainable_weights))
    assert int(gan.c_optimizer.iterations) == 6 and int(gan.g_optimizer.iterations) == 2
    assert set(history.history) == {"c_loss", "w_dist", "gp", "g_loss"}
    assert all(np.isfinite(v[0]) for v in history.history.values())


def test_a_batch_that_cannot_be_split_is_an_error_naming_the_fix():
    gan = tiny_wgan(n_critic=3)
    gan.compile()
    static = tf.data.Dataset.from_tensor_slices(images(8)).batch(8, drop_remainder=True)
    with pytest.raises(ValueError, match="critic_batch_size"):
        gan.fit(static, epochs=1, verbose=0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="critic_batch_size"):
        gan.fit(batches(1, 8), epochs=1, verbose=0)  # batch size unknown until the step runs


def test_weight_clipping_keeps_every_critic_weight_in_range():
    gan = tiny_wgan(n_critic=2, gp_weight=0.0, clip_value=0.01)
    gan.compile(c_optimizer=keras.optimizers.RMSprop(0.1))  # big steps, so clipping has work to do
    history = gan.fit(batches(2, 8), epochs=1, verbose=0)
    weights = np.concatenate([w.numpy().ravel() for w in gan.critic.trainable_weights])
    assert np.abs(weights).max() <= 0.01 + 1e-7
    assert (np.abs(weights) > 0.0099).mean() > 0.5  # most weights pile up at +-c
    assert history.history["gp"] == [0.0]


def test_nan_guard_stops_with_a_clear_message_and_keeps_the_last_good_epoch(tmp_path):
    saved = {}

    class Sabotage(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                saved["critic"] = [w.numpy().copy() for w in self.model.critic.weights]

        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:  # a weight turns NaN, as after an exploding update
                kernel = self.model.critic.layers[-1].kernel
                kernel.assign(tf.fill(kernel.shape, float("nan")))

    gan = tiny_wgan()
    gan.compile()
    guard = callbacks.StopOnNaN(tmp_path / "backup", advice=wgan.NAN_ADVICE)
    with pytest.raises(FloatingPointError) as err:
        gan.fit(batches(2, 8), epochs=3, verbose=0,
                callbacks=[saving.backup_callback(tmp_path), Sabotage(), guard])
    message = str(err.value)
    assert "epoch 2, batch 1" in message and "c_loss" in message and str(tmp_path / "backup") in message
    assert "learning rate" in message

    resumed = tiny_wgan()  # a fresh process would rebuild everything
    resumed.compile()
    restored = {}

    class Peek(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            restored.setdefault("critic", [w.numpy().copy() for w in self.model.critic.weights])

    resumed.fit(batches(2, 8), epochs=2, verbose=0, callbacks=[saving.backup_callback(tmp_path), Peek()])
    for good, back in zip(saved["critic"], restored["critic"]):
        np.testing.assert_array_equal(good, back)
    assert all(np.isfinite(w.numpy()).all() for w in resumed.critic.weights)


def test_wgan_gp_trains_in_bfloat16_with_the_fast_critic_convolutions():
    """The gradient penalty differentiates the critic's input gradient again: through the
    bfloat16 weight-gradient trick of FastConv2D too (the opt-in fast layers)."""
    from gan_course import precision
    from gan_course.speed import fast_layers

    with precision.precision("mixed_bfloat16"):
        g = models.dcgan_generator(LATENT, SHAPE, width=8)
        critic = fast_layers.use_fast_layers(wgan.wgan_critic(SHAPE, width=8))
        gan = wgan.WGAN(g, critic, n_critic=2, seed=0)
        gan.compile()
    convs = [layer for layer in gan.critic.layers if isinstance(layer, fast_layers.FastConv2D)]
    assert convs and convs[0]._fast(tf.zeros((1, *SHAPE), tf.bfloat16))  # the bfloat16 path runs
    c_before = [w.numpy().copy() for w in gan.critic.trainable_weights]
    history = gan.fit(batches(2, wgan.critic_batch_size(4, 2)), epochs=1, verbose=0).history
    assert all(np.isfinite(v[0]) for v in history.values()) and history["gp"][0] > 0
    assert not np.allclose(c_before[0], gan.critic.trainable_weights[0].numpy())
