"""Test set-up: every test (and every notebook nbval runs) uses the smoke preset, offline."""

import os

# Before anything imports gan_course/keras, and inherited by nbval's notebook kernels.
os.environ.setdefault("GAN_COURSE_PRESET", "smoke")
os.environ.setdefault("GAN_COURSE_OFFLINE", "1")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402


@pytest.fixture
def seeded():
    import keras

    keras.utils.set_random_seed(1234)
