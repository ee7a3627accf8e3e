"""Every model the course saves loads in a fresh Python that imports only Keras, with safe_mode on.

A student must be able to share a trained generator, serve it or convert it without this package:
so each ``.keras`` file written by a course entry point (``saving.save_model`` / ``save_gan``,
which the CLI and the lessons use) is loaded in a subprocess that never imports ``gan_course``,
and must give the same outputs as the model that was saved. (``tests/test_cli.py`` checks the
CLI's own files the same way.)
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np

from gan_course import models, saving, training, wgan
from gan_course.speed import fast_layers
from gan_course.zoo import conditional, infogan, networks, pix2pix, superres

LOADER = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import keras
    cases = json.load(open(sys.argv[1]))
    for path, inputs, expected in cases:
        model = keras.saving.load_model(path, safe_mode=True)
        x = [np.load(i) for i in inputs]
        out = model(x if len(x) > 1 else x[0], training=False)
        out = out if isinstance(out, (list, tuple)) else [out]
        for got, want in zip(out, expected):
            np.testing.assert_allclose(keras.ops.convert_to_numpy(got), np.load(want), rtol=1e-4, atol=1e-5)
    assert not any(name.startswith("gan_course") for name in sys.modules), "the loader imported gan_course"
    print("loaded", len(cases))
    """
)


def load_in_plain_keras(cases, tmp_path):
    """Run LOADER on [(model_path, [input .npy], [expected output .npy])] in a fresh interpreter."""
    spec = tmp_path / "cases.json"
    spec.write_text(json.dumps([[str(p), [str(i) for i in ins], [str(o) for o in outs]] for p, ins, outs in cases]))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["KERAS_BACKEND"] = "tensorflow"
    done = subprocess.run([sys.executable, "-c", LOADER, str(spec)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"loaded {len(cases)}" in done.stdout


def _example(model, tmp_path, name, inputs):
    """Save ``model`` the course's way; keep its inputs and outputs for the fresh interpreter."""
    path = saving.save_model(model, tmp_path / f"{name}.keras")
    in_paths = []
    for k, x in enumerate(inputs):
        in_paths.append(tmp_path / f"{name}_in{k}.npy")
        np.save(in_paths[-1], x)
    out = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    out = out if isinstance(out, (list, tuple)) else [out]
    out_paths = []
    for k, y in enumerate(out):
        out_paths.append(tmp_path / f"{name}_out{k}.npy")
        np.save(out_paths[-1], np.asarray(y))
    return path, in_paths, out_paths


def test_every_course_model_loads_without_the_course(tmp_path):
    rng = np.random.default_rng(0)
    z8 = rng.normal(size=(3, 8)).astype("float32")
    digits = rng.uniform(-1, 1, (3, 28, 28, 1)).astype("float32")
    labels = np.array([0, 3, 9], dtype="int32")

    dcgan = training.DCGAN(fast_layers.use_fast_layers(models.dcgan_generator(8, (28, 28, 1), width=8)),
                           fast_layers.use_fast_layers(models.dcgan_discriminator((28, 28, 1), width=8)), seed=0)
    dcgan.compile()
    dcgan.train_step(digits)  # trained with the opt-in fast layers: saved as stock Keras
    info_g = infogan.infogan_generator(8, width=4)
    cases = [
        _example(dcgan.generator, tmp_path, "dcgan_generator_fast", [z8]),
        _example(dcgan.discriminator, tmp_path, "dcgan_discriminator_fast", [digits]),
        _example(models.dcgan_generator(8, (32, 32, 3), width=8, upsampling="upsample"), tmp_path, "dcgan_upsample",
                 [z8]),
        _example(wgan.wgan_critic((28, 28, 1), width=8, norm="layer"), tmp_path, "wgan_critic", [digits]),
        _example(networks.mlp_generator(8, hidden=(16,)), tmp_path, "mlp_generator", [z8]),
        _example(networks.mlp_discriminator(hidden=(16,)), tmp_path, "mlp_discriminator", [digits]),
        _example(conditional.conditional_generator(8, hidden=(16,)), tmp_path, "cgan_generator", [z8, labels]),
        _example(conditional.conditional_discriminator(hidden=(16,)), tmp_path, "cgan_discriminator",
                 [digits, labels]),
        _example(info_g, tmp_path, "infogan_generator",
                 [z8, labels, rng.uniform(-1, 1, (3, 2)).astype("float32")]),
        _example(infogan.infogan_discriminator(width=4), tmp_path, "infogan_discriminator", [digits]),
        _example(pix2pix.unet_generator(width=4), tmp_path, "unet", [digits]),
        _example(pix2pix.patch_discriminator(width=4), tmp_path, "patchgan", [digits, digits]),
        _example(superres.superres_generator(width=4), tmp_path, "superres", [digits[:, ::2, ::2]]),
    ]
    load_in_plain_keras(cases, tmp_path)


def check_saved_folder_loads_without_the_course(folder, tmp_path):
    """The generator.keras and discriminator.keras in ``folder`` load in plain Keras and give the
    outputs this process gets from them."""
    import keras

    cases = []
    for part in ("generator", "discriminator"):
        model = keras.saving.load_model(folder / f"{part}.keras")
        x = np.random.default_rng(0).normal(size=(2, *model.input_shape[1:])).astype("float32")
        np.save(tmp_path / f"{part}_in.npy", x)
        np.save(tmp_path / f"{part}_out.npy", np.asarray(model(x, training=False)))
        cases.append((folder / f"{part}.keras", [tmp_path / f"{part}_in.npy"], [tmp_path / f"{part}_out.npy"]))
    load_in_plain_keras(cases, tmp_path)
