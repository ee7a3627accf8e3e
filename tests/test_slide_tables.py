"""Large outputs on slides (issue 37): a long or wide table shows its first rows and a notice on the
slide and goes whole to the speaker notes; long printed output is cut on the slide, the rest in the
notes. Built from a synthetic notebook; the notebook itself is never changed."""

import json
import re

import nbformat
import pytest

from gan_course.teaching import slides

ROWS, COLS = 22, 12


def _dataframe_html() -> str:
    """A pandas-like DataFrame HTML table, ROWS x COLS, each cell naming its place (r05c03)."""
    head = "".join(f"<th>column_{c:02d}_name</th>" for c in range(COLS))
    body = "".join(f"<tr><th>{r}</th>" + "".join(f"<td>r{r:02d}c{c:02d}_value</td>" for c in range(COLS)) + "</tr>\n"
                   for r in range(ROWS))
    return ('<div>\n<style scoped>\n    .dataframe tbody tr th {\n        vertical-align: top;\n    }\n\n'
            '    .dataframe thead th {\n        text-align: right;\n    }\n</style>\n'
            f'<table border="1" class="dataframe">\n  <thead>\n    <tr style="text-align: right;"><th></th>{head}</tr>\n'
            f'  </thead>\n  <tbody>\n{body}  </tbody>\n</table>\n<p>{ROWS} rows × {COLS} columns</p>\n</div>')


def _markdown_table(rows: int) -> str:
    lines = ["| trial | FID |", "| --- | --- |"] + [f"| m{r:02d} | {r}.5 |" for r in range(rows)]
    return "Results:\n\n" + "\n".join(lines) + "\n"


def _notebook(path):
    nb = nbformat.v4.new_notebook()
    title = nbformat.v4.new_markdown_cell("# Results")
    table = nbformat.v4.new_code_cell("table")
    table.outputs = [nbformat.v4.new_output("execute_result", data={"text/html": _dataframe_html(),
                                                                    "text/plain": "<a DataFrame>"}, execution_count=1)]
    printed = nbformat.v4.new_code_cell("for i in range(40):\n    print(f'line {i:02d}')")
    printed.outputs = [nbformat.v4.new_output("stream", name="stdout", text="".join(f"line {i:02d}\n" for i in range(40)))]
    printed.metadata["slideshow"] = {"slide_type": "slide"}
    markdown = nbformat.v4.new_code_cell("display(Markdown(md))")
    markdown.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": _markdown_table(20),
                                                                     "text/plain": "<Markdown>"})]
    markdown.metadata["slideshow"] = {"slide_type": "slide"}
    small = nbformat.v4.new_code_cell("small")
    small.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": _markdown_table(3).replace("m0", "s0")})]
    nb.cells = [title, table, printed, markdown, small]
    nbformat.write(nb, path)
    return path


def _split(html: str) -> tuple[str, str]:
    """(what the slides show, what the speaker notes hold) of a deck's HTML."""
    body = html.split('<div class="slides">', 1)[1]
    notes = re.findall(r'<aside class="notes">(.*?)</aside>', body, re.S)
    return re.sub(r'<aside class="notes">.*?</aside>', "", body, flags=re.S), "\n".join(notes)


@pytest.fixture(scope="module")
def deck(tmp_path_factory):
    folder = tmp_path_factory.mktemp("deck")
    source = _notebook(folder / "05_t.ipynb")
    before = source.read_text()
    html = slides.build_slides(folder / "out", [source], verbose=False)[0].read_text(encoding="utf-8")
    assert source.read_text() == before, "the notebook is not changed"
    return _split(html)


