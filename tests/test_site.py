"""The course site's parts that need no browser: the cache of executed lessons, the pages, the
table-of-contents repair. The site itself is built and checked in Chromium by test_browser.py."""

import json

import nbformat
import pytest

from gan_course.teaching import site
from gan_course.teaching.flashcards import load_deck, notebook_headings


def _toy(path, source="print('six times seven is', 6 * 7)"):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Lesson 09 · A toy\n\n**Time**: `smoke` preset seconds"),
                nbformat.v4.new_code_cell(source)]
    nbformat.write(nb, path)
    return path


def test_key_follows_sources_and_preset_not_outputs_or_metadata(tmp_path):
    path = _toy(tmp_path / "09_toy.ipynb")
    key = site.lesson_key(path, "smoke", package_digest="p")
    nb = json.loads(path.read_text())
    nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "42\n"}]
    nb["cells"][1]["execution_count"] = 3
    nb["cells"][0]["metadata"]["slideshow"] = {"slide_type": "slide"}
    path.write_text(json.dumps(nb))
    assert site.lesson_key(path, "smoke", package_digest="p") == key, "outputs and slide types do not count"
    assert site.lesson_key(path, "cpu", package_digest="p") != key
    assert site.lesson_key(path, "smoke", package_digest="q") != key, "a changed package invalidates"
    nb["cells"][1]["source"] = "print(6 * 8)"
    path.write_text(json.dumps(nb))
    assert site.lesson_key(path, "smoke", package_digest="p") != key


def test_a_lesson_runs_once_until_it_changes(tmp_path):
    path = _toy(tmp_path / "09_toy.ipynb")
    cache = tmp_path / "cache"
    first = site.execute_lesson(path, "smoke", cache, timeout=120, verbose=False)
    assert not first["cached"] and first["path"] == cache / "09_toy.ipynb"
    executed = nbformat.read(first["path"], as_version=4)
    assert executed.cells[1].outputs[0]["text"] == "six times seven is 42\n"
    assert executed.metadata["gan_course_site"]["preset"] == "smoke"
    assert not nbformat.read(path, as_version=4).cells[1].outputs, "the source notebook stays stripped"
    again = site.execute_lesson(path, "smoke", cache, timeout=120, verbose=False)
    assert again["cached"] and again["seconds"] == pytest.approx(first["seconds"], abs=0.1)
    _toy(path, "import os; print(os.environ['GAN_COURSE_PRESET'], os.environ['GAN_COURSE_QUIZ'])")
    changed = site.execute_lesson(path, "smoke", cache, timeout=120, verbose=False)
    assert not changed["cached"]
    assert nbformat.read(changed["path"], as_version=4).cells[1].outputs[0]["text"] == "smoke text\n"


def test_a_failing_lesson_stops_the_build_with_its_name(tmp_path):
    path = _toy(tmp_path / "09_broken.ipynb", "raise ValueError('the data folder is empty')")
    with pytest.raises(RuntimeError, match=r"09_broken.ipynb failed under the smoke preset(.|\n)*data folder is empty"):
        site.execute_lesson(path, "smoke", tmp_path / "cache", timeout=120, verbose=False)
    assert not (tmp_path / "cache" / "09_broken.ipynb").exists(), "no half-run lesson is cached"


def test_unknown_preset_is_refused_before_anything_runs(tmp_path):
    with pytest.raises(ValueError, match="smoke"):
        site.build_site("laptop", out=tmp_path, verbose=False)
    assert not any(tmp_path.iterdir())


def test_title_and_time_come_from_the_first_cell(tmp_path):
    path = _toy(tmp_path / "09_toy.ipynb")
    assert site.lesson_title(path) == "A toy"
    assert site.lesson_time(path) == "`smoke` preset seconds"


def test_the_home_page_finds_each_lesson_s_time_in_its_opening():
    """Lessons keep their Time line in a notes cell after the title slide: the home page's time column
    was empty for lessons 00-07 while the line was read from the first cell only."""
    times = {p.stem: site.lesson_time(p) for p in sorted((site.ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))}
    missing = sorted(name for name, time in times.items() if "`cpu`" not in time)
    assert missing == ["06_beyond_dcgan"], missing  # 06 has no measured time yet: add its line, then drop it here


