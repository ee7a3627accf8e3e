"""Time to quality: the race stops when the samples are good, counts only training, and reports
the ratio honestly (no timing asserts: the seconds are whatever this machine takes)."""

import time

import numpy as np
import pytest

from gan_course import data
from gan_course.bench import quality


@pytest.fixture(scope="module")
def digits():
    return data.load_mnist("train", verbose=False), data.load_mnist("test", verbose=False)


class FakeClock:
    """Stands in for the ``time`` module inside ``quality``: only FakeTrainer.train moves it."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        return self.now

    process_time = perf_counter


class FakeTrainer:
    """Draws real training digits once it has trained ``good_after`` steps, noise before."""

    name = "fake"
    settings = {}
    noise_dim = 4

    def __init__(self, real, good_after, seconds_per_chunk=0.0, clock=None):
        self.real, self.good_after, self.steps, self.seconds = real, good_after, 0, seconds_per_chunk
        self.clock = clock

    def train(self, steps):
        self.steps += steps
        if self.clock is not None:
            self.clock.now += self.seconds  # exactly this long, however busy the machine is
        else:
            time.sleep(self.seconds)  # only training time counts towards max_seconds

    def sample(self, z):
        if self.steps >= self.good_after:
            return self.real[: len(z)]
        return np.random.default_rng(0).uniform(-1, 1, (len(z), 28, 28, 1)).astype("float32")


def test_time_to_quality_stops_at_the_first_good_chunk(digits):
    train, test = digits
    trainer = FakeTrainer(train.images, good_after=30)
    result = quality.time_to_quality(trainer, test.images, chunk_steps=10, max_seconds=60, verbose=False)
    assert result["reached"] and result["steps"] == 30 == trainer.steps
    fids = [c["fid"] for c in result["curve"]]
    assert len(fids) == 3 and fids[-1] <= quality.QUALITY_FID < fids[0]
    assert result["curve"][-1]["coverage"] == 1.0


def test_time_to_quality_gives_up_after_max_seconds(digits):
    train, test = digits
    trainer = FakeTrainer(train.images, good_after=10**9)
    result = quality.time_to_quality(trainer, test.images, chunk_steps=5, max_seconds=0.0, verbose=False)
    assert not result["reached"] and result["steps"] == 0 and result["curve"] == []


def test_reached_needs_the_fid_and_all_ten_digits():
    class Scores:
        def __init__(self, fid, coverage):
            self.fid, self.coverage = fid, coverage

    assert quality.reached(Scores(12.0, 1.0))
    assert not quality.reached(Scores(12.0, 0.9))  # a digit missing: not quality, however low the FID
    assert not quality.reached(Scores(31.0, 1.0))
    assert quality.reached(Scores(31.0, 1.0), target_fid=40)


def test_race_ratio_is_a_lower_bound_when_the_tutorial_does_not_arrive(digits, monkeypatch):
    train, test = digits
    clock = FakeClock()  # a busy CI machine once slept 0.06 s for a 0.05 s sleep and gave up a chunk early
    monkeypatch.setattr(quality, "time", clock)
    made = {"course": FakeTrainer(train.images, good_after=20, seconds_per_chunk=0.05, clock=clock),
            "tutorial": FakeTrainer(train.images, good_after=10**9, seconds_per_chunk=0.05, clock=clock)}
    monkeypatch.setattr(quality, "CourseTrainer", lambda *a, **k: made["course"])
    monkeypatch.setattr(quality, "TutorialTrainer", lambda *a, **k: made["tutorial"])
    result = quality.race(train.images, test.images, max_seconds=0.12, course_chunk=10, tutorial_chunk=10, verbose=False)
    assert result["course"]["reached"] and not result["tutorial"]["reached"]
    assert result["course"]["steps"] == 20 and result["tutorial"]["steps"] == 30  # gave up after 0.12 s of training
    assert result["ratio_is_lower_bound"]
    assert result["tutorial_over_course"] == pytest.approx(result["tutorial"]["wall_s"] / result["course"]["wall_s"])
    assert any("at least" in line for line in quality.summary_lines(result))


def test_tutorial_code_is_the_tutorials(digits):
    train, _ = digits
    trainer = quality.TutorialTrainer(train.images[:64], batch_size=16)
    assert trainer.generator.output_shape == (None, 28, 28, 1) and trainer.generator.input_shape == (None, 100)
    # The tutorial's sizes: 7x7x256 projection, 5x5 kernels, two stride-2 convolutions in D.
    assert trainer.generator.layers[0].units == 7 * 7 * 256
    assert [l.kernel_size for l in trainer.discriminator.layers if hasattr(l, "kernel_size")] == [(5, 5), (5, 5)]
    before = [w.copy() for w in trainer.generator.get_weights()]
    trainer.train(2)
    after = trainer.generator.get_weights()
    assert any(not np.allclose(a, b) for a, b in zip(before, after))  # the generator learned something
    assert trainer.sample(np.zeros((3, 100), "float32")).shape == (3, 28, 28, 1)
