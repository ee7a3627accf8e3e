"""The GAN zoo (lesson 04, ``notebooks/04_gan_zoo.ipynb``): small, readable variants that
train on a CPU in minutes, compared on the same data, seed and budget.

One module per family; each model is a ``keras.Model`` in the course pattern (``compile``
with two optimizers, ``train_step``, metric trackers) and takes its losses from
``gan_course.losses``, so the variants differ only where the idea differs.

- ``networks``     the MLP and small conv networks the variants share
- ``vanilla``      the one-step family: vanilla (minimax and non-saturating), LSGAN and hinge,
                   each lesson 01's ``training.DCGAN`` with its own pair of losses (``make_gan``)
- ``wasserstein``  WGAN with weight clipping and WGAN-GP (n_critic critic steps per G step)
- ``conditional``  a conditional GAN: ``generator([z, labels])`` draws the requested digit
- ``infogan``      InfoGAN with a categorical and two continuous codes
- ``pix2pix``      paired image-to-image translation: digit outlines to digits
- ``superres``     a super-resolution GAN, 14x14 to 28x28
- ``compare``      train the unconditional variants on equal terms, return the table rows
- ``stylegan``     lesson 06: a style-based generator (mapping network, modulated convolutions,
                   noise, style mixing, truncation)
- ``cyclegan``     lesson 06: unpaired translation with cycle-consistency and identity losses

Importing this package does no work (the submodules import TensorFlow when you import them).
"""

__all__ = ["networks", "vanilla", "wasserstein", "conditional", "infogan", "pix2pix", "superres", "compare", "stylegan", "cyclegan"]
