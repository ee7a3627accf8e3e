"""Lecture slides: slide metadata on every lesson, the tagging tool, and the reveal.js build."""

import json
import os
import re
import shutil
import time
from pathlib import Path

import nbformat
import pytest

from gan_course.teaching import slides

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _cell(kind, source):
    return {"cell_type": kind, "source": source, "metadata": {}}


@pytest.mark.parametrize("kind, source, expected", [
    ("markdown", "# Title\n\ntext", "slide"),
    ("markdown", "## 3. The generator", "slide"),
    ("markdown", "Some text first.\n\n## A section later in the cell", "slide"),
    ("markdown", "### A subsection", "subslide"),
    ("markdown", "#### Small heading", "-"),
    ("markdown", "Plain text with a #hashtag", "-"),
    ("markdown", "```python\n# a comment, not a heading\n```", "-"),
    ("code", "# Title-looking comment\nx = 1", "-"),
])
def test_default_slide_type(kind, source, expected):
    assert slides.default_slide_type(_cell(kind, source)) == expected


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_cell_has_slide_metadata(notebook):
    missing = slides.missing_slide_types(notebook)
    assert not missing, (f"{notebook.name}: {len(missing)} cells without metadata.slideshow.slide_type; run "
                         f"`python -m gan_course.teaching.slides tag notebooks/{notebook.name}` (cells: {missing[:5]}...)")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_tagging_keeps_cells_and_only_adds_metadata(notebook, tmp_path):
    copy = tmp_path / notebook.name
    shutil.copy(notebook, copy)
    before = json.loads(copy.read_text())
    for cell in before["cells"]:  # start from an untagged notebook
        cell["metadata"].pop("slideshow", None)
    copy.write_text(json.dumps(before, indent=1, ensure_ascii=False) + "\n")
    assert slides.tag_notebook(copy) == len(before["cells"])
    after = json.loads(copy.read_text())
    nbformat.validate(nbformat.from_dict(after))
    assert [(c.get("id"), c["cell_type"], c["source"]) for c in after["cells"]] == \
           [(c.get("id"), c["cell_type"], c["source"]) for c in before["cells"]]
    for b, a in zip(before["cells"], after["cells"]):
        a_meta = dict(a["metadata"])
        assert a_meta.pop("slideshow")["slide_type"] == slides.default_slide_type(b)
        assert a_meta == b["metadata"]
    assert slides.tag_notebook(copy) == 0, "tagging twice changes nothing"


def test_tagging_keeps_a_hand_chosen_type(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell("x = 1")]
    nb.cells[1].metadata["slideshow"] = {"slide_type": "skip"}
    nbformat.write(nb, tmp_path / "t.ipynb")
    assert slides.tag_notebook(tmp_path / "t.ipynb") == 1
    cells = json.loads((tmp_path / "t.ipynb").read_text())["cells"]
    assert [c["metadata"]["slideshow"]["slide_type"] for c in cells] == ["slide", "skip"]


@pytest.fixture(scope="module")
def materials_build(tmp_path_factory):
    """The one-command build (deck, CSV, slides without outputs), run once for this module."""
    pytest.importorskip("genanki")
    from gan_course.teaching import materials

    out = tmp_path_factory.mktemp("materials")
    start = time.perf_counter()
    built = materials.build_materials(out, verbose=False, offline=False)  # the offline copy: test_offline_decks_*
    built["seconds"] = time.perf_counter() - start
    return built


def test_slide_build_writes_one_deck_per_lesson(materials_build):
    written = materials_build["slides"]
    assert [p.name for p in written] == [f"{nb.stem}.slides.html" for nb in NOTEBOOKS]
    assert sorted(written[0].parent.glob("*.slides.html")) == sorted(written)
    for notebook, html_path in zip(NOTEBOOKS, written):
        html = html_path.read_text()
        nb = nbformat.read(notebook, as_version=4)
        slides.tag_cells(nb.cells)
        expected = sum(c.metadata["slideshow"]["slide_type"] == "slide" for c in nb.cells)
        expected += nb.cells[0].metadata["slideshow"]["slide_type"] != "slide"  # nbconvert opens one anyway
        assert slides.slide_count(html) == expected > 1, html_path.name
        assert "reveal.js" in html and nb.cells[0].source.splitlines()[0].lstrip("# ") in html
    assert materials_build["seconds"] < 20 * len(NOTEBOOKS), f"build took {materials_build['seconds']:.1f} s"


def test_reveal_prefix_for_offline_presenting(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_markdown_cell("## Two")]
    nbformat.write(nb, tmp_path / "01_t.ipynb")
    written = slides.build_slides(tmp_path, [tmp_path / "01_t.ipynb"], reveal_prefix="reveal.js", verbose=False)
    html = written[0].read_text()
    assert 'href="reveal.js/dist/reveal.css"' in html and "unpkg.com/reveal.js" not in html


