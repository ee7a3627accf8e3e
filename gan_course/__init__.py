"""gan-course: the helper package behind the Generative Adversarial Networks notebooks.

Importing this package does no work: no training, no downloads, no seeding. It only
pins Keras to the TensorFlow backend (the course's code uses ``tf.GradientTape`` and
``tf.data``), so import it before ``keras`` in a fresh interpreter.

Modules, one concept each:

- ``presets``   smoke / cpu / gpu sizes for every lesson
- ``data``      MNIST (online or offline) and image folders as ``tf.data`` pipelines
- ``datasets``  the dataset registry: Kaggle download, your own folder, or offline renders
- ``renderers`` procedural LEGO-like bricks and cartoon faces (the offline stand-ins)
- ``models``    DCGAN generator and discriminator builders
- ``fast_layers`` Keras layers with faster CPU kernels, same maths (batch norm, dropout, conv)
- ``losses``    GAN losses as small pure functions
- ``training``  the ``DCGAN`` ``keras.Model`` with its ``train_step``
- ``wgan``      the WGAN critic and the ``WGAN`` model (gradient penalty or clipping)
- ``zoo``       the GAN zoo of lesson 04 (one module per variant)
- ``toys``      1-D and 2-D toy GANs for the theory lesson
- ``latent``    interpolation (linear, spherical) and latent directions
- ``explorer``  an ipywidgets latent-space explorer (a static picture when non-interactive)
- ``experiments`` resumable hyperparameter sweeps scored with the metrics
- ``metrics``   classifier FID/KID, coverage, memorisation; Inception FID for folders
- ``precision`` mixed precision (bfloat16 / float16) where the hardware has it
- ``distributed`` ``tf.distribute`` strategies and the one-vs-two-devices check
- ``bench``     the benchmark (``python -m gan_course.bench``)
- ``callbacks`` fixed-noise monitoring during ``fit``
- ``plotting``  image grids, loss curves, GIFs, architecture drawings
- ``saving``    safe saving/loading (``.keras`` / ``.weights.h5``) and resumable runs
- ``paths``     where outputs and caches go
- ``flashcards`` the flashcard deck (``flashcards/*.yaml``): validation, Anki and CSV export
- ``exercises`` ``check()`` for the lessons' exercises and ``quiz()`` over a lesson's cards
- ``slides``    slide metadata and reveal.js slides built with nbconvert
- ``materials`` one command for the deck, the CSV and every lesson's slides
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# TensorFlow's C++ start-up banner buries the lesson's output; errors still show.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

if os.environ["KERAS_BACKEND"] != "tensorflow":
    raise ImportError(
        f"gan_course needs the TensorFlow backend, but KERAS_BACKEND={os.environ['KERAS_BACKEND']!r}. "
        "Unset KERAS_BACKEND or set it to 'tensorflow' before starting Python."
    )

__version__ = "0.1.0"
__all__ = ["__version__"]
