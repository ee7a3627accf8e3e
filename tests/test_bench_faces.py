"""The faces race (``python -m gan_course.bench.quality --race faces``): the keras-io reference is the
example's networks, the race runs end to end at the smoke preset on a few faces with real training and
real timing, and its checkpoints follow the clock (no timing asserts: the seconds are this machine's)."""

import math

import numpy as np
import pytest
from PIL import Image

from gan_course import renderers
from gan_course.bench import faces, quality
from test_bench_quality import FakeClock  # stands in for quality.time: only a trainer's train() moves it


def test_reference_networks_are_the_examples_at_64_and_drop_one_stage_each_at_32():
    g64, d64 = faces.keras_io_faces_dcgan(64)
    # The example's own summaries (keras.io, Keras 3 version): 3,979,651 and 404,801 parameters.
    assert (g64.count_params(), d64.count_params()) == (3_979_651, 404_801)
    g32, d32 = faces.keras_io_faces_dcgan(32)
    assert g32.output_shape == (None, 32, 32, 3) and g32.input_shape == (None, 128)
    assert [l.filters for l in g32.layers if type(l).__name__ == "Conv2DTranspose"] == [128, 256]  # no 512 stage
    assert [l.filters for l in d32.layers if type(l).__name__ == "Conv2D"] == [64, 128]  # the third dropped
    assert d32.layers[-1].kernel.shape == (8 * 8 * 128, 1)  # D's Dense sees as many features as the example's
    with pytest.raises(ValueError, match="16, 32 or 64"):
        faces.keras_io_faces_dcgan(28)


def _faces(n, seed, size=16):
    images = renderers.render_faces(n, seed=seed, size=64, style="photo")[0]
    small = np.stack([np.asarray(Image.fromarray(im).resize((size, size), Image.LANCZOS)) for im in images])
    return small.astype(np.float32) / 127.5 - 1.0


def test_faces_race_at_smoke_times_every_contestant_and_gives_a_ratio():
    train, holdout = _faces(96, seed=700), _faces(64, seed=701)
    every = 0.3
    # Any trained checkpoint reaches an infinite threshold: each run stops at its first one, and the
    # ratio is made of two measured times.
    result = quality.faces_race(train, holdout, "smoke", target_fid=math.inf, max_seconds=2.0, every_seconds=every,
                                verbose=False)
    runs = result["contestants"]
    assert list(runs) == ["lesson03", "lesson02", "reference"]
    a = result["anchors"]
    assert a["real training faces"] < a["blurred 0.75 px"] < a["blurred 1.5 px"]
    for r in runs.values():
        start, arrival = r["curve"][0], r["curve"][-1]
        assert (start["steps"], start["wall_s"]) == (0, 0.0)  # the untrained generator, scored first
        assert start["fid"] > a["real training faces"]
        assert r["reached"] and len(r["curve"]) == 2 and r["steps"] == arrival["steps"] > 0
        assert arrival["wall_s"] >= every and r["wall_s"] >= every and r["cpu_s"] > 0  # scored by the clock
    assert runs["lesson03"]["settings"]["n_critic"] == 2 and runs["lesson02"]["settings"]["kernel_size"] == 3
    for key in ("lesson03", "lesson02"):
        ratio = result["ratios"][key]
        assert ratio["reference_over_course"] == pytest.approx(runs["reference"]["wall_s"] / runs[key]["wall_s"])
        assert not ratio["is_lower_bound"]
    lines = "\n".join(faces.summary_lines(result))
    assert "lesson 03 WGAN-GP" in lines and "keras-io face DCGAN" in lines and "x in wall time" in lines


class Trainer:
    name, settings, noise_dim = "fake", {}, 2

    def __init__(self, clock, seconds_per_step):
        self.clock, self.seconds, self.steps = clock, seconds_per_step, 0

    def train(self, steps):
        self.steps += steps
        self.clock.now += steps * self.seconds

    def sample(self, z):
        return np.full((len(z), 1), float(self.steps))


def test_checkpoints_by_wall_time_and_a_lower_bound_when_the_reference_does_not_arrive(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(quality, "time", clock)

    def score(fake):  # "FID" falls by one per step from 20
        fid = 20.0 - fake[0, 0]
        return {"fid": fid}, fid <= 10, f"{fid}"

    slow = quality.time_to_quality(Trainer(clock, 1.0), None, chunk_steps=1, max_seconds=7.5, n_samples=3,
                                   verbose=False, score=score, every_seconds=3.0, score_at_start=True)
    # Scored at 0 s, then at the first chunk end past 3 s and 6 s, and at the end of the budget.
    assert [c["wall_s"] for c in slow["curve"]] == [0.0, 3.0, 6.0, 8.0] and not slow["reached"]
    fast = quality.time_to_quality(Trainer(clock, 0.2), None, chunk_steps=5, max_seconds=7.5, n_samples=3,
                                   verbose=False, score=score, every_seconds=3.0, score_at_start=True)
    assert fast["reached"] and [c["steps"] for c in fast["curve"]] == [0, 15]
    ratio = faces.ratio_to_reference(slow, fast)
    assert ratio["is_lower_bound"] and ratio["reference_over_course"] == pytest.approx(8.0 / 3.0)
    assert ratio["meets_target"] is None  # at least 2.7x says nothing against 3x
    assert faces.ratio_to_reference(fast, slow) is None  # a course recipe that did not arrive has no ratio
