"""The GAN zoo (lesson 04): every model's train_step on a tiny batch, and the helpers."""

import numpy as np
import pytest

from gan_course import losses
from gan_course.zoo import compare, conditional, infogan, networks, pix2pix, superres, vanilla, wasserstein

LATENT = 8


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (8, 28, 28, 1)).astype("float32")
    labels = rng.integers(0, 10, 8).astype("int32")
    return images, labels


def snapshot(model):
    return [w.numpy().copy() for w in model.trainable_weights]


def moved(before, model):
    return any(not np.allclose(a, b.numpy()) for a, b in zip(before, model.trainable_weights))


def check_step(gan, data, first="discriminator"):
    g0, d0 = snapshot(gan.generator), snapshot(getattr(gan, first))
    logs = gan.train_step(data)
    assert all(np.isfinite(float(v)) for v in logs.values()), logs
    assert moved(g0, gan.generator), "the generator did not learn"
    assert moved(d0, getattr(gan, first)), f"the {first} did not learn"
    return logs


@pytest.mark.parametrize("variant", list(vanilla.LOSSES))
def test_one_step_variants_train(variant, batch, seeded):
    gan = vanilla.make_gan(variant, LATENT, seed=0)
    logs = check_step(gan, batch[0])
    assert set(logs) == {"d_loss", "g_loss", "d_real", "d_fake"}


@pytest.mark.parametrize("variant", list(vanilla.LOSSES))
def test_each_variant_logs_its_own_losses_on_lesson_01s_step(variant, batch):
    """The zoo's losses plug into lesson 01's DCGAN: the first step's logged losses are the
    variant's formulas on the step's own scores (D without dropout, so the scores repeat)."""
    import keras

    from gan_course import training

    keras.utils.set_random_seed(1)
    g, d = networks.mlp_generator(LATENT, hidden=(16,)), networks.mlp_discriminator(hidden=(16,), dropout=0.0)
    d_fn, g_fn, _ = vanilla.LOSSES[variant]
    gan = training.DCGAN(g, d, seed=0)
    gan.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1), d_loss_fn=d_fn, g_loss_fn=g_fn)
    z = training.sample_replica_noise(8, LATENT, keras.random.SeedGenerator(0))  # the step's first draw
    fake = g(z, training=True)
    expected_d = float(d_fn(d(batch[0], training=True), d(fake, training=True)))
    logs = gan.train_step(batch[0])
    assert float(logs["d_loss"]) == pytest.approx(expected_d, rel=1e-5)
    # G is judged by the updated D on the same fakes (the course's alternating order).
    assert float(logs["g_loss"]) == pytest.approx(float(g_fn(d(fake, training=True))), rel=1e-5)
    others = {name for name, (f, _, _) in vanilla.LOSSES.items() if f is not d_fn}
    for other in others:  # a different loss would have logged a different number
        other_d = float(vanilla.LOSSES[other][0](d(batch[0], training=True), d(fake, training=True)))
        assert other_d != pytest.approx(float(logs["d_loss"]), rel=1e-3)


@pytest.mark.parametrize("variant", list(wasserstein.WASSERSTEIN_VARIANTS))
def test_wasserstein_variants_train(variant, batch, seeded):
    gan = wasserstein.make_wgan(variant, LATENT, n_critic=2, seed=0)
    logs = check_step(gan, batch[0], first="critic")  # 8 images = 2 critic batches of 4
    if variant == "wgan-clip":
        assert max(float(np.abs(w.numpy()).max()) for w in gan.critic.trainable_weights) <= 0.01 + 1e-7
        assert float(logs["gp"]) == 0.0
    else:
        assert float(logs["gp"]) > 0.0


def test_variants_share_one_generator_architecture():
    counts = {name: compare.make_variant(name, LATENT)[0].generator.count_params()
              for name in compare.UNCONDITIONAL_VARIANTS}
    assert len(set(counts.values())) == 1, counts