def test_flashcard_page_has_every_card_folded_with_its_answer():
    lesson = load_deck()["01_dcgan_mnist"]
    headings = notebook_headings(site.ROOT / "notebooks" / "01_dcgan_mnist.ipynb")
    page = site._flashcard_page(lesson, "Title", headings)
    assert page.count('<details class="card"') == len(lesson.cards)
    for card in lesson.cards:
        assert f'id="{card.id}"' in page and card.answer.strip() in page
    sections = [line for line in page.splitlines() if line.startswith("## ") and line != "## Exercises"]
    assert len(sections) == len(set(sections)) == len({c.section for c in lesson.cards}), "one heading per section"
    card_sections = {c.section for c in lesson.cards}
    assert [s[3:] for s in sections] == [h for h in headings if h in card_sections], "sections in the lesson's order"
    assert lesson.cards[0].section != "0. Parameters" and sections[0] == "## 0. Parameters", "even when the deck lists it later"
    for exercise in lesson.exercises:
        assert f"**{exercise.id}**" in page
        here = {c.id for c in lesson.cards}
        assert all(f"(#{c})" in page for c in exercise.cards if c in here), "exercises link to their cards"


def test_home_page_lists_lessons_with_run_time_and_links(tmp_path):
    runs = [{"lesson": "00_gan_theory", "path": None, "seconds": 61.4, "cached": True},
            {"lesson": "01_dcgan_mnist", "path": None, "seconds": 95.0, "cached": False}]
    page = site._home_page(runs, "smoke")
    rows = [line for line in page.splitlines() if line.startswith("| [")]
    assert len(rows) == 2
    assert "(lessons/00_gan_theory.ipynb)" in rows[0] and "| 61 s |" in rows[0]
    assert "flashcards/01_dcgan_mnist.md" in rows[1] and "slides-executed/01_dcgan_mnist.slides.html" in rows[1]
    assert "2.6 minutes" in page and "make lab" in page


def test_toc_links_point_at_the_headings_real_ids(tmp_path):
    (tmp_path / "lessons").mkdir()
    page = tmp_path / "lessons" / "01_x.html"
    page.write_text('<a href="#7-one-round-of-the-game-as-a">7</a> <a href="#intro">i</a> <a href="#our-measurements-preset-width-32">m</a>'
                    '<h2 id="7-one-round-of-the-game-as-a-train_step">7</h2><h2 id="intro">i</h2>'
                    '<h3 id="our-measurements-cpu-preset-width-32">m</h3>')
    assert site._fix_lesson_toc(tmp_path) == 2
    html = page.read_text()
    assert 'href="#7-one-round-of-the-game-as-a-train_step"' in html
    assert 'href="#our-measurements-cpu-preset-width-32"' in html and 'href="#intro"' in html
    assert site._fix_lesson_toc(tmp_path) == 0


def test_a_cached_run_takes_the_notebooks_new_slide_metadata(tmp_path):
    path = _toy(tmp_path / "09_toy.ipynb")
    cache = tmp_path / "cache"
    site.execute_lesson(path, "smoke", cache, timeout=120, verbose=False)
    nb = json.loads(path.read_text())
    nb["cells"][1]["metadata"]["slideshow"] = {"slide_type": "skip"}  # a lecturer re-cuts the slides
    nb["cells"][1]["metadata"]["gan_course"] = {"slide_excerpt": "print"}
    path.write_text(json.dumps(nb))
    again = site.execute_lesson(path, "smoke", cache, timeout=120, verbose=False)
    assert again["cached"], "slide metadata does not re-run the lesson"
    executed = nbformat.read(again["path"], as_version=4)
    assert executed.cells[1].metadata["slideshow"] == {"slide_type": "skip"}
    assert executed.cells[1].metadata["gan_course"] == {"slide_excerpt": "print"}
    assert executed.cells[1].outputs[0]["text"] == "six times seven is 42\n", "the outputs stay"
