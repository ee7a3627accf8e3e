"""The benchmark runs end to end on tiny settings and reports sane numbers (no timing asserts)."""

import json

from gan_course import bench


def test_bench_throughput_and_flops(tmp_path):
    out = tmp_path / "bench.json"
    bench.main(["--skip-quality", "--steps", "2", "--rounds", "2", "--width", "8", "--batch-size", "16",
                "--out", str(out)])
    result = json.loads(out.read_text())
    t = result["throughput"]
    assert t["package_images_per_s"] > 0 and t["reference_images_per_s"] > 0
    assert t["package_over_reference"] == t["reference_step_ms"] / t["package_step_ms"]
    assert result["flops"]["per_step_gflop"] > 0 and result["peak_memory_mb"] > 100
    assert "time_to_quality" not in result


def test_bench_time_to_quality_stops_at_the_threshold(tmp_path):
    out = tmp_path / "bench.json"
    bench.main(["--steps", "1", "--rounds", "1", "--width", "8", "--batch-size", "32", "--max-epochs", "2",
                "--fid-threshold", "1e9", "--out", str(out)])
    quality = json.loads(out.read_text())["time_to_quality"]
    assert quality["reached"] and quality["epochs"] == 1 and quality["n_samples"] == 1000
    assert quality["curve"][0]["fid"] < 1e9 and quality["cpu_s"] > 0

