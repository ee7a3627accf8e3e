"""Lecture slides: every lesson notebook as a reveal.js slide deck, built with nbconvert.

Two jobs, both runnable from the command line (``python -m gan_course.teaching.slides --help``):

- ``tag``: fill in each cell's ``metadata.slideshow.slide_type`` where it is missing, from the
  notebook's headings (a cell with a ``#``/``##`` heading starts a slide, one with ``###`` a
  sub-slide, everything else joins the slide above: ``"-"``). Types already set, by hand or by
  RISE's slide-type menu, are kept; cell order, IDs and sources are never touched.
- ``build``: one ``NN_name.slides.html`` per notebook, through nbconvert's ``SlidesExporter``
  (what ``jupyter nbconvert --to slides`` runs), either from the output-free notebooks (a
  lecturer who runs the code live) or after executing them under a preset (slides with figures).

Offline decks (``assets=``, what ``make materials`` builds): nbconvert's template loads reveal.js,
RequireJS, jQuery and MathJax from public CDNs when a deck is opened, so without internet a deck
is one unstyled page with raw ``$G$``. :func:`copy_web_assets` copies those libraries from the npm
packages pinned in ``site/package.json`` (``npm ci`` in ``site/``, run by ``make materials``) next
to the decks, and ``build_slides(..., assets="vendor")`` points every deck at that copy: the page
then loads nothing from another host. Without ``assets`` the decks use the CDNs (nothing to copy).

Slides that fit the screen (:func:`slide_view`, applied to the copy that is converted; the notebook
keeps everything). The deck is laid out at ``SLIDE_SIZE`` (1280x720, 16:9) and reveal.js scales it
to the window; nothing scrolls. The notebook's cell metadata decides what is on a slide:

- ``slide_type`` (what RISE reads too): ``slide``/``subslide`` start a slide, ``-`` continues it,
  ``fragment`` appears on the next key press, ``notes`` goes to the speaker notes (the ``s`` view,
  reveal.js' notes plugin, offline), ``skip`` is left out of the deck.
- A code cell on a slide shows at most ``CODE_LINES`` rows (a long line that wraps counts as its
  rows); a longer cell shows its first rows and a ``# ⋯ N more lines in the notebook`` comment.
  ``metadata.gan_course.slide_excerpt`` (a piece of text of one line of the cell, e.g.
  ``"def train_step"``) starts the excerpt at that line instead; a text that is not in the cell
  stops the build with the cell's place.
- Printed output shows at most ``OUTPUT_LINES`` rows per cell, then ``⋯ N more lines in the
  speaker notes``: the lines cut off go to a speaker-notes cell added after the cell.
- A table output (HTML such as a pandas DataFrame, or a markdown table in a display) longer than
  ``TABLE_ROWS`` rows shows its first ``TABLE_SHOW`` rows, one wider than the slide the columns that
  fit, then ``⋯ N more rows (and M more columns) in the speaker notes``; the whole table goes to the
  speaker notes.
- Printed stderr (warnings, logs) is left out, and so are TensorFlow's log lines printed to stdout.
- Figures are drawn at ``FIGURE_ZOOM`` times their size in the notebook (legible axis labels from
  the back of the room), side by side where they fit; a cell's figures take at most
  ``FIGURE_HEIGHT`` px together, less when its code and text leave less of ``CELL_HEIGHT``. A cell
  with a figure or a table shows at most ``FIGURE_CODE_LINES`` of code and ``FIGURE_OUTPUT_LINES``
  of printed output, so that it fits one slide.
- Decks use their own style sheet (``SLIDE_CSS``): larger text, no ``In [n]:`` prompts, code that
  wraps instead of running off the slide. In the speaker view, formulas in the notes show through
  the MathML that MathJax keeps beside them.

The lesson notebooks carry this metadata; ``tests/test_slide_fit.py`` opens every deck in Chromium
at 1280x720 and fails on a slide that does not fit. docs/lecturers.md says how to add a slide, a
note, or leave a cell out.
"""

from __future__ import annotations

import argparse
import base64
import copy
from html import unescape as html_unescape
import json
import math
import os
import re
import shutil
import struct
import sys
from pathlib import Path

from gan_course.paths import project_root

__all__ = [
    "SLIDE_TYPES",
    "default_slide_type",
    "missing_slide_types",
    "tag_notebook",
    "tag_cells",
    "slide_count",
    "SLIDE_SIZE",
    "fold_code",
    "slide_view",
    "build_slides",
    "web_assets_dir",
    "copy_web_assets",
    "offline_urls",
    "main",
]

SLIDE_TYPES = ("slide", "subslide", "fragment", "skip", "notes", "-")  # nbformat's allowed values
_HEADING = re.compile(r"^(#{1,6})\s+\S")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _source(cell) -> str:
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def default_slide_type(cell) -> str:
    """The slide type a cell gets when its author has not chosen one.

    The highest-level heading in a markdown cell decides: ``#`` or ``##`` start a new slide,
    ``###`` a sub-slide (reveal.js stacks those vertically under their slide); anything else,
    code included, continues the current slide.
    """
    if cell.get("cell_type") != "markdown":
        return "-"
    levels, in_fence = [], False
    for line in _source(cell).splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (match := _HEADING.match(line)):
            levels.append(len(match.group(1)))
    if not levels:
        return "-"
    top = min(levels)
    return "slide" if top <= 2 else "subslide" if top == 3 else "-"


