"""The benchmark runs end to end on tiny settings and reports sane numbers (no timing asserts)."""

import json

import pytest

from gan_course import bench


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """One run of the benchmark with every part on tiny settings (each part builds and traces its
    own step functions: one run for the three tests below). The race: one chunk each, then out of
    time (0.1 s)."""
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    bench.main(["--steps", "1", "--rounds", "2", "--width", "8", "--batch-size", "16",
                "--max-seconds", "0.1", "--quality-preset", "smoke", "--course-chunk", "2", "--tutorial-chunk", "1",
                "--precision-width", "4", "--precision", "mixed_bfloat16", "--skip-devices", "--out", str(out)])
    return json.loads(out.read_text())


def test_bench_throughput_and_flops(report):
    t = report["throughput"]
    assert t["package_images_per_s"] > 0 and t["reference_images_per_s"] > 0
    # Ratios are of seconds, the step times in ms: equal up to rounding, so compare with a tolerance.
    assert t["package_over_reference"] == pytest.approx(t["reference_step_ms"] / t["package_step_ms"], rel=1e-9)
    assert t["package_update"] == "alternating"  # the default; the other order is timed next to it
    assert t["simultaneous_over_reference"] == pytest.approx(t["reference_step_ms"] / t["simultaneous_step_ms"], rel=1e-9)
    assert t["fast_layers_over_reference"] == pytest.approx(t["reference_step_ms"] / t["fast_layers_step_ms"], rel=1e-9)
    assert report["flops"]["per_step_gflop"] > 0 and report["peak_memory_mb"] > 100


def test_bench_reports_time_to_quality_for_both_codes(report):
    race = report["time_to_quality"]
    assert race["target"] == {"fid_at_most": 30.0, "coverage": 1.0, "n_samples": 1000}
    for key in ("course", "tutorial"):  # one chunk each, then out of time: not reached, scored, timed
        run = race[key]
        assert not run["reached"] and len(run["curve"]) == 1 and run["cpu_s"] > 0
        assert run["curve"][0]["fid"] > 30 and run["steps"] == run["curve"][0]["steps"] > 0
    assert race["course"]["settings"]["name"] == "fast" and race["preset"] == "smoke" and race["tutorial"]["settings"]["batch_size"] == 256
    assert "tutorial_over_course" not in race  # no ratio when the course's recipe did not arrive


def test_bench_speedups_report_a_ratio_or_why_not(report):
    speedups = report["speedups"]
    for name in ("mixed_precision", "xla", "input_pipeline"):
        r = speedups[name]
        base, variant = [k.removesuffix("_step_ms") for k in r if k.endswith("_step_ms")]
        assert r["speedup"] == pytest.approx(r[base + "_step_ms"] / r[variant + "_step_ms"], rel=1e-9)
        assert r["speedup"] > 0
    # Splitting the CPU would outlive this test; tests/test_distributed.py covers two devices.
    assert speedups["two_devices"] == {"skipped": "--skip-devices"}


def test_alternate_times_every_variant_each_round():
    calls = {"a": 0, "b": 0}

    def step(name):
        calls[name] += 1
        return ()

    seconds = bench.alternate({"a": lambda: step("a"), "b": lambda: step("b")}, steps=3, rounds=2)
    assert calls == {"a": 1 + 3 * 2, "b": 1 + 3 * 2}  # one warm-up, then steps x rounds
    assert set(seconds) == {"a", "b"} and all(s >= 0 for s in seconds.values())
