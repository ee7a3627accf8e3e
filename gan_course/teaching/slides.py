"""Lecture slides: every lesson notebook as a reveal.js slide deck, built with nbconvert.

Two jobs, both runnable from the command line (``python -m gan_course.teaching.slides --help``):

- ``tag``: fill in each cell's ``metadata.slideshow.slide_type`` where it is missing, from the
  notebook's headings (a cell with a ``#``/``##`` heading starts a slide, one with ``###`` a
  sub-slide, everything else joins the slide above: ``"-"``). Types already set, by hand or by
  RISE's slide-type menu, are kept; cell order, IDs and sources are never touched.
- ``build``: one ``NN_name.slides.html`` per notebook, through nbconvert's ``SlidesExporter``
  (what ``jupyter nbconvert --to slides`` runs), either from the output-free notebooks (a
  lecturer who runs the code live) or after executing them under a preset (slides with figures).

The HTML loads reveal.js, RequireJS and MathJax from public CDNs when it is opened; building
needs no network. To present offline, pass ``reveal_prefix`` pointing at a local reveal.js copy
(see ``docs/lecturers.md``).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
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
    "build_slides",
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


def _lesson_notebooks(notebooks: str | Path | None) -> list[Path]:
    folder = Path(notebooks) if notebooks is not None else project_root(Path(__file__).resolve().parent) / "notebooks"
    found = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if not found:
        raise FileNotFoundError(f"no lesson notebooks (NN_name.ipynb) in {folder}.")
    return found


def build_slides(
    out_dir: str | Path,
    notebooks: str | Path | list | None = None,
    execute: bool = False,
    preset: str | None = None,
    reveal_prefix: str | None = None,
    timeout: int = 1800,
    verbose: bool = True,
) -> list[Path]:
    """Write ``<out_dir>/NN_name.slides.html`` for every lesson notebook; returns the paths.

    ``notebooks``: a folder (default: the project's ``notebooks/``) or a list of notebook files.
    ``execute=True`` runs each notebook first, in its own folder, under ``preset`` (default: the
    ``GAN_COURSE_PRESET`` variable, else ``smoke``), so the slides show its figures; otherwise the
    slides show code without outputs. Cells without a slide type get the default from
    :func:`default_slide_type` in the copy that is converted; the notebook files are not changed.
    """
    import nbformat
    from nbconvert import SlidesExporter

    paths = [Path(p) for p in notebooks] if isinstance(notebooks, (list, tuple)) else _lesson_notebooks(notebooks)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Scroll slides taller than the screen (a code cell with its figure often is), number them.
    exporter = SlidesExporter(reveal_scroll=True, reveal_number="c/t")
    if reveal_prefix:
        exporter.reveal_url_prefix = reveal_prefix
    written = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        tag_cells(nb.cells)
        if execute:
            nb = _execute(nb, path, preset, timeout, verbose)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
        target = out_dir / f"{path.stem}.slides.html"
        target.write_text(body, encoding="utf-8")
        written.append(target)
        if verbose:
            print(f"slides: {target} ({slide_count(body)} slides{', executed' if execute else ''})")
    return written


def _execute(nb, path: Path, preset: str | None, timeout: int, verbose: bool):
    from nbclient import NotebookClient

    preset = preset or os.environ.get("GAN_COURSE_PRESET") or "smoke"
    if verbose:
        print(f"executing {path.name} with the {preset} preset ...", flush=True)
    saved = {k: os.environ.get(k) for k in ("GAN_COURSE_PRESET", "GAN_COURSE_QUIZ", "MPLBACKEND")}
    # The kernel inherits this environment: the chosen preset, and the quiz as plain text
    # (a widget has no one to click it in a slide).
    os.environ.update(GAN_COURSE_PRESET=preset, GAN_COURSE_QUIZ="text", MPLBACKEND="module://matplotlib_inline.backend_inline")
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
    build.add_argument("--reveal-prefix", default=None, help="URL or relative path of a reveal.js copy (offline)")
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
                 reveal_prefix=args.reveal_prefix, timeout=args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