def test_executed_build_shows_outputs_and_the_text_quiz(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell("print('hello from the kernel', 6 * 7)"),
        nbformat.v4.new_markdown_cell("## Second"),
        nbformat.v4.new_code_cell("import os; print('preset', os.environ['GAN_COURSE_PRESET'], "
                                  "'quiz', os.environ['GAN_COURSE_QUIZ'])"),
    ]
    nbformat.write(nb, tmp_path / "01_toy.ipynb")
    written = slides.build_slides(tmp_path / "out", [tmp_path / "01_toy.ipynb"], execute=True, preset="smoke",
                                  timeout=120, verbose=False)
    html = written[0].read_text()
    assert "hello from the kernel 42" in html and "preset smoke quiz text" in html
    assert slides.slide_count(html) == 2
    assert not nbformat.read(tmp_path / "01_toy.ipynb", as_version=4).cells[1].outputs, "source notebook untouched"


def test_tag_check_command_reports_untagged_notebooks(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title")]
    nbformat.write(nb, tmp_path / "01_t.ipynb")
    target = str(tmp_path / "01_t.ipynb")
    assert slides.main(["tag", "--check", target]) == 1
    assert slides.main(["tag", target]) == 0
    assert slides.main(["tag", "--check", target]) == 0


def test_one_command_builds_deck_csv_and_slides(materials_build):
    from gan_course.teaching.flashcards import load_deck

    n_cards = sum(len(lesson.cards) for lesson in load_deck().values())
    assert materials_build["cards"] == n_cards and materials_build["lessons"] == len(NOTEBOOKS)
    assert materials_build["apkg"].name == "gan-course.apkg" and materials_build["apkg"].stat().st_size > 0
    lines = materials_build["csv"].read_text(encoding="utf-8").splitlines()
    assert lines[0] == "id,lesson,section,question,answer,tags" and len(lines) >= n_cards + 1
    assert len(materials_build["slides"]) == len(NOTEBOOKS)


def test_materials_build_stops_on_deck_problems(tmp_path, monkeypatch, capsys):
    from gan_course.teaching import materials

    cards = tmp_path / "flashcards"
    cards.mkdir()
    (cards / "01_dcgan_mnist.yaml").write_text("lesson: 01_dcgan_mnist\ncards: []\n")
    monkeypatch.setattr(materials, "flashcards_dir", lambda: cards)
    assert materials.main(["--out", str(tmp_path / "out"), "--no-slides"]) == 1
    err = capsys.readouterr().err
    assert "has 0 cards" in err and "--lenient" in err
    assert not (tmp_path / "out" / "gan-course.apkg").exists()


# ---------------------------------------------------------------------------------------------
# Offline decks: the JavaScript copied from site/node_modules (make web-assets), no CDN left.

CDN_HOSTS = ("unpkg.com", "cdnjs.cloudflare.com", "cdn.jsdelivr.net", "fonts.googleapis.com")


def _needs_web_assets():
    if not (slides.web_assets_dir() / "reveal.js" / "package.json").is_file():
        if os.environ.get("CI"):
            pytest.fail("site/node_modules is missing: .ci/run installs it with `make web-assets`")
        pytest.skip("the slides' npm packages are not installed (make web-assets)")


def test_offline_decks_load_nothing_from_other_hosts(tmp_path):
    _needs_web_assets()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title\n\n$G(z)$"), nbformat.v4.new_markdown_cell("## Two")]
    nbformat.write(nb, tmp_path / "01_t.ipynb")
    written = slides.build_slides(tmp_path / "decks", [tmp_path / "01_t.ipynb"], assets="vendor", verbose=False)
    html = written[0].read_text()
    loaded = re.findall(r'(?:src|href)="([^"#]+)"', html) + re.findall(r"import mermaid from '([^']+)'", html)
    assert loaded, "the deck loads scripts and styles"
    assert not [u for u in loaded if any(host in u for host in CDN_HOSTS)], loaded
    for url in loaded:
        if url.startswith("data:"):
            continue
        assert (written[0].parent / url.split("?")[0]).is_file(), f"{url} is referenced but not copied"
    vendor = tmp_path / "decks" / "vendor"
    for rel in ("reveal.js/plugin/notes/notes.js", "mathjax/jax/output/CommonHTML/jax.js",
                "mathjax/fonts/HTML-CSS/TeX/woff/MathJax_Main-Regular.woff", "mathjax/extensions/Safe.js"):
        assert (vendor / rel).is_file(), rel
    theme = (vendor / "reveal.js/dist/theme/white.css").read_text()
    assert "googleapis" not in theme, "the offline theme's fonts ship with reveal.js"
    assert 'href="vendor/reveal.js/dist/theme/white.css"' in html


def test_web_assets_missing_says_how_to_install_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="make web-assets"):
        slides.copy_web_assets(tmp_path / "out", source=tmp_path / "no_node_modules")


def test_offline_urls_are_relative_to_the_deck():
    urls = slides.offline_urls("../vendor/")
    assert urls["reveal_url_prefix"] == "../vendor/reveal.js"
    assert urls["mathjax_url"].startswith("../vendor/mathjax/MathJax.js?config=")
    assert urls["mermaid_js_url"].startswith("data:text/javascript,")