def tag_cells(cells) -> int:
    """Set the default slide type on every cell that has none (in place); returns how many."""
    changed = 0
    for cell in cells:
        metadata = cell.setdefault("metadata", {})
        slideshow = metadata.setdefault("slideshow", {})
        if slideshow.get("slide_type") not in SLIDE_TYPES:
            slideshow["slide_type"] = default_slide_type(cell)
            changed += 1
    return changed


def missing_slide_types(path: str | Path) -> list[str]:
    """IDs (or indices) of the cells of a notebook without a valid slide type."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    return [cell.get("id", str(i)) for i, cell in enumerate(nb["cells"])
            if cell.get("metadata", {}).get("slideshow", {}).get("slide_type") not in SLIDE_TYPES]


def tag_notebook(path: str | Path, write: bool = True) -> int:
    """Fill in missing slide types in a notebook file; returns the number of cells changed.

    Only ``metadata.slideshow`` is added. The JSON keeps its key order and Jupyter's layout
    (one-space indent, UTF-8), so the diff shows the new metadata and nothing else; cells stay
    in order with their IDs, sources and outputs.
    """
    import nbformat

    path = Path(path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    before = [(c.get("id"), c["cell_type"], c["source"]) for c in nb["cells"]]
    changed = tag_cells(nb["cells"])
    after = [(c.get("id"), c["cell_type"], c["source"]) for c in nb["cells"]]
    assert before == after, "tagging must not touch cell ids, types or sources"
    if changed and write:
        nbformat.validate(nbformat.from_dict(nb))
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return changed


def slide_count(html: str) -> int:
    """Top-level slides in an nbconvert reveal.js page (sub-slides not counted)."""
    body = html.split('<div class="slides">', 1)[-1]
    depth = count = 0
    for match in re.finditer(r"<section\b|</section>", body):
        if match.group(0) == "</section>":
            depth -= 1
        else:
            if depth == 0:
                count += 1
            depth += 1
    return count


# ---------------------------------------------------------------------------------------------
# Slides that fit the screen: what a slide shows of a cell, and the decks' style sheet.

SLIDE_SIZE = (1280, 720)  # reveal.js lays every slide out at this size and scales it to the window
CODE_LINES = 12  # rows of one code cell on a slide
OUTPUT_LINES = 8  # rows of printed output of one cell on a slide
# A cell with a figure or a table (executed decks) shows less code and text, so that it fits a
# slide with them: 5 rows of code, 3 of printed output, figures FIGURE_HEIGHT px high in all.
FIGURE_CODE_LINES, FIGURE_OUTPUT_LINES = 5, 3
CODE_COLUMNS = 118  # characters in one row of code on a slide before it wraps (at the CSS's code font)
OUTPUT_COLUMNS = 125
FIGURE_ZOOM = 1.3  # figures drawn larger than in the notebook: matplotlib's 10 pt labels become ~17 px
FIGURE_HEIGHT = 400  # px of the slide's 720 that one cell's figures take at most, together ...
CELL_HEIGHT = 620  # ... and less when its code, printed output and tables leave less of this
FIGURE_MIN_HEIGHT = 240
FIGURE_WIDTH = 1180
_ROW_PX = {"code": 23.4, "output": 20.8, "table": 44}  # at SLIDE_CSS's fonts (a table row often wraps)
_FIGURE_GAP = 12
_MORE = "⋯ {n} more line{s} in the notebook"
_IN_NOTES = "⋯ {n} more {what} in the speaker notes (s) and the notebook"
# A table (HTML, e.g. a pandas DataFrame, or a markdown table) with more body rows than TABLE_ROWS shows
# its first TABLE_SHOW on the slide; one wider than TABLE_WIDTH px keeps the columns that fit. The whole
# table goes to the speaker notes. Widths are estimated from the text: TABLE_CHAR_PX a character at the
# slide's 15 px table font (bold headers, digits) plus TABLE_CELL_PAD a cell.
TABLE_ROWS, TABLE_SHOW = 10, 8
TABLE_WIDTH, TABLE_CHAR_PX, TABLE_CELL_PAD = 1200, 10.5, 16
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_RICH = {"image/png", "image/jpeg", "image/svg+xml", "text/markdown", "text/html"}  # a cell's "figure"


def _rows(line: str, columns: int) -> int:
    return max(1, math.ceil(len(line.rstrip()) / columns))


def _console_text(out) -> bool:
    """An output that is text in a ``<pre>`` (rich's console, e.g. Keras' ``model.summary()``)."""
    data = out.get("data", {})
    return "text/plain" in data and "".join(data.get("text/html", "")).lstrip().startswith("<pre")


def fold_code(source: str, rows: int = CODE_LINES, start_text: str | None = None, columns: int = CODE_COLUMNS) -> str:
    """The part of a code cell a slide shows: at most ``rows`` rows, from the first line that
    contains ``start_text`` (default: the first line), with a comment saying how much is left out.

    A line longer than ``columns`` wraps on the slide and counts as the rows it takes. The source
    comes back unchanged when it fits. ``ValueError`` when ``start_text`` is in no line.
    """
    lines = source.rstrip("\n").splitlines()
    start = 0
    if start_text:
        found = [i for i, line in enumerate(lines) if start_text in line]
        if not found:
            raise ValueError(f"slide_excerpt {start_text!r} is in no line of the cell")
        start = found[0]
    if start == 0 and sum(_rows(line, columns) for line in lines) <= rows:
        return source
    budget = rows - (start > 0) - 1  # the markers take a row each
    shown, used = [], 0
    for line in lines[start:]:
        if used + _rows(line, columns) > budget:
            break
        shown.append(line)
        used += _rows(line, columns)
    while shown and not shown[-1].strip():
        shown.pop()
    after = len(lines) - start - len(shown)
    head = [f"# ⋯ {start} line{'s' if start != 1 else ''} above, in the notebook"] if start else []
    tail = [f"# {_MORE.format(n=after, s='s' if after != 1 else '')}"] if after else []
    return "\n".join(head + shown + tail)


_TF_LOG = re.compile(r"^(WARNING|INFO|ERROR):(tensorflow|absl):")


def _merge_streams(outputs: list) -> list:
    """Consecutive printed outputs of one stream as one (Keras prints each epoch's line as its own
    message: on a slide each would get its own block and margins)."""
    merged = []
    for out in outputs:
        if (out.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream"
                and merged[-1].get("name") == out.get("name")):
            last = merged[-1] = dict(merged[-1])
            text = out.get("text", "")
            last["text"] = "".join(last.get("text", "")) + (text if isinstance(text, str) else "".join(text))
        else:
            merged.append(out)
    return merged


def _fold_outputs(outputs: list, rows: int = OUTPUT_LINES, columns: int = OUTPUT_COLUMNS, rest: list | None = None) -> list:
    """Printed output (stdout, plain-text results, a console's text such as ``model.summary()``)
    cut to ``rows`` rows in all; stderr (warnings, logs) left out; figures and tables kept. The
    lines cut off are appended to ``rest`` (for the speaker notes) when it is given; the marker then
    says they are in the notes."""
    kept, used, dropped, marker = [], 0, 0, None
    for out in _merge_streams(outputs):
        if _console_text(out):  # model.summary() and other text that rich draws as HTML
            out = {"output_type": "stream", "name": "stdout", "text": _ANSI.sub("", "".join(out["data"]["text/plain"]))}
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            continue  # warnings and logs: not for the room
        if out.get("output_type") == "stream":
            text, key = out.get("text", ""), "text"
        elif out.get("output_type") in ("execute_result", "display_data") and set(out.get("data", {})) == {"text/plain"}:
            text, key = out["data"]["text/plain"], "data"
        else:
            kept.append(out)
            continue
        text = text if isinstance(text, str) else "".join(text)
        # TensorFlow's logger can write to a kernel's stdout: its lines are logs too.
        lines, take = [line for line in text.rstrip("\n").splitlines() if not _TF_LOG.match(line)], []
        if not lines:
            continue
        for line in lines:
            if used + _rows(line, columns) > rows - 1:
                break
            take.append(line)
            used += _rows(line, columns)
        dropped += len(lines) - len(take)
        if rest is not None:
            rest.extend(lines[len(take):])
        if dropped and marker is None:
            marker = len(kept) + bool(take)  # where the cut is: after what is shown of this output
        if take:
            out = copy.deepcopy(out)
            if key == "text":
                out["text"] = "\n".join(take) + "\n"
            else:
                out["data"]["text/plain"] = "\n".join(take)
            kept.append(out)
    if dropped:
        more = _IN_NOTES.format(n=dropped, what="line" if dropped == 1 else "lines") if rest is not None else \
            _MORE.format(n=dropped, s="s" if dropped != 1 else "")
        kept.insert(marker, {"output_type": "stream", "name": "stdout", "text": more + "\n"})
    return kept


# ---------------------------------------------------------------------------------------------
# Large tables: the first rows on the slide, the whole table in the speaker notes.

_TR = re.compile(r"<tr\b.*?</tr>", re.S | re.I)
_TD = re.compile(r"<t([hd])\b.*?</t\1>", re.S | re.I)
_TAG = re.compile(r"<[^>]+>")
_PIPE = re.compile(r"(?<!\\)\|")


def _html_of(out) -> str | None:
    html = out.get("data", {}).get("text/html")
    if html is None:
        return None
    html = html if isinstance(html, str) else "".join(html)
    return html if "<table" in html.lower() and not html.lstrip().startswith("<pre") else None


def _markdown_table(out) -> tuple[str, int, int] | None:
    """A display's markdown that is (or holds) a pipe table: (text, index of the header line, of its last row)."""
    text = out.get("data", {}).get("text/markdown")
    if text is None:
        return None
    text = text if isinstance(text, str) else "".join(text)
    lines = text.splitlines()
    for i in range(len(lines) - 1):
        if lines[i].lstrip().startswith("|") and re.match(r"^\s*\|?\s*:?-{3,}", lines[i + 1]):
            end = i + 1
            while end + 1 < len(lines) and lines[end + 1].lstrip().startswith("|"):
                end += 1
            return text, i, end
    return None


def _cell_text(html: str) -> str:
    return html_unescape(_TAG.sub("", html)).strip()


def _columns_that_fit(rows: list[list[str]]) -> int:
    """How many leading columns of ``rows`` (cell texts) fit ``TABLE_WIDTH`` px at the slide's table font."""
    width = 0.0
    for col in range(max(len(r) for r in rows)):
        chars = max((len(r[col]) for r in rows if col < len(r)), default=0)
        width += chars * TABLE_CHAR_PX + TABLE_CELL_PAD
        if width > TABLE_WIDTH:
            return max(1, col)
    return max(len(r) for r in rows)


def _cut_html_table(html: str) -> tuple[str, int, int] | None:
    """The HTML table's first ``TABLE_SHOW`` body rows and the columns that fit the slide; returns
    (html, rows left out, columns left out), or None when the whole table fits."""
    rows = list(_TR.finditer(html))
    if not rows:
        return None
    head = [m for m in rows if "</th>" in m.group(0).lower() and "<td" not in m.group(0).lower()]
    body = [m for m in rows if m not in head]
    texts = [[_cell_text(c.group(0)) for c in _TD.finditer(m.group(0))] for m in head + body[:TABLE_SHOW]]
    fit = _columns_that_fit(texts)
    n_cols = max(len(t) for t in texts)
    if len(body) <= TABLE_ROWS and fit >= n_cols:
        return None
    keep_rows = body if len(body) <= TABLE_ROWS else body[:TABLE_SHOW]

    def cut_row(row: str) -> str:
        cells = list(_TD.finditer(row))
        if len(cells) <= fit:
            return row
        return row[: cells[fit - 1].end()] + row[cells[-1].end():]

    parts, last = [], 0
    for m in rows:
        parts.append(html[last:m.start()])
        if m in head or m in keep_rows:
            parts.append(cut_row(m.group(0)))
        last = m.end()
    parts.append(html[last:])
    # pandas' own "N rows x M columns" line under a long frame would now be wrong on the slide
    cut = re.sub(r"<p>\d+ rows × \d+ columns</p>", "", "".join(parts))
    return cut, len(body) - len(keep_rows), max(0, n_cols - fit)


def _cut_markdown_table(text: str, start: int, end: int) -> tuple[str, int, int] | None:
    lines = text.splitlines()
    header, body = lines[start:start + 2], lines[start + 2:end + 1]

    def cells(line: str) -> list[str]:
        return [c.strip() for c in _PIPE.split(line.strip().strip("|"))]

    texts = [cells(line) for line in [header[0], *body[:TABLE_SHOW]]]
    fit, n_cols = _columns_that_fit(texts), max(len(t) for t in texts)
    if len(body) <= TABLE_ROWS and fit >= n_cols:
        return None
    keep = body if len(body) <= TABLE_ROWS else body[:TABLE_SHOW]
    shown = [line if fit >= n_cols else "| " + " | ".join(cells(line)[:fit]) + " |" for line in [*header, *keep]]
    return "\n".join(lines[:start] + shown + lines[end + 1:]), len(body) - len(keep), max(0, n_cols - fit)


def _notice(rows: int, columns: int) -> str:
    parts = [f"{n} more {what}{'s' if n != 1 else ''}" for n, what in ((rows, "row"), (columns, "column")) if n]
    return "⋯ " + " and ".join(parts) + " in the speaker notes (s) and the notebook"


def _fold_tables(outputs: list, notes: list) -> list:
    """Tables longer than ``TABLE_ROWS`` body rows or wider than the slide (HTML, e.g. a pandas
    DataFrame, or a markdown pipe table in a display): the first ``TABLE_SHOW`` rows and the columns
    that fit on the slide, a line saying what is left out, and the whole table appended to ``notes``."""
    kept = []
    for out in outputs:
        html, markdown = _html_of(out), _markdown_table(out)
        cut = _cut_html_table(html) if html is not None else _cut_markdown_table(*markdown) if markdown else None
        if cut is None:
            kept.append(out)
            continue
        shown, rows, columns = cut
        out = copy.deepcopy(out)
        if html is not None:
            out["data"] = {"text/html": shown}
            notes.append(html)
        else:
            out["data"] = {"text/markdown": shown}
            notes.append(markdown[0])
        kept += [out, {"output_type": "stream", "name": "stdout", "text": _notice(rows, columns) + "\n"}]
    return kept


def _notes_cell(tables: list, rest: list):
    """A speaker-notes cell with what a slide left out: whole tables and the printed lines cut off."""
    import nbformat

    # (HTML in markdown ends at a blank line: pandas' style block has some, and is not needed in the notes)
    tables = [re.sub(r"\n\s*\n", "\n", re.sub(r"<style\b.*?</style>", "", t, flags=re.S | re.I)) for t in tables]
    parts = [f"The whole table:\n\n{table.strip()}\n" for table in tables]
    if rest:
        fence = "~~~~" if any(line.lstrip().startswith("~~~") for line in rest) else "~~~"
        parts.append(f"The rest of the printed output ({len(rest)} line{'s' if len(rest) != 1 else ''}):\n\n"
                     f"{fence}text\n" + "\n".join(rest) + f"\n{fence}\n")
    cell = nbformat.v4.new_markdown_cell("\n".join(parts))
    cell.metadata["slideshow"] = {"slide_type": "notes"}
    cell.metadata["gan_course"] = {"slide_notes": "left out of the slide above"}
    return cell


def _png_size(data: str) -> tuple[int, int] | None:
    head = base64.b64decode(data[:64].encode() + b"=" * (-len(data[:64]) % 4))
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


def _text_height(source: str, outputs: list) -> float:
    """About how many px a cell's code, printed output and markdown/HTML output take on a slide."""
    height = sum(_rows(line, CODE_COLUMNS) for line in source.splitlines()) * _ROW_PX["code"] + 24
    for out in outputs:
        data = out.get("data", {})
        if out.get("output_type") == "stream" or set(data) == {"text/plain"}:
            text = out.get("text") or data.get("text/plain", "")
            text = text if isinstance(text, str) else "".join(text)
            height += sum(_rows(line, OUTPUT_COLUMNS) for line in text.splitlines()) * _ROW_PX["output"] + 14
        elif "text/markdown" in data or "text/html" in data:
            text = data.get("text/markdown") or data.get("text/html")
            text = text if isinstance(text, str) else "".join(text)
            height += text.count("<tr") * _ROW_PX["table"] if "<tr" in text else \
                sum(_rows(line, 90) for line in text.splitlines() if line.strip()) * _ROW_PX["table"]
    return height


def _figure_rows(sizes: list, scale: float) -> float:
    """Height of figures of ``sizes`` at ``scale``, placed side by side in rows of ``FIGURE_WIDTH``
    (as SLIDE_CSS places a cell's image outputs)."""
    total, row_width, row_height = 0.0, 0.0, 0.0
    for width, height in sizes:
        if row_width and row_width + _FIGURE_GAP + width * scale > FIGURE_WIDTH:
            total, row_width, row_height = total + row_height + _FIGURE_GAP, 0.0, 0.0
        row_width += (_FIGURE_GAP if row_width else 0) + width * scale
        row_height = max(row_height, height * scale)
    return total + row_height


def _fit_figures(outputs: list, room: float = FIGURE_HEIGHT) -> None:
    """Give a cell's PNG figures a display size: one scale for all, ``FIGURE_ZOOM`` times their
    own size at most, so that they fit ``room`` px in height, side by side where they fit in
    ``FIGURE_WIDTH``."""
    figures = []
    for out in outputs:
        data = out.get("data", {}).get("image/png")
        size = _png_size(data if isinstance(data, str) else "".join(data)) if data else None
        if size:
            meta = out.setdefault("metadata", {}).setdefault("image/png", {})
            figures.append((meta, meta.get("width", size[0]), meta.get("height", size[1])))
    if not figures:
        return
    sizes = [(w, h) for _, w, h in figures]
    low, high = 0.0, min(FIGURE_ZOOM, *(FIGURE_WIDTH / w for w, _ in sizes))
    if _figure_rows(sizes, high) > room:
        for _ in range(30):  # the largest scale that fits: bisection (the height grows with it)
            mid = (low + high) / 2
            low, high = (mid, high) if _figure_rows(sizes, mid) <= room else (low, mid)
        high = low
    for meta, width, height in figures:
        meta["width"], meta["height"] = int(width * high), int(height * high)


def _gif_as_html(out):
    """An animated GIF output (``IPython.display.Image`` of a .gif) as an <img> the deck can show:
    nbconvert's HTML has no rule for image/gif and would print the object's repr."""
    data = out.get("data", {})
    if "image/gif" not in data or "text/html" in data:
        return out
    gif = data["image/gif"] if isinstance(data["image/gif"], str) else "".join(data["image/gif"])
    out = copy.deepcopy(out)
    out["data"] = {"text/html": f'<img src="data:image/gif;base64,{gif.strip()}" style="max-height: {FIGURE_HEIGHT}px">'}
    return out


def slide_view(nb, source: str = "notebook"):
    """The notebook as its slides show it (in place, on a copy): long code folded, printed output
    cut, figures sized (see the module's docstring). Skipped cells and speaker notes are left as
    they are."""
    cells = []
    for index, cell in enumerate(nb.cells):
        cells.append(cell)
        slide_type = cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")
        if cell.get("cell_type") != "code" or slide_type in ("skip", "notes"):
            continue
        tables, rest = [], []
        outputs = _fold_tables([_gif_as_html(o) for o in cell.get("outputs", [])], tables)
        has_figure = any(set(o.get("data", {})) & _RICH and not _console_text(o) for o in outputs)
        start = cell.get("metadata", {}).get("gan_course", {}).get("slide_excerpt")
        try:
            cell.source = fold_code(cell.source, FIGURE_CODE_LINES if has_figure else CODE_LINES, start)
        except ValueError as err:
            raise ValueError(f"{source}, cell {index} ({cell.get('id')}): {err}") from None
        cell.outputs = _fold_outputs(outputs, FIGURE_OUTPUT_LINES if has_figure else OUTPUT_LINES, rest=rest)
        room = max(FIGURE_MIN_HEIGHT, min(FIGURE_HEIGHT, CELL_HEIGHT - _text_height(cell.source, cell.outputs)))
        _fit_figures(cell.outputs, room)
        if tables or rest:  # what the slide leaves out, for the lecturer: a notes cell right after it
            cells.append(_notes_cell(tables, rest))
    nb.cells = cells
    return nb


# The speaker view (``s``) is a window that reveal.js' notes plugin writes itself, without MathJax's
# style sheet: there MathJax's HTML formulas lose their layout, while the MathML copy that MathJax
# keeps beside each one (for screen readers) is drawn by the browser. The deck hides the former in
# that window.
_SPEAKER_VIEW_MATHS = """<script type="text/x-mathjax-config">
// No automatic line breaks in formulas: MathJax breaks a formula to the width of its container,
// which in a table cell is not known until the formulas are drawn, so a table came out two slides
// tall on one pass and one slide on the next. A formula too wide for a slide fails the slide test.
MathJax.Hub.Config({CommonHTML: {linebreaks: {automatic: false}}});
</script>
<script>
(function () {
  var open = window.open;
  window.open = function () {
    var speaker = open.apply(window, arguments);
    if (speaker) setTimeout(function () {
      try {
        var style = speaker.document.createElement('style');
        style.textContent = '.mjx-chtml .mjx-math { display: none !important; }';
        speaker.document.head.appendChild(style);
      } catch (err) {}
    }, 0);
    return speaker;
  };
})();
</script>"""

# The decks' own style, after nbconvert's and the theme's. Sizes are CSS px of the 1280x720 layout.
SLIDE_CSS = """
:root { --jp-content-font-size1: 26px; --jp-code-font-size: 18px; --jp-ui-font-size1: 20px; }
.reveal .slides > section > section { box-sizing: border-box; padding: 16px 24px; }
.reveal .jp-InputPrompt, .reveal .jp-OutputPrompt { display: none; }
.reveal .jp-Cell, .reveal .jp-Cell-inputWrapper, .reveal .jp-Cell-outputWrapper { margin: 0; padding: 0; }
.reveal .jp-CodeCell { margin: 6px 0; }
.reveal .jp-RenderedMarkdown { font-size: 26px; line-height: 1.35; }
.reveal .jp-RenderedMarkdown p, .reveal .jp-RenderedMarkdown ul, .reveal .jp-RenderedMarkdown ol,
.reveal .jp-RenderedMarkdown blockquote, .reveal .jp-RenderedMarkdown table { margin: 0 0 0.45em 0; }
.reveal .jp-RenderedMarkdown li { margin: 0.1em 0; }
.reveal .jp-RenderedMarkdown h1, .reveal .jp-RenderedMarkdown h2, .reveal .jp-RenderedMarkdown h3,
.reveal .jp-RenderedMarkdown h4 { text-transform: none; line-height: 1.15; margin: 0 0 0.4em 0; }
.reveal .jp-RenderedMarkdown h1 { font-size: 46px; }
.reveal .jp-RenderedMarkdown h2 { font-size: 40px; }
.reveal .jp-RenderedMarkdown h3 { font-size: 32px; }
.reveal .jp-RenderedMarkdown h4 { font-size: 28px; }
.reveal .jp-RenderedMarkdown code { font-size: 0.85em; }
.reveal pre, .reveal div.highlight > pre, .reveal div.jp-OutputArea-output > pre {
  white-space: pre-wrap; overflow-wrap: anywhere; width: 100%; font-size: var(--jp-code-font-size); line-height: 1.3;
}
.reveal div.jp-OutputArea-output > pre { font-size: 16px; }
.reveal .jp-OutputArea { display: flex; flex-wrap: wrap; align-items: flex-end; column-gap: 12px; row-gap: 4px; }
.reveal .jp-OutputArea-child { flex: 1 1 100%; }
.reveal .jp-OutputArea-child:has(> .jp-RenderedImage) { flex: 0 0 auto; display: block; width: auto; max-width: 100%; }
.reveal .jp-RenderedImage { padding: 0; }
.reveal .jp-RenderedImage img { display: block; margin: 4px 0; max-width: 100%; object-fit: contain; }
.reveal table, .reveal .jp-RenderedMarkdown table, .reveal .jp-RenderedHTMLCommon table { font-size: 17px; line-height: 1.2; }
.reveal .jp-OutputArea table { font-size: 15px; }
.reveal .jp-RenderedHTMLCommon td, .reveal .jp-RenderedHTMLCommon th { padding: 2px 6px; }
.reveal .jp-RenderedMarkdown img { max-height: 430px; max-width: 100%; }
.reveal .MJXc-display { font-size: 85%; }
"""


def _lesson_notebooks(notebooks: str | Path | None) -> list[Path]:
    folder = Path(notebooks) if notebooks is not None else project_root(Path(__file__).resolve().parent) / "notebooks"
    found = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if not found:
        raise FileNotFoundError(f"no lesson notebooks (NN_name.ipynb) in {folder}.")
    return found


# ---------------------------------------------------------------------------------------------
# Offline decks: the page's JavaScript from npm packages, copied next to the decks.

# The npm packages (pinned in site/package.json) and the files of each that a deck loads. reveal.js
# stays at 4.0.2, the version nbconvert's slide template is written for; MathJax 2 likewise (the
# template configures MathJax.Hub); the deck asks for the CommonHTML output, its web fonts and
# the TeX extensions (MathJax loads those on demand, so the whole folders are copied).
_WEB_FILES = {
    "reveal.js": ["dist/reveal.js", "dist/reveal.css", "dist/theme", "plugin/notes", "LICENSE"],
    "requirejs": ["require.js"],
    "jquery": ["dist/jquery.min.js", "LICENSE.txt"],
    "mathjax": ["MathJax.js", "config/TeX-AMS_CHTML-full.js", "config/Safe.js", "extensions", "jax/input/TeX",
                "jax/output/CommonHTML", "jax/element", "fonts/HTML-CSS/TeX/woff", "LICENSE"],
}
# nbconvert's template also imports Mermaid as an ES module for diagrams in markdown. The lessons
# have none, so the deck imports an empty stand-in, inline (a module file would be refused by the
# browser when the deck is opened as a file://), instead of fetching Mermaid from a CDN.
_MERMAID_STUB = "data:text/javascript,export default {initialize() {}};"


def web_assets_dir() -> Path:
    """``site/node_modules``, where ``npm ci`` (run by ``make materials``/``make site``) installs the
    packages pinned in ``site/package.json``."""
    return project_root(Path(__file__).resolve().parent) / "site" / "node_modules"


def copy_web_assets(dest: str | Path, source: str | Path | None = None) -> Path:
    """Copy reveal.js, RequireJS, jQuery and the parts of MathJax a deck uses into ``dest``.

    ``dest`` gets ``reveal.js/``, ``require.js``, ``jquery.min.js`` and ``mathjax/`` (about 8 MB).
    Raises ``FileNotFoundError`` with the fix when the npm packages are not installed.
    """
    source = Path(source) if source is not None else web_assets_dir()
    missing = [name for name in _WEB_FILES if not (source / name / "package.json").is_file()]
    if missing:
        raise FileNotFoundError(
            f"the slides' JavaScript packages {missing} are not installed in {source}. Install them with "
            "`make web-assets` (runs `npm ci` in site/; needs Node.js and npm, e.g. `apt-get install npm`), "
            "or build decks that load them from CDNs (`--cdn`).")
    dest = Path(dest)
    for package, files in _WEB_FILES.items():
        for rel in files:
            src = source / package / rel
            if package in ("reveal.js", "mathjax"):  # folders that keep their layout
                target = dest / package / rel
            else:  # single scripts: dest/require.js, dest/jquery.min.js (and the licence)
                target = dest / (src.name if src.suffix == ".js" else f"{package}-{src.name}")
            target.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, target, dirs_exist_ok=True)
            else:
                shutil.copy2(src, target)
    return dest


