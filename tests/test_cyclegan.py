"""CycleGAN (gan_course.zoo.cyclegan): the losses by hand, the translators, one training step."""

import keras
import numpy as np
import pytest

from gan_course.zoo import cyclegan, pix2pix


def test_cycle_and_identity_losses_by_hand():
    x = np.array([[0.0, 1.0], [-1.0, 0.5]], "float32")
    round_trip = np.array([[0.5, 1.0], [-1.0, -0.5]], "float32")  # |differences| 0.5, 0, 0, 1: mean 0.375
    assert float(cyclegan.cycle_consistency_loss(x, round_trip)) == pytest.approx(0.375)
    assert float(cyclegan.identity_loss(x, x)) == 0.0


def test_translator_shape_and_plain_loading(tmp_path):
    keras.utils.set_random_seed(0)
    g = cyclegan.translator(width=4, n_residual=1)
    assert g.output_shape == (None, 28, 28, 1)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 28, 28, 1)).astype("float32")
    y = g(x).numpy()
    assert np.abs(y).max() <= 1.0
    g.save(tmp_path / "g.keras")
    loaded = keras.saving.load_model(tmp_path / "g.keras")  # stock layers only
    np.testing.assert_allclose(loaded(x).numpy(), y, atol=1e-6)


def make_cyclegan(**kwargs):
    keras.utils.set_random_seed(0)
    g_ab, g_ba = cyclegan.translator(width=4, n_residual=1, name="g_ab"), cyclegan.translator(width=4, n_residual=1, name="g_ba")
    d_a = pix2pix.patch_discriminator(condition_channels=0, width=4, name="d_a")
    d_b = pix2pix.patch_discriminator(condition_channels=0, width=4, name="d_b")
    model = cyclegan.CycleGAN(g_ab, g_ba, d_a, d_b, **kwargs)
    model.compile(run_eagerly=True)
    return model


def test_one_step_logs_the_written_out_losses_and_moves_all_four_players():
    model = make_cyclegan()
    r = np.random.default_rng(1)
    a, b = r.uniform(-1, 1, (4, 28, 28, 1)).astype("float32"), r.uniform(-1, 1, (4, 28, 28, 1)).astype("float32")
    # the logged cycle loss is the one written out, on the weights before the step
    expected_cycle = float(cyclegan.cycle_consistency_loss(a, model.g_ba(model.g_ab(a, training=True), training=True))
                           + cyclegan.cycle_consistency_loss(b, model.g_ab(model.g_ba(b, training=True), training=True)))
    before = [m.get_weights()[0].copy() for m in (model.g_ab, model.g_ba, model.d_a, model.d_b)]
    logs = model.train_on_batch(a, b, return_dict=True)
    assert set(logs) == {"d_loss", "g_loss", "adversarial", "cycle", "identity"}
    assert logs["cycle"] == pytest.approx(expected_cycle, rel=1e-4)
    assert logs["g_loss"] == pytest.approx(logs["adversarial"] + 10 * logs["cycle"] + 5 * logs["identity"], rel=1e-4)
    for old, m in zip(before, (model.g_ab, model.g_ba, model.d_a, model.d_b)):
        assert np.abs(m.get_weights()[0] - old).max() > 0, m.name


def test_identity_weight_zero_switches_the_term_off():
    model = make_cyclegan(identity_weight=0.0)
    x = np.zeros((2, 28, 28, 1), "float32")
    assert model.train_on_batch(x, x, return_dict=True)["identity"] == 0.0


def test_unpaired_batches_are_required():
    model = make_cyclegan()
    with pytest.raises(ValueError, match="tf.data.Dataset.zip"):
        model.train_step(np.zeros((2, 28, 28, 1), "float32"))