def test_offline_materials_build_copies_the_assets_once_per_folder(tmp_path):
    _needs_web_assets()
    from gan_course.teaching import materials

    built = materials.build_materials(tmp_path, verbose=False)
    assert (tmp_path / "slides" / "vendor" / "require.js").is_file()
    assert built["slides_executed"] == []
    assert all("unpkg.com" not in p.read_text() for p in built["slides"])


# ---------------------------------------------------------------------------------------------
# Slides that fit: what a slide shows of a cell (slides.slide_view). The decks themselves are
# measured in Chromium by tests/test_slide_fit.py.

def _png(width, height):
    import base64
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\0" + b"\xff" * width for _ in range(height))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return base64.b64encode(png).decode()


def test_fold_code_keeps_short_cells_and_cuts_long_ones_with_a_marker():
    short = "\n".join(f"x{i} = {i}" for i in range(slides.CODE_LINES))
    assert slides.fold_code(short) == short
    long = "\n".join(f"x{i} = {i}" for i in range(30))
    folded = slides.fold_code(long).splitlines()
    assert len(folded) == slides.CODE_LINES and folded[0] == "x0 = 0"
    assert folded[-1] == f"# ⋯ {30 - slides.CODE_LINES + 1} more lines in the notebook"
    wide = "\n".join("y = " + "1 + " * 48 + "1" for _ in range(8))  # 197 characters: each line wraps into two rows
    assert len(slides.fold_code(wide).splitlines()) == slides.CODE_LINES // 2


def test_fold_code_starts_at_the_excerpt_and_refuses_a_missing_one():
    source = "class A:\n" + "\n".join(f"    a{i} = {i}" for i in range(20)) + "\n    def train_step(self):\n        return 1\n"
    folded = slides.fold_code(source, start_text="def train_step").splitlines()
    assert folded[0] == "# ⋯ 21 lines above, in the notebook" and folded[1] == "    def train_step(self):"
    with pytest.raises(ValueError, match="no line"):
        slides.fold_code(source, start_text="def not_there")


def test_slide_view_folds_code_and_output_drops_stderr_and_sizes_figures():
    nb = nbformat.v4.new_notebook()
    loud = nbformat.v4.new_code_cell("\n".join(f"print({i})" for i in range(40)))
    loud.outputs = [nbformat.v4.new_output("stream", name="stdout", text="".join(f"{i}\n" for i in range(40))),
                    nbformat.v4.new_output("stream", name="stderr", text="W0000 a warning\n")]
    figure = nbformat.v4.new_code_cell("plot()")
    figure.outputs = [nbformat.v4.new_output("display_data", data={"image/png": _png(600, 500), "text/plain": "<Figure>"}),
                      nbformat.v4.new_output("display_data", data={"image/png": _png(600, 500), "text/plain": "<Figure>"})]
    noted = nbformat.v4.new_code_cell("\n".join(f"z{i} = {i}" for i in range(40)))
    noted.metadata["slideshow"] = {"slide_type": "notes"}
    excerpt = nbformat.v4.new_code_cell("a = 1\nb = 2\ndef train_step():\n    pass")
    excerpt.metadata["gan_course"] = {"slide_excerpt": "def train_step"}
    nb.cells = [loud, figure, noted, excerpt]
    slides.slide_view(nb)
    assert len(loud.source.splitlines()) == slides.CODE_LINES
    texts = [o["text"] for o in loud.outputs]
    assert not any("warning" in t for t in texts), "stderr is not shown on a slide"
    assert sum(t.count("\n") for t in texts) == slides.OUTPUT_LINES and texts[-1].startswith("⋯ 33 more lines")
    sizes = [(o.metadata["image/png"]["width"], o.metadata["image/png"]["height"]) for o in figure.outputs]
    assert sizes[0] == sizes[1] and sizes[0][1] <= slides.FIGURE_HEIGHT, sizes
    assert 2 * sizes[0][0] + 12 <= slides.FIGURE_WIDTH, "two figures that fit side by side are placed side by side"
    assert len(noted.source.splitlines()) == 40, "speaker notes and skipped cells are left as they are"
    assert excerpt.source.splitlines()[1] == "def train_step():"


def test_decks_are_laid_out_at_1280x720_without_scrolling(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_markdown_cell("Said, not shown.")]
    nb.cells[1].metadata["slideshow"] = {"slide_type": "notes"}
    nbformat.write(nb, tmp_path / "01_t.ipynb")
    html = slides.build_slides(tmp_path / "out", [tmp_path / "01_t.ipynb"], verbose=False)[0].read_text()
    assert "width: 1280" in html and "height: 720" in html and "var scroll = false" in html
    assert 'id="gan-course-slides"' in html and html.index('id="gan-course-slides"') > html.index('id="theme"')
    assert '<aside class="notes">' in html and "Said, not shown." in html
    assert "plugin/notes/notes.js" in html, "the speaker view (s) needs reveal.js' notes plugin"