def test_conv_backbone_normalises_every_discriminator_alike_and_one_step_variants_take_the_rate():
    hinge, _ = compare.make_variant("hinge", LATENT, backbone="conv", width=4, norm="layer", learning_rate=5e-4)
    gp, _ = compare.make_variant("wgan-gp", LATENT, backbone="conv", width=4, norm="layer", learning_rate=5e-4)
    plain, _ = compare.make_variant("hinge", LATENT, backbone="conv", width=4)
    kinds = [[type(layer).__name__ for layer in m.discriminator.layers] for m in (hinge, gp, plain)]
    assert kinds[0] == kinds[1] and "LayerNormalization" in kinds[0]  # one D for every loss
    assert "LayerNormalization" not in kinds[2]
    assert float(hinge.g_optimizer.learning_rate) == pytest.approx(5e-4)
    assert float(plain.g_optimizer.learning_rate) == pytest.approx(2e-4)
    assert float(gp.g_optimizer.learning_rate) == pytest.approx(1e-4)  # WGAN-GP keeps its paper's Adam


def test_unknown_variant_is_a_clear_error():
    with pytest.raises(ValueError, match="choose from"):
        compare.make_variant("stylegan", LATENT)


def test_every_final_layer_is_float32():
    models = [
        networks.mlp_generator(LATENT), networks.mlp_discriminator(),
        conditional.conditional_generator(LATENT), conditional.conditional_discriminator(),
        infogan.infogan_generator(LATENT), infogan.infogan_discriminator(),
        pix2pix.unet_generator(), pix2pix.patch_discriminator(), superres.superres_generator(),
    ]
    for model in models:
        for out in model.outputs:
            assert out.dtype == "float32", (model.name, out.dtype)


def test_conditional_generator_takes_z_and_int_labels(batch, seeded):
    g = conditional.conditional_generator(LATENT)
    z = np.zeros((3, LATENT), "float32")
    a = g([z, np.array([1, 1, 1])], training=False).numpy()
    b = g([z, np.array([1, 2, 3])], training=False).numpy()
    assert a.shape == (3, 28, 28, 1)
    assert np.allclose(a[0], a[1]) and not np.allclose(b[0], b[1]), "the label must change the image"


def test_conditional_gan_trains_on_labelled_batches(batch, seeded):
    gan = conditional.ConditionalGAN(conditional.conditional_generator(LATENT), conditional.conditional_discriminator(),
                                     seed=0)
    gan.compile()
    check_step(gan, batch)
    with pytest.raises(ValueError, match="labels"):
        gan.train_step(batch[0])


def test_class_grid_inputs_reuse_noise_per_column():
    z, labels = conditional.class_grid_inputs(LATENT, per_class=3)
    assert z.shape == (30, LATENT) and labels.tolist() == sorted(labels.tolist())
    assert np.array_equal(z[0], z[3]) and not np.array_equal(z[0], z[1])


def test_infogan_trains_g_d_and_q(batch, seeded):
    gan = infogan.InfoGAN(infogan.infogan_generator(LATENT, width=8), infogan.infogan_discriminator(width=8), seed=0)
    gan.compile()
    q_head = gan.discriminator.get_layer("category_logits")
    q0 = [w.numpy().copy() for w in q_head.trainable_weights]
    logs = check_step(gan, batch[0])
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(q0, q_head.trainable_weights)), "Q did not learn"
    assert 0.5 < float(logs["info_cat"]) < 5.0  # about ln 10 = 2.30 before any learning


def test_code_grid_inputs_sweep_one_code():
    z, category, continuous, sweep = infogan.code_grid_inputs(LATENT, n_steps=5, vary=1)
    assert z.shape == (50, LATENT) and np.all(z == z[0])
    assert np.allclose(continuous[:5, 1], sweep) and np.all(continuous[:, 0] == 0)
    assert category[:5].tolist() == [0] * 5 and category[-1] == 9


