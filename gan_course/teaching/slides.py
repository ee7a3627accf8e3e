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
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import shutil
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
    # Scroll slides taller than the screen (a code cell with its figure often is), number them.
    exporter = SlidesExporter(reveal_scroll=True, reveal_number="c/t")
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

    from gan_course.presets import get_preset

    preset = get_preset(preset, default="smoke").name  # the one place a preset name is resolved
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
