import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_course import callbacks, data, models, saving, training

SHAPE = (16, 16, 1)


def make_gan(seed=1, latent_dim=8):
    keras.utils.set_random_seed(seed)
    g = models.dcgan_generator(latent_dim, SHAPE, width=4)
    d = models.dcgan_discriminator(SHAPE, width=4)
    gan = training.DCGAN(g, d, seed=seed)
    gan.compile()
    return gan


def tiny_dataset(n=32, batch=8, shape=SHAPE, shuffle=False):
    x = np.random.default_rng(0).uniform(-1, 1, (n, *shape)).astype("float32")
    return data.make_dataset(x, batch, shuffle=shuffle)


def snapshot(model):
    return [w.numpy().copy() for w in model.trainable_weights]


def changed(before, model):
    return any(not np.array_equal(b, w.numpy()) for b, w in zip(before, model.trainable_weights))


def test_one_training_step_changes_both_networks():
    gan = make_gan()
    g0, d0 = snapshot(gan.generator), snapshot(gan.discriminator)
    history = gan.fit(tiny_dataset(), epochs=1, steps_per_epoch=1, verbose=0)
    assert changed(g0, gan.generator) and changed(d0, gan.discriminator)
    assert set(history.history) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(np.isfinite(v[0]) for v in history.history.values())


def test_generator_learning_rate_zero_freezes_only_the_generator():
    gan = make_gan()
    gan.compile(g_optimizer=keras.optimizers.Adam(0.0))
    g0, d0 = snapshot(gan.generator), snapshot(gan.discriminator)
    gan.fit(tiny_dataset(), epochs=1, steps_per_epoch=2, verbose=0)
    assert not changed(g0, gan.generator) and changed(d0, gan.discriminator)


def test_same_seed_same_losses():
    a = make_gan().fit(tiny_dataset(), epochs=1, verbose=0).history
    b = make_gan().fit(tiny_dataset(), epochs=1, verbose=0).history
    assert a.keys() == b.keys()
    for key in a:
        assert a[key] == pytest.approx(b[key], rel=1e-5), key


def _sgd_gan(update, seed=3):
    keras.utils.set_random_seed(seed)
    g = models.dcgan_generator(8, SHAPE, width=4)
    d = models.dcgan_discriminator(SHAPE, width=4, dropout=0.0)  # no random masks: exact comparison
    gan = training.DCGAN(g, d, seed=seed, update=update)
    gan.compile(d_optimizer=keras.optimizers.SGD(0.5), g_optimizer=keras.optimizers.SGD(0.5))
    return gan


@pytest.mark.parametrize("update", training.UPDATES)
def test_update_orders_match_their_definitions(update):
    """simultaneous: both gradients at the same point; alternating: G's gradient through the
    updated D. Checked against the rule written out with plain SGD."""
    gan = _sgd_gan(update)
    reals = tf.constant(np.random.default_rng(0).uniform(-1, 1, (8, *SHAPE)).astype("float32"))
    z = training.sample_replica_noise(8, 8, keras.random.SeedGenerator(3))  # what the step draws first
    g_vars, d_vars = gan.generator.trainable_variables, gan.discriminator.trainable_variables
    start = [v.numpy().copy() for v in g_vars + d_vars]

    with tf.GradientTape(persistent=True) as tape:
        fakes = gan.generator(z, training=True)
        fake_logits = gan.discriminator(fakes, training=True)
        d_loss = gan.d_loss_fn(gan.discriminator(reals, training=True), fake_logits)
        g_loss_before = gan.g_loss_fn(fake_logits)
    d_grads = tape.gradient(d_loss, d_vars)
    expected_d = [v - 0.5 * g for v, g in zip(start[len(g_vars):], d_grads)]
    if update == "alternating":
        for v, new in zip(d_vars, expected_d):
            v.assign(new)
        with tf.GradientTape() as tape:
            g_loss = gan.g_loss_fn(gan.discriminator(gan.generator(z, training=True), training=True))
        g_grads = tape.gradient(g_loss, g_vars)
    else:
        g_grads = tape.gradient(g_loss_before, g_vars)
    expected_g = [v - 0.5 * g for v, g in zip(start[: len(g_vars)], g_grads)]

    for v, value in zip(g_vars + d_vars, start):  # back to the start, then one real step
        v.assign(value)
    gan.train_step(reals)
    for v, want in zip(g_vars + d_vars, expected_g + expected_d):
        np.testing.assert_allclose(v.numpy(), np.asarray(want), atol=1e-5)


def test_the_two_update_orders_differ_and_bad_names_fail():
    reals = np.random.default_rng(0).uniform(-1, 1, (8, *SHAPE)).astype("float32")
    after = {}
    for update in training.UPDATES:
        gan = _sgd_gan(update)
        gan.train_step(tf.constant(reals))
        after[update] = [w.numpy() for w in gan.generator.trainable_weights]
    assert not all(np.allclose(a, b) for a, b in zip(*after.values()))
    with pytest.raises(ValueError, match="update must be one of"):
        training.DCGAN(*_sgd_gan("alternating").layers[:2], update="sequential")


