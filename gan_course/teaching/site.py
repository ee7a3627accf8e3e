"""The course as a static website: every lesson with its outputs, flashcards and slides.

    python -m gan_course.teaching.site --preset cpu       # or: make site PRESET=cpu

1. **Executes** every lesson notebook under a preset into a cache,
   ``build/site-cache/<preset>/NN_name.ipynb``. A lesson runs again only when its key changes:
   the cells' sources, the preset, and the course package's code and flashcards. The notebooks
   in ``notebooks/`` are never written to (they stay output-free in git). Each run writes its
   files to ``build/site-cache/<preset>/outputs/`` unless ``GAN_COURSE_OUTPUTS`` is set.
2. **Writes the site's pages** into ``build/site/<preset>/src/``: a home page (the lesson
   table with each lesson's measured run time at this preset, how to run the course), every
   executed lesson, one flashcard page per lesson, and every lesson's slides, both stripped and
   executed, with reveal.js, RequireJS, jQuery and MathJax copied next to them.
3. **Builds** the HTML with MkDocs (Material theme, ``mkdocs-jupyter`` for the notebooks) into
   ``build/site/<preset>/html/``, a folder of static files for any web server or static host.
   The build makes no network request, and the pages load nothing from other hosts: web fonts
   are off, MathJax and the slides' JavaScript are served from the site itself.

The JavaScript comes from the npm packages pinned in ``site/package.json`` (installed into
``site/node_modules`` by ``make site``; see :mod:`gan_course.teaching.slides`).
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from gan_course.paths import project_root
from gan_course.teaching.flashcards import notebook_headings

__all__ = [
    "lesson_key",
    "execute_lesson",
    "execute_lessons",
    "lesson_time",
    "write_sources",
    "build_site",
    "main",
]

ROOT = project_root(Path(__file__).resolve().parent)
_PACKAGE = Path(__file__).resolve().parents[1]
# Files whose changes cannot change what a lesson prints or draws: the site and slide tools.
_NOT_IN_KEY = {"teaching/site.py", "teaching/slides.py", "teaching/materials.py"}


def default_cache(preset: str) -> Path:
    return ROOT / "build" / "site-cache" / preset


def _package_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*")):
        rel = path.relative_to(_PACKAGE).as_posix()
        if path.suffix in {".py", ".yaml"} and "__pycache__" not in rel and rel not in _NOT_IN_KEY:
            digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def lesson_key(path: str | Path, preset: str, package_digest: str | None = None) -> str:
    """What decides whether a cached run of this lesson is still valid.

    The cells (type and source: not their outputs or metadata, so saving the notebook from
    JupyterLab or re-cutting its slides does not invalidate it), the preset, and the course
    package's code and flashcards (a changed helper can change every figure).
    """
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    cells = [(c["cell_type"], c["source"] if isinstance(c["source"], str) else "".join(c["source"]))
             for c in nb["cells"]]
    payload = json.dumps({"cells": cells, "preset": preset,
                          "package": package_digest or _package_digest()}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _cached(target: Path, key: str):
    if not target.is_file():
        return None
    try:
        nb = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    meta = nb.get("metadata", {}).get("gan_course_site", {})
    return meta if meta.get("key") == key else None


_SLIDE_KEYS = ("slideshow", "gan_course", "tags")  # cell metadata that cuts the slides (teaching.slides)


def _take_slide_metadata(target: Path, source: Path) -> None:
    """Give a cached run's cells the slide metadata the notebook's cells have now: re-cutting the
    slides does not re-run a lesson (the key ignores metadata), and its executed deck follows."""
    cached = json.loads(target.read_text(encoding="utf-8"))
    current = {c.get("id"): c.get("metadata", {}) for c in json.loads(source.read_text(encoding="utf-8"))["cells"]}
    changed = False
    for cell in cached["cells"]:
        wanted = current.get(cell.get("id"))
        if wanted is None:
            continue
        metadata = cell.setdefault("metadata", {})
        for key in _SLIDE_KEYS:
            if metadata.get(key) != wanted.get(key):
                changed = True
                if key in wanted:
                    metadata[key] = wanted[key]
                else:
                    metadata.pop(key, None)
    if changed:
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(cached, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(target)


def execute_lesson(path: str | Path, preset: str, cache: str | Path | None = None, timeout: int = 3600,
                   force: bool = False, verbose: bool = True) -> dict:
    """Run one lesson under ``preset`` unless its cached run is still valid.

    Returns ``{"lesson", "path" (the executed copy), "seconds" (of the run that made it),
    "cached" (True when nothing ran)}``. A cell that raises stops the build with the lesson's
    name and the error: a site never shows a half-run lesson.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = Path(path).resolve()
    cache = Path(cache) if cache is not None else default_cache(preset)
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / path.name
    key = lesson_key(path, preset)
    meta = None if force else _cached(target, key)
    if meta is not None:
        _take_slide_metadata(target, path)
        if verbose:
            print(f"{path.stem}: unchanged, using the run from {meta['executed_at']} ({meta['seconds']:.0f} s)")
        return {"lesson": path.stem, "path": target, "seconds": meta["seconds"], "cached": True}
    if verbose:
        print(f"{path.stem}: executing with the {preset} preset ...", flush=True)
    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ)
    # The preset; the quiz as text (nobody clicks a widget on a web page); figures inline; each
    # run's files in the cache, away from a student's outputs/.
    env.update(GAN_COURSE_PRESET=preset, GAN_COURSE_QUIZ="text",
               MPLBACKEND="module://matplotlib_inline.backend_inline")
    # Progress inside the lesson as plain lines (gan_course.progress): no widget on a web page, no redrawn bar.
    env.setdefault("GAN_COURSE_PROGRESS", "log")
    env.setdefault("GAN_COURSE_OUTPUTS", str((cache / "outputs").resolve()))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.pop("JPY_SESSION_NAME", None)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=False,
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute(env=env)
    except CellExecutionError as err:
        raise RuntimeError(f"{path.name} failed under the {preset} preset, so the site was not built:\n{err}") from None
    seconds = time.perf_counter() - start
    nb.metadata["gan_course_site"] = {"key": key, "preset": preset, "seconds": round(seconds, 1),
                                      "executed_at": time.strftime("%Y-%m-%d %H:%M")}
    tmp = target.with_suffix(".tmp")
    nbformat.write(nb, tmp)
    tmp.replace(target)  # a build interrupted mid-write leaves the old cache entry intact
    if verbose:
        print(f"{path.stem}: {seconds:.0f} s", flush=True)
    return {"lesson": path.stem, "path": target, "seconds": seconds, "cached": False}