def test_a_long_wide_table_shows_its_first_rows_and_the_notes_hold_all(deck):
    shown, notes = deck
    on_slide = set(re.findall(r"r(\d\d)c(\d\d)_value", shown))
    rows_shown = sorted({int(r) for r, _ in on_slide})
    assert rows_shown == list(range(slides.TABLE_SHOW)), rows_shown
    cols_shown = sorted({int(c) for _, c in on_slide})
    assert cols_shown == list(range(len(cols_shown))) and len(cols_shown) < COLS, "only the columns that fit"
    notice = re.search(r"⋯ (\d+) more rows and (\d+) more columns in the speaker notes", shown)
    assert notice and int(notice.group(1)) == ROWS - slides.TABLE_SHOW and int(notice.group(2)) == COLS - len(cols_shown)
    assert f"{ROWS} rows × {COLS} columns" not in shown, "pandas' size line would contradict the slide"
    in_notes = set(re.findall(r"r(\d\d)c(\d\d)_value", notes))
    assert in_notes == {(f"{r:02d}", f"{c:02d}") for r in range(ROWS) for c in range(COLS)}, "the whole table in the notes"
    assert "<table" in notes and "vertical-align" not in notes, "the table is rendered, its CSS not shown as text"


def test_long_printed_output_is_cut_and_the_rest_is_in_the_notes(deck):
    shown, notes = deck
    printed = [int(n) for n in re.findall(r"line (\d\d)", shown)]
    assert printed == list(range(slides.OUTPUT_LINES - 1)), printed
    assert f"⋯ {40 - slides.OUTPUT_LINES + 1} more lines in the speaker notes" in shown
    assert [int(n) for n in re.findall(r"line (\d\d)", notes)] == list(range(slides.OUTPUT_LINES - 1, 40))


def test_a_markdown_table_is_cut_too_and_a_small_one_stays_whole(deck):
    shown, notes = deck
    assert sorted(int(n) for n in re.findall(r"m(\d\d)", shown)) == list(range(slides.TABLE_SHOW))
    assert f"⋯ {20 - slides.TABLE_SHOW} more rows in the speaker notes" in shown
    assert sorted(int(n) for n in re.findall(r"m(\d\d)", notes)) == list(range(20))
    assert sorted(re.findall(r"s0\d", shown)) == ["s00", "s01", "s02"] and "s00" not in notes


def test_the_notes_stay_on_the_slide_of_their_output(tmp_path):
    nb = nbformat.read(_notebook(tmp_path / "05_t.ipynb"), as_version=4)
    slides.tag_cells(nb.cells)
    slides.slide_view(nb)
    kinds = [(c.cell_type, c.metadata.get("slideshow", {}).get("slide_type")) for c in nb.cells]
    assert kinds == [("markdown", "slide"), ("code", "-"), ("markdown", "notes"), ("code", "slide"), ("markdown", "notes"),
                     ("code", "slide"), ("markdown", "notes"), ("code", "-")], kinds
    assert json.dumps(nb.cells[1].outputs).count("<tr") == 1 + slides.TABLE_SHOW


def test_keras_epoch_lines_tf_logs_and_a_gif_as_a_slide_shows_them():
    """Keras prints each epoch's line as its own message: on the slide they are one block (each
    message its own block took 755 px on lesson 01's cpu deck); TensorFlow's log lines printed to
    stdout stay off the slide, like stderr; an animated GIF is drawn, not its repr."""
    nb = nbformat.v4.new_notebook()
    lines = [nbformat.v4.new_output("stream", name="stdout", text=f"Epoch {i}/30\n") for i in range(1, 8)]
    log = nbformat.v4.new_output("stream", name="stdout", text="WARNING:tensorflow:5 out of the last 5 calls ... retracing.\n")
    gif = nbformat.v4.new_output("display_data", data={"image/gif": "R0lGODlhAQABAAAAACw=", "text/plain": "<IPython.core.display.Image object>"})
    nb.cells = [nbformat.v4.new_code_cell("fit()", outputs=[*lines, log]), nbformat.v4.new_code_cell("Image('t.gif')", outputs=[gif])]
    slides.slide_view(nb)
    printed = [o for o in nb.cells[0].outputs if o.get("output_type") == "stream"]
    assert len(printed) == 1 and printed[0]["text"].startswith("Epoch 1/30\nEpoch 2/30\n"), printed
    assert "WARNING:tensorflow" not in "".join(o.get("text", "") for o in printed)
    html = nb.cells[-1].outputs[0]["data"]
    assert set(html) == {"text/html"} and html["text/html"].startswith('<img src="data:image/gif;base64,R0lGOD')
