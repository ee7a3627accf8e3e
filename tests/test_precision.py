import keras
import numpy as np
import pytest

from gan_course import models, precision, training


def _cpuinfo(tmp_path, flags):
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nflags\t\t: fpu sse avx2 {flags}\n")
    return path


def test_bfloat16_detection_reads_the_cpu_flags(tmp_path):
    assert precision.cpu_has_native_bfloat16(_cpuinfo(tmp_path, "avx512f avx512_bf16"))
    assert precision.cpu_has_native_bfloat16(_cpuinfo(tmp_path, "amx_tile amx_bf16"))
    assert not precision.cpu_has_native_bfloat16(_cpuinfo(tmp_path, "avx512f avx512_vnni"))
    assert not precision.cpu_has_native_bfloat16(tmp_path / "missing")


def test_resolve_policy():
    assert precision.resolve_policy("off") == "float32"
    assert precision.resolve_policy("mixed_bfloat16") == "mixed_bfloat16"
    assert precision.resolve_policy("auto") in precision.POLICIES
    with pytest.raises(ValueError, match="auto"):
        precision.resolve_policy("half")


def test_context_restores_the_previous_policy():
    before = keras.mixed_precision.dtype_policy().name
    with precision.precision("mixed_bfloat16") as name:
        assert name == keras.mixed_precision.dtype_policy().name == "mixed_bfloat16"
    assert keras.mixed_precision.dtype_policy().name == before


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_dcgan_trains_in_mixed_precision(policy, seeded):
    with precision.precision(policy):
        g = models.dcgan_generator(8, (8, 8, 1), width=4)
        d = models.dcgan_discriminator((8, 8, 1), width=4)
    compute = policy.removeprefix("mixed_")
    assert g.layers[1].compute_dtype == compute
    # Outputs and weights stay float32: the loss needs the range, Adam needs the precision.
    assert g.output.dtype == "float32" and d.output.dtype == "float32"
    assert all(v.dtype == "float32" for v in g.trainable_variables)
    gan = training.DCGAN(g, d, seed=0)
    gan.compile()
    scaled = isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
    assert scaled == (policy == "mixed_float16")  # float16 needs loss scaling, bfloat16 does not
    before = [w.copy() for w in g.get_weights()]
    images = np.random.default_rng(0).uniform(-1, 1, (16, 8, 8, 1)).astype("float32")
    history = gan.fit(images, batch_size=8, epochs=1, verbose=0).history
    assert all(np.isfinite(history[k][0]) for k in ("d_loss", "g_loss"))
    assert any(not np.allclose(a, b) for a, b in zip(before, g.get_weights()))