def _lessons(notebooks) -> list[Path]:
    if isinstance(notebooks, (list, tuple)):
        return [Path(p) for p in notebooks]
    folder = Path(notebooks) if notebooks is not None else ROOT / "notebooks"
    found = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if not found:
        raise FileNotFoundError(f"no lesson notebooks (NN_name.ipynb) in {folder}.")
    return found


def execute_lessons(preset: str, notebooks=None, cache: str | Path | None = None, timeout: int = 3600,
                    force: bool = False, verbose: bool = True) -> list[dict]:
    """:func:`execute_lesson` for every lesson, in course order. With ``verbose``, a progress bar
    (``gan_course.progress``: live in a terminal, plain lines in a log) says which lesson runs, how
    long each finished one took, the time so far and an estimate of what is left."""
    from gan_course.progress import Progress

    lessons, runs = _lessons(notebooks), []
    with Progress(len(lessons), unit="lesson", desc=f"lessons at {preset}", mode=None if verbose else "off") as bar:
        for path in lessons:
            bar.start(Path(path).stem, announce=True)
            run = execute_lesson(path, preset, cache, timeout, force, verbose=False)
            runs.append(run)
            how = f"unchanged, the run from the cache ({run['seconds']:.0f} s then)" if run["cached"] else \
                f"ran in {run['seconds']:.0f} s"
            bar.finish(f"{run['lesson']}: {how}", cached=run["cached"])
    return runs


# ---------------------------------------------------------------------------------------------
# Pages.