def test_labels_in_the_data_are_ignored():
    """(images, labels) batches train exactly like the images alone: the DCGAN is unconditional."""
    x = np.random.default_rng(0).uniform(-1, 1, (16, *SHAPE)).astype("float32")
    labels = np.random.default_rng(1).integers(0, 10, 16)
    with_labels = _sgd_gan("alternating")
    with_labels.fit(data.make_dataset(x, 8, labels=labels, seed=0), epochs=1, verbose=0)
    without = _sgd_gan("alternating")
    without.fit(data.make_dataset(x, 8, seed=0), epochs=1, verbose=0)
    for a, b in zip(with_labels.weights, without.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


def test_channel_mismatch_names_the_fix():
    gan = make_gan()
    with pytest.raises(ValueError, match="color_mode='grayscale'"):
        gan.fit(tiny_dataset(shape=(16, 16, 3)), epochs=1, verbose=0)


def test_generator_and_discriminator_must_agree():
    g = models.dcgan_generator(8, (16, 16, 1), width=4)
    d = models.dcgan_discriminator((32, 32, 1), width=4)
    with pytest.raises(ValueError, match="Build both from the same image_shape"):
        training.DCGAN(g, d)


def test_nan_loss_stops_with_a_clear_error_and_keeps_the_checkpoint(tmp_path):
    gan = make_gan()
    good = tiny_dataset()
    gan.fit(good, epochs=1, verbose=0, callbacks=[saving.backup_callback(tmp_path)])
    poisoned = data.make_dataset(np.full((16, *SHAPE), np.nan, "float32"), 8, shuffle=False)
    with pytest.raises(FloatingPointError, match="diverged at epoch 2") as err:
        gan.fit(poisoned, epochs=2, verbose=0,
                callbacks=[saving.backup_callback(tmp_path), callbacks.StopOnNaN(tmp_path / "backup")])
    assert "Lower the learning rates" in str(err.value)
    meta = json.loads((tmp_path / "backup" / "training_metadata.json").read_text())
    assert meta["epoch"] == 1  # the last good epoch is still on disk


class Interrupt(keras.callbacks.Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt  # like Ctrl-C or a closed laptop


class Snapshot(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.weights = [w.numpy().copy() for w in self.model.weights]


def test_resume_after_an_interrupted_fit_loses_no_epoch(tmp_path):
    first = make_gan()
    with pytest.raises(KeyboardInterrupt):
        first.fit(tiny_dataset(), epochs=5, verbose=0, callbacks=[saving.backup_callback(tmp_path), Interrupt(3)])
    after_three = [w.numpy().copy() for w in first.weights]  # state at the end of epoch 3

    second = make_gan(seed=99)  # a new process would start from fresh weights
    snap = Snapshot()
    history = second.fit(tiny_dataset(), epochs=5, verbose=0, callbacks=[saving.backup_callback(tmp_path), snap])
    assert history.epoch == [3, 4]  # resumed at epoch 4 of 5 (zero-based 3)
    for saved, restored in zip(after_three, snap.weights):
        np.testing.assert_array_equal(saved, restored)  # weights, batch-norm stats, optimizer moments
    assert int(second.d_optimizer.iterations.numpy()) == 5 * 4  # 4 batches an epoch, none lost


def test_save_and_load_round_trip(tmp_path):
    gan = make_gan()
    gan.fit(tiny_dataset(), epochs=1, verbose=0)
    paths = saving.save_gan(gan, tmp_path)
    assert {p.name for p in paths.values()} == {"generator.keras", "discriminator.keras"}
    g, d = saving.load_gan_parts(tmp_path)
    z = np.random.default_rng(3).standard_normal((4, 8)).astype("float32")
    np.testing.assert_allclose(g(z, training=False), gan.generator(z, training=False), atol=1e-6)
    images = gan.generator(z, training=False)
    np.testing.assert_allclose(d(images, training=False), gan.discriminator(images, training=False), atol=1e-6)


def test_weights_only_round_trip(tmp_path):
    gan = make_gan()
    gan.fit(tiny_dataset(), epochs=1, verbose=0)
    gan.generator.save_weights(tmp_path / "g.weights.h5")
    fresh = models.dcgan_generator(8, SHAPE, width=4)
    fresh.load_weights(tmp_path / "g.weights.h5")
    z = tf.random.normal((2, 8), seed=1)
    np.testing.assert_allclose(fresh(z), gan.generator(z), atol=1e-6)


def test_loading_a_missing_model_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="generator.keras"):
        saving.load_gan_parts(tmp_path)
