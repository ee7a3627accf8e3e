"""Test set-up: every test (and every notebook nbval runs) uses the smoke preset, offline."""

import os
import tempfile

# Before anything imports gan_course/keras, and inherited by nbval's notebook kernels.
os.environ.setdefault("GAN_COURSE_PRESET", "smoke")
os.environ.setdefault("GAN_COURSE_OFFLINE", "1")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
# Smoke runs write their pictures and models elsewhere, so a test run never overwrites what a
# student's cpu-preset run left in outputs/.
os.environ.setdefault("GAN_COURSE_OUTPUTS", tempfile.mkdtemp(prefix="gan-course-test-outputs-"))

import pytest  # noqa: E402


@pytest.fixture
def seeded():
    import keras

    keras.utils.set_random_seed(1234)