def offline_urls(prefix: str) -> dict:
    """SlidesExporter settings that load everything from ``prefix`` (a path relative to the deck,
    where :func:`copy_web_assets` copied the files)."""
    prefix = prefix.rstrip("/")
    return {
        "reveal_url_prefix": f"{prefix}/reveal.js",
        "require_js_url": f"{prefix}/require.js",
        "jquery_url": f"{prefix}/jquery.min.js",
        "mathjax_url": f"{prefix}/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
        "mermaid_js_url": _MERMAID_STUB,
    }


def build_slides(
    out_dir: str | Path,
    notebooks: str | Path | list | None = None,
    execute: bool = False,
    preset: str | None = None,
    reveal_prefix: str | None = None,
    timeout: int = 1800,
    verbose: bool = True,
    assets: str | None = None,
) -> list[Path]:
    """Write ``<out_dir>/NN_name.slides.html`` for every lesson notebook; returns the paths.

    ``notebooks``: a folder (default: the project's ``notebooks/``) or a list of notebook files.
    ``execute=True`` runs each notebook first, in its own folder, under ``preset`` (default: the
    ``GAN_COURSE_PRESET`` variable, else ``smoke``), so the slides show its figures; otherwise the
    slides show code without outputs (or the outputs a notebook already has: pass executed copies,
    e.g. from the site's cache, for decks with figures and no run). Cells without a slide type get
    the default from :func:`default_slide_type` in the copy that is converted; the notebook files
    are not changed.

    ``assets``: a path relative to the decks where :func:`copy_web_assets` put the JavaScript
    (``"vendor"`` copies it into ``out_dir/vendor`` first; another value, e.g. ``"../vendor"``,
    expects it there): the decks then work offline. ``None`` loads it from CDNs.
    """
    import nbformat
    from nbconvert import SlidesExporter

    paths = [Path(p) for p in notebooks] if isinstance(notebooks, (list, tuple)) else _lesson_notebooks(notebooks)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Laid out at SLIDE_SIZE and scaled to the window by reveal.js; nothing scrolls: slide_view and
    # SLIDE_CSS make a slide fit, tests/test_slide_fit.py checks that every one does.
    exporter = SlidesExporter(reveal_number="c/t", reveal_width=str(SLIDE_SIZE[0]), reveal_height=str(SLIDE_SIZE[1]))
    if assets:
        if "/" not in assets.strip("/"):  # a folder beside the decks: put the files there
            copy_web_assets(out_dir / assets)
        for name, value in offline_urls(assets).items():
            setattr(exporter, name, value)
        # nbconvert's default theme, "simple", imports Google web fonts; "white" uses the font
        # that ships with reveal.js.
        exporter.reveal_theme = "white"
    if reveal_prefix:
        exporter.reveal_url_prefix = reveal_prefix
    from gan_course.progress import Progress

    written = []
    # Executing takes each lesson's run time: a progress bar (live in a terminal, lines in a log) says which
    # lesson runs, how long the finished ones took and about how long is left. Without, decks take seconds.
    bar = Progress(len(paths), unit="lesson", desc="executed decks", mode=None if verbose and execute else "off")
    with bar:
        for path in paths:
            nb = nbformat.read(path, as_version=4)
            tag_cells(nb.cells)
            if execute:
                bar.start(path.stem, announce=True)
                nb = _execute(nb, path, preset, timeout, verbose=False)
            slide_view(nb, path.name)
            body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
            body = body.replace("</head>", f'<style id="gan-course-slides">{SLIDE_CSS}</style>\n{_SPEAKER_VIEW_MATHS}\n</head>', 1)
            target = out_dir / f"{path.stem}.slides.html"
            target.write_text(body, encoding="utf-8")
            written.append(target)
            if execute:
                bar.finish(f"{target} ({slide_count(body)} slides, executed; the lesson ran {bar.item_seconds():.0f} s)")
            elif verbose:
                print(f"slides: {target} ({slide_count(body)} slides)")
    return written


