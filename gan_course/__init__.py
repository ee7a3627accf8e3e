"""gan-course: the helper package behind the Generative Adversarial Networks notebooks.

Importing this package, or any of its modules, does no work beyond definitions: no training,
no downloads, no seeding, no thread, no change to standard error. It only sets two defaults in
``os.environ`` (``setdefault``: a value you set wins), read when TensorFlow loads, so import it
before ``keras`` in a fresh interpreter:

- ``KERAS_BACKEND=tensorflow``: the course's code uses ``tf.GradientTape`` and ``tf.data``;
- ``TF_CPP_MIN_LOG_LEVEL=2``: TensorFlow's C++ INFO and WARNING lines stay out of the lessons;
  errors still show (not with ``GAN_COURSE_RAW_LOGS=1``, which shows every line). Quieter logs
  are an explicit call, ``logs.quiet_tensorflow()`` (see ``gan_course.logs``).

What the lessons import (one concept per module):

- ``presets``   smoke / cpu / gpu sizes for every lesson
- ``data``      MNIST (online or offline) and image folders as ``tf.data`` pipelines
- ``datasets``  the dataset registry: Kaggle download, your own folder, or offline renders
- ``renderers`` procedural LEGO-like bricks and cartoon faces (the offline stand-ins)
- ``models``    DCGAN generator and discriminator builders (Keras' own layers)
- ``losses``    GAN losses as small pure functions, each with its formula and paper
- ``gan``       ``TwoPlayerGAN``: the base class every course GAN extends (two optimizers,
                trackers, seeded noise, one ``move`` per player)
- ``training``  the ``DCGAN`` ``keras.Model`` with its ``train_step``
- ``wgan``      the WGAN critic and the ``WGAN`` model (gradient penalty or clipping)
- ``zoo``       the GAN zoo of lesson 04 (one module per variant)
- ``metrics``   classifier FID/KID, class coverage, memorisation, Inception FID (a subpackage,
                one module per concept)
- ``callbacks`` fixed-noise monitoring during ``fit``
- ``plotting``  image grids, loss curves, GIFs, architecture drawings
- ``saving``    portable ``.keras`` files and resumable runs
- ``latent``, ``explorer``  interpolation, latent directions and an ipywidgets explorer
- ``toys``, ``experiments`` 1-D and 2-D toy GANs; resumable hyperparameter sweeps
- ``ablation``  equal-budget ablations of the stabilisers (EMA, DiffAugment, TTUR, spectral
                norm, R1) over seeds, run by ``experiments.run_sweep`` (lesson 07)
- ``diffusion`` a small denoising diffusion model (schedule, U-Net, DDPM and DDIM) raced
                against the GAN in lesson 08
- ``paths``, ``cli``, ``logs``  where outputs go; ``python -m gan_course train``; quiet logs
                (``logs.quiet_tensorflow()``, an explicit call)

Apart from them, for lecturers and maintainers:

- ``teaching``  flashcards (``teaching/cards/*.yaml``), exercise checkers and quiz, slides
- ``speed``     mixed precision, ``tf.distribute``, layers with faster CPU kernels (opt-in)
- ``bench``     the benchmark (``python -m gan_course.bench``)
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
if os.environ.get("GAN_COURSE_RAW_LOGS", "").strip() != "1":  # 1: every line, as TensorFlow prints it
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # C++ INFO and WARNING lines off; errors still show

if os.environ["KERAS_BACKEND"] != "tensorflow":
    raise ImportError(
        f"gan_course needs the TensorFlow backend, but KERAS_BACKEND={os.environ['KERAS_BACKEND']!r}. "
        "Unset KERAS_BACKEND or set it to 'tensorflow' before starting Python."
    )

__version__ = "0.1.0"
__all__ = ["__version__"]