def test_slant_and_ink_on_drawn_lines():
    upright = -np.ones((1, 28, 28, 1), "float32")
    upright[0, 4:24, 14] = 1.0  # a vertical bar
    leaning = -np.ones((1, 28, 28, 1), "float32")
    for r in range(4, 24):
        leaning[0, r, 24 - r // 2] = 1.0  # top further right: like "/"
    assert abs(infogan.slant(upright)[0]) < 1e-6
    assert infogan.slant(leaning)[0] == pytest.approx(0.5, abs=0.05)  # half a column per row
    assert infogan.ink(upright)[0] == pytest.approx(20 / 784)


def test_digit_outlines_ring_a_square():
    square = -np.ones((1, 28, 28, 1), "float32")
    square[0, 10:14, 10:14] = 1.0
    outline = pix2pix.digit_outlines(square)
    assert outline.shape == square.shape and outline.min() == -1.0 and outline.max() == 1.0
    assert int((outline > 0).sum()) == 6 * 6 - 4 * 4  # the ring around a 4x4 square
    with pytest.raises(ValueError, match="grayscale"):
        pix2pix.digit_outlines(square[..., 0])


def test_pix2pix_trains(batch, seeded):
    x, _ = batch
    gan = pix2pix.PairedGAN(pix2pix.unet_generator(width=8), pix2pix.patch_discriminator(width=8))
    gan.compile()
    logs = check_step(gan, (pix2pix.digit_outlines(x), x))
    assert set(logs) == {"d_loss", "g_loss", "l1"}
    assert gan.discriminator.output_shape == (None, 7, 7, 1)  # one logit per patch


def test_superres_gan_trains(batch, seeded):
    x, _ = batch
    critic = pix2pix.patch_discriminator(condition_channels=0, width=8)
    gan = pix2pix.PairedGAN(superres.superres_generator(width=8), critic, conditional_discriminator=False,
                            g_loss_fn=losses.srgan_generator_loss)
    gan.compile()
    check_step(gan, (superres.downsample(x), x))


def test_downsample_upsample_and_psnr():
    x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1) / 16
    low = superres.downsample(x)
    assert low.shape == (1, 2, 2, 1) and low[0, 0, 0, 0] == pytest.approx((0 + 1 + 4 + 5) / 64)
    assert superres.upsample_bilinear(low).shape == (1, 4, 4, 1)
    assert superres.psnr(np.zeros(4), np.full(4, 0.2)) == pytest.approx(10 * np.log10(4 / 0.04))
    with pytest.raises(ValueError, match="divisible"):
        superres.downsample(np.zeros((1, 5, 5, 1)))


def test_train_variant_counts_the_budget_and_the_table_formats():
    images = np.random.default_rng(1).uniform(-1, 1, (64, 28, 28, 1)).astype("float32")
    real = np.random.default_rng(2).uniform(-1, 1, (10, 28, 28, 1)).astype("float32")
    model, history, wall, cpu = compare.train_variant("hinge", images, generator_steps=4, batch_size=8,
                                                      latent_dim=LATENT, n_log=2, jit_compile=False, run_eagerly=True)
    assert len(history["g_loss"]) == 2 and wall > 0 and cpu >= 0
    row = compare.score_variant("hinge", model, history, real, batch_size=8, wall_s=wall, cpu_s=cpu, n_eval=20)
    assert row["g_updates"] == 4 and row["real_images_seen"] == 32 and row["n_eval"] == 20 and row["n_real"] == 10
    assert set(compare.COLUMNS) <= set(row) and row["fid"] > 0
    rows = [dict(variant="x", fid=1.0, kid=0.5, coverage=1.0, entropy=2.3, confident=0.5, g_updates=4,
                 real_images_seen=32, wall_s=1.0, cpu_s=2.0)]
    table = compare.rows_to_markdown(rows)
    assert table.splitlines()[0].startswith("| variant | classifier FID") and "| x | 1.0 |" in table