def _first_cell(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    source = nb["cells"][0]["source"]
    return source if isinstance(source, str) else "".join(source)


def lesson_title(path: Path) -> str:
    """The lesson's ``# `` heading without its "Lesson NN ·" prefix."""
    for line in _first_cell(path).splitlines():
        if line.startswith("# "):
            return re.sub(r"^Lesson\s+\d+\s*[·:.-]\s*", "", line[2:].strip())
    return path.stem


def lesson_time(path: Path) -> str:
    """The ``**Time**:`` line of the lesson's opening (what each preset costs), or ''.

    The opening is the markdown before the first code cell: lessons keep the line next to their
    prerequisites, in a notes cell after the title slide."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            break
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        match = re.search(r"\*\*Time\*\*:\s*(.+?)(?:\n\s*\n|\Z)", source, re.S)  # to the paragraph's end
        if match:
            return " ".join(match.group(1).split())
    return ""


def _table_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _home_page(runs: list[dict], preset: str) -> str:
    rows = []
    for run in runs:
        source = ROOT / "notebooks" / f"{run['lesson']}.ipynb"
        name = run["lesson"]
        rows.append(f"| [{name[:2]} · {_table_cell(lesson_title(source))}](lessons/{name}.ipynb) "
                    f"| {run['seconds']:.0f} s | {_table_cell(lesson_time(source))} "
                    f"| [cards](flashcards/{name}.md) "
                    f"| [slides](slides/{name}.slides.html){{: data-static }}, "
                    f"[with outputs](slides-executed/{name}.slides.html){{: data-static }} |")
    table = "\n".join(rows)
    total = sum(r["seconds"] for r in runs)
    return f"""# GANs in Keras 3: the course

Generative Adversarial Networks taught through runnable Jupyter notebooks, in Keras 3 on
TensorFlow. Every lesson below is shown **with its outputs**, executed for this site under the
`{preset}` preset ({total / 60:.1f} minutes for all lessons on the machine that built it).
{"The `smoke` preset only proves that everything runs: its pictures are noise. " if preset == "smoke" else ""}

| lesson | ran here ({preset}) | time per preset (from the lesson) | flashcards | slides |
| --- | --- | --- | --- | --- |
{table}

## Run it yourself

On Linux with Python 3.11 (or newer) and `make`, in a clone of the course:

```bash
make train   # creates .venv, installs the pinned dependencies, trains the DCGAN on MNIST
make lab     # the lessons in JupyterLab
```

Every lesson runs offline on a laptop CPU; choose its size with a preset:
`GAN_COURSE_PRESET=smoke` (seconds, noise), `cpu` (the default: minutes, real results) or `gpu`.

## Flashcards and slides

Each lesson ends with exercises linked to its flashcards; the flashcard pages show every card
with its answer folded. The slides are reveal.js decks of the same notebooks (arrow keys move,
`Esc` shows the overview): "slides" without outputs, for running the code live in a lecture,
and "with outputs" from this site's run. They work without internet.
"""


def _flashcard_page(lesson, title: str, headings: list[str] | None = None) -> str:
    lines = [f"# Flashcards: {title}", "",
             f"{len(lesson.cards)} cards from `gan_course/teaching/cards/{lesson.name}.yaml`, under the "
             f"[lesson](../lessons/{lesson.name}.ipynb)'s sections. Answer each question, then open its answer. In "
             f"JupyterLab, `quiz(\"{lesson.name}\")` asks the same cards; `make materials` exports them to Anki.", ""]
    by_section: dict[str, list] = {}  # each section's cards together, sections in the lesson's order
    for card in lesson.cards:
        by_section.setdefault(card.section, []).append(card)
    order = {heading: i for i, heading in enumerate(headings or [])}
    for section, cards in sorted(by_section.items(), key=lambda item: order.get(item[0], len(order))):
        lines += [f"## {section}", ""]
        for card in cards:
            lines += [f'<details class="card" id="{html.escape(card.id)}" markdown>',
                      f"<summary>{html.escape(card.question)}</summary>", "",
                      card.answer.strip(), "", f"<small>card <code>{html.escape(card.id)}</code></small>", "",
                      "</details>", ""]
    if lesson.exercises:
        lines += ["## Exercises", "", "The lesson's last section asks these; `check(id, answer)` grades the "
                  "checkable ones in the notebook.", ""]
        for exercise in lesson.exercises:
            here = {card.id for card in lesson.cards}  # a card of another lesson: its id, no link
            cards = ", ".join(f"[{c}](#{c})" if c in here else f"`{c}`" for c in exercise.cards)
            lines += [f"- **{exercise.id}**: {exercise.prompt.strip()} (cards: {cards})"]
    return "\n".join(lines) + "\n"


def _mkdocs_config(src: Path, html_dir: Path, lessons: list[tuple[str, str]], preset: str) -> dict:
    return {
        "site_name": "GANs in Keras 3",
        "site_description": f"The gan-course lessons executed under the {preset} preset",
        "docs_dir": str(src),
        "site_dir": str(html_dir),
        "use_directory_urls": False,  # pages work from a plain folder (file://) and any static host
        "strict": True,  # a broken internal link fails the build
        "validation": {"links": {"not_found": "warn", "anchors": "warn", "unrecognized_links": "warn"},
                       "nav": {"omitted_files": "ignore"}},
        "theme": {"name": "material", "font": False,  # no web fonts from another host
                  "features": ["navigation.sections", "navigation.top"],
                  "palette": {"primary": "indigo"}},
        "plugins": [{"search": {}}, {"mkdocs-jupyter": {"include": ["lessons/*.ipynb"], "execute": False,
                                                          "include_source": True, "ignore_h1_titles": False,
                                                          "include_requirejs": False,
                                                          # lessons/NN.html loads the site's MathJax
                                                          "custom_mathjax_url": f"../{_MATHJAX}"}}],
        "markdown_extensions": ["tables", "attr_list", "md_in_html", "admonition",
                                {"pymdownx.arithmatex": {"generic": True}}],
        "extra_javascript": ["assets/mathjax-config.js", _MATHJAX],
        "extra_css": ["assets/course.css"],
        "nav": [{"Home": "index.md"},
                {"Lessons": [{title: f"lessons/{name}.ipynb"} for name, title in lessons]},
                {"Flashcards": [{title: f"flashcards/{name}.md"} for name, title in lessons]}],
    }


_MATHJAX = "vendor/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
_MATHJAX_CONFIG = """// MathJax 2, served from this site (vendor/mathjax), for the markdown pages (maths written
// by arithmatex as \\(...\\) and \\[...\\]). A lesson page has loaded and configured MathJax
// already (mkdocs-jupyter's template): this file then changes nothing, and MathJax.js skips a
// second load.
if (!window.MathJax) window.MathJax = {
  tex2jax: {inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]], displayMath: [["$$", "$$"], ["\\\\[", "\\\\]"]],
            processEscapes: true, processEnvironments: true},
  messageStyle: "none",
  CommonHTML: {linebreaks: {automatic: true}}
};
"""

_CSS = """details.card { border-left: 3px solid var(--md-primary-fg-color); padding: 0.2em 0.8em; margin: 0.6em 0; }
details.card summary { cursor: pointer; font-weight: 600; }
"""


def write_sources(runs: list[dict], preset: str, src: Path, html_dir: Path, verbose: bool = True) -> Path:
    """The MkDocs project: pages, executed lessons, flashcards, slides and assets. Returns mkdocs.yml."""
    from gan_course.teaching import slides
    from gan_course.teaching.flashcards import load_deck

    if src.exists():
        shutil.rmtree(src)
    for sub in ("lessons", "flashcards", "assets"):
        (src / sub).mkdir(parents=True)
    deck = load_deck()
    lessons = []
    for run in runs:
        name = run["lesson"]
        source = ROOT / "notebooks" / f"{name}.ipynb"
        title = lesson_title(source)
        lessons.append((name, f"{name[:2]} {title}"))
        shutil.copy(run["path"], src / "lessons" / f"{name}.ipynb")
        if name in deck:
            (src / "flashcards" / f"{name}.md").write_text(_flashcard_page(deck[name], title, notebook_headings(source)), encoding="utf-8")
        else:
            (src / "flashcards" / f"{name}.md").write_text(f"# Flashcards: {title}\n\nThis lesson has no cards yet.\n",
                                                         encoding="utf-8")
    (src / "index.md").write_text(_home_page(runs, preset), encoding="utf-8")
    (src / "assets" / "mathjax-config.js").write_text(_MATHJAX_CONFIG, encoding="utf-8")
    (src / "assets" / "course.css").write_text(_CSS, encoding="utf-8")
    slides.copy_web_assets(src / "vendor")
    sources = [ROOT / "notebooks" / f"{r['lesson']}.ipynb" for r in runs]
    slides.build_slides(src / "slides", sources, assets="../vendor", verbose=verbose)
    slides.build_slides(src / "slides-executed", [r["path"] for r in runs], assets="../vendor", verbose=verbose)
    config = src.parent / "mkdocs.yml"
    import yaml

    config.write_text(yaml.safe_dump(_mkdocs_config(src, html_dir, lessons, preset), sort_keys=False),
                      encoding="utf-8")
    return config


def _fix_lesson_toc(html_dir: Path) -> int:
    """Point the lesson pages' side table of contents at their headings' real anchors.

    mkdocs-jupyter (0.26) builds that table from the markdown with code spans dropped, so a
    heading like "One round of the game as a `train_step`" gets the link
    ``#7-one-round-of-the-game-as-a`` while nbconvert gives the heading the id
    ``7-one-round-of-the-game-as-a-train_step``. A broken link whose words appear, in order, in
    exactly one heading id is pointed at it. Returns the number of links changed.
    """
    def words_in_order(short: str, long: str) -> bool:
        remaining = iter(long.split("-"))
        return all(word in remaining for word in short.split("-"))

    changed = 0
    for page in sorted((html_dir / "lessons").glob("*.html")):
        text = page.read_text(encoding="utf-8")
        ids = set(re.findall(r'<h[1-6][^>]*\sid="([^"]+)"', text))

        def repair(match):
            nonlocal changed
            anchor = match.group(1)
            if anchor in ids:
                return match.group(0)
            candidates = [i for i in ids if words_in_order(anchor, i)]
            if len(candidates) != 1:
                return match.group(0)
            changed += 1
            return f'href="#{candidates[0]}"'

        fixed = re.sub(r'href="#([^"]+)"', repair, text)
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")
    return changed


def build_site(preset: str = "cpu", out: str | Path | None = None, notebooks=None, cache: str | Path | None = None,
               timeout: int = 3600, force: bool = False, verbose: bool = True, executed: list[dict] | None = None) -> dict:
    """Execute (or reuse) every lesson, write the pages, build the HTML. Returns a summary dict:
    ``{"html": folder, "index": index.html, "runs": [...], "seconds": build time}``.

    ``executed``: lessons already run elsewhere under ``preset``, as :func:`execute_lesson` returns
    them (``{"lesson", "path", "seconds"}``), built as they are instead of ``notebooks``; the
    test suite builds its site from the lesson nbval has just run."""
    from gan_course.presets import get_preset

    get_preset(preset)  # an unknown name stops here, listing the valid ones
    start = time.perf_counter()
    out = Path(out) if out is not None else ROOT / "build" / "site" / preset
    if executed is not None:
        runs = [{"cached": True, **run, "path": Path(run["path"])} for run in executed]
    else:
        runs = execute_lessons(preset, notebooks, cache, timeout, force, verbose)
    src, html_dir = out / "src", out / "html"
    config = write_sources(runs, preset, src, html_dir, verbose)
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--clean", "-q", "-f", str(config)],
                            capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"mkdocs could not build the site (config {config}):\n{result.stdout}{result.stderr}")
    _fix_lesson_toc(html_dir)
    seconds = time.perf_counter() - start
    if verbose:
        ran = sum(not r["cached"] for r in runs)
        print(f"site: {html_dir / 'index.html'} ({len(runs)} lessons, {ran} executed now, {seconds:.0f} s)")
    return {"html": html_dir, "index": html_dir / "index.html", "runs": runs, "seconds": seconds}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gan_course.teaching.site",
                                     description="Build the course website (lessons with outputs, flashcards, slides).")
    parser.add_argument("--preset", default=None, help="preset the lessons run under (default $GAN_COURSE_PRESET or cpu)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default build/site/<preset>)")
    parser.add_argument("--cache", type=Path, default=None, help="executed lessons (default build/site-cache/<preset>)")
    parser.add_argument("--force", action="store_true", help="run every lesson again, even if unchanged")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds one cell may run")
    parser.add_argument("notebooks", nargs="*", type=Path, help="lesson notebooks (default: every lesson)")
    args = parser.parse_args(argv)
    try:
        from gan_course.presets import get_preset

        build_site(get_preset(args.preset).name, args.out, args.notebooks or None, args.cache, args.timeout, args.force)
    except (RuntimeError, FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