def _execute(nb, path: Path, preset: str | None, timeout: int, verbose: bool):
    from nbclient import NotebookClient

    from gan_course.presets import get_preset

    preset = get_preset(preset, default="smoke").name  # the one place a preset name is resolved
    if verbose:
        print(f"executing {path.name} with the {preset} preset ...", flush=True)
    saved = {k: os.environ.get(k) for k in ("GAN_COURSE_PRESET", "GAN_COURSE_QUIZ", "MPLBACKEND", "GAN_COURSE_PROGRESS")}
    # The kernel inherits this environment: the chosen preset, the quiz as plain text (a widget has no
    # one to click it in a slide) and progress as plain lines (gan_course.progress), not a widget.
    os.environ.update(GAN_COURSE_PRESET=preset, GAN_COURSE_QUIZ="text", MPLBACKEND="module://matplotlib_inline.backend_inline",
                      GAN_COURSE_PROGRESS=saved["GAN_COURSE_PROGRESS"] or "log")
    try:
        nb = copy.deepcopy(nb)
        NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=False,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return nb


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gan_course.teaching.slides", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    tag = sub.add_parser("tag", help="fill in missing slide types (headings start slides)")
    tag.add_argument("notebooks", nargs="*", type=Path, help="notebook files (default: every lesson)")
    tag.add_argument("--check", action="store_true", help="only list notebooks with untagged cells; exit 1 if any")
    build = sub.add_parser("build", help="write NN_name.slides.html for every lesson")
    build.add_argument("--out", type=Path, default=Path("build/materials/slides"))
    build.add_argument("--execute", action="store_true", help="run each notebook first: slides with outputs")
    build.add_argument("--preset", default=None, help="preset for --execute (default $GAN_COURSE_PRESET or smoke)")
    build.add_argument("--cdn", action="store_true",
                       help="load reveal.js, MathJax etc. from CDNs instead of a copy in <out>/vendor (needs internet to view)")
    build.add_argument("--reveal-prefix", default=None, help="URL or relative path of another reveal.js copy")
    build.add_argument("--timeout", type=int, default=1800, help="seconds one cell may run with --execute")
    build.add_argument("notebooks", nargs="*", type=Path, help="notebook files (default: every lesson)")
    args = parser.parse_args(argv)

    if args.command == "tag":
        paths = args.notebooks or _lesson_notebooks(None)
        untagged = 0
        for path in paths:
            count = len(missing_slide_types(path)) if args.check else tag_notebook(path)
            untagged += count
            print(f"{path}: {count} cell(s) {'without a slide type' if args.check else 'tagged'}")
        return 1 if (args.check and untagged) else 0
    build_slides(args.out, args.notebooks or None, execute=args.execute, preset=args.preset,
                 reveal_prefix=args.reveal_prefix, timeout=args.timeout, assets=None if args.cdn else "vendor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
