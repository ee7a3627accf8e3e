"""Build the course's study and teaching materials in one command.

    python -m gan_course.teaching.materials            # or: make materials

writes, offline, from the flashcard files and the notebooks:

- ``build/materials/gan-course.apkg``: the Anki deck (one sub-deck per lesson);
- ``build/materials/flashcards.csv``: the same cards as a spreadsheet;
- ``build/materials/slides/NN_name.slides.html``: reveal.js slides for every lesson, without
  outputs, with reveal.js, RequireJS, jQuery and MathJax copied into ``slides/vendor/`` so the
  decks work in a lecture hall without internet (``--cdn``: load them from CDNs instead);
- with ``--execute``: ``build/materials/slides-executed/``, the same decks with each lesson's
  outputs (figures, scores), from the site's cache of executed lessons
  (:mod:`gan_course.teaching.site`: a lesson runs under ``--preset`` only if it changed since
  its last run).

The deck is validated first (schema, unique IDs, every card's section a heading of its
notebook, every exercise's cards existing); any problem stops the build with the list.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gan_course.teaching.flashcards import DeckError, deck_problems, export_apkg, export_csv, flashcards_dir, load_deck, notebooks_dir
from gan_course.paths import project_root
from gan_course.presets import get_preset

__all__ = ["build_materials", "main"]


def build_materials(
    out_dir: str | Path | None = None,
    execute: bool = False,
    preset: str | None = None,
    reveal_prefix: str | None = None,
    slides: bool = True,
    strict: bool = True,
    verbose: bool = True,
    offline: bool = True,
) -> dict:
    """Validate the deck, export it to Anki and CSV, build every lesson's slides.

    Returns ``{"apkg": path, "csv": path, "slides": [paths], "slides_executed": [paths],
    "cards": n, "lessons": n, "problems": [...]}``. With ``strict=False`` deck problems are
    printed and the lessons that load are still exported (for authors while a lesson is
    half-written). ``offline=True`` copies the decks' JavaScript next to them (needs the npm
    packages: ``make web-assets``); ``execute=True`` adds decks with outputs, executed under
    ``preset`` (default ``$GAN_COURSE_PRESET``, else ``smoke``) through the site's cache.
    """
    from gan_course.teaching.slides import build_slides

    out_dir = Path(out_dir) if out_dir is not None else project_root(Path(__file__).resolve().parent) / "build" / "materials"
    problems = deck_problems(flashcards_dir(), notebooks_dir())
    if problems:
        message = "the flashcard deck has problems:\n- " + "\n- ".join(problems)
        if strict:
            raise DeckError(message + "\n(fix them, or build anyway with --lenient)")
        print("WARNING " + message, file=sys.stderr)
    lessons = load_deck(flashcards_dir())
    n_cards = sum(len(lesson.cards) for lesson in lessons.values())
    apkg = export_apkg(lessons, out_dir / "gan-course.apkg")
    csv_path = export_csv(lessons, out_dir / "flashcards.csv")
    if verbose:
        print(f"anki deck: {apkg} ({n_cards} cards in {len(lessons)} lessons)")
        print(f"csv:       {csv_path}")
    slide_paths, executed_paths = [], []
    assets = "vendor" if offline else None
    if slides:
        slide_paths = build_slides(out_dir / "slides", notebooks_dir(), reveal_prefix=reveal_prefix,
                                   verbose=verbose, assets=assets)
    if slides and execute:
        from gan_course.teaching.site import execute_lessons

        runs = execute_lessons(get_preset(preset, default="smoke").name, notebooks_dir(),
                               verbose=verbose)
        executed_paths = build_slides(out_dir / "slides-executed", [run["path"] for run in runs],
                                      reveal_prefix=reveal_prefix, verbose=verbose, assets=assets)
    return {"apkg": apkg, "csv": csv_path, "slides": slide_paths, "slides_executed": executed_paths,
            "cards": n_cards, "lessons": len(lessons), "problems": problems}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gan_course.teaching.materials",
                                     description="Build the Anki deck, the CSV and every lesson's slides.")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: build/materials)")
    parser.add_argument("--execute", action="store_true",
                        help="also decks with outputs (slides-executed/): runs the lessons that changed since their last run")
    parser.add_argument("--cdn", action="store_true",
                        help="decks load reveal.js and MathJax from CDNs (no vendor/ copy; needs internet to view)")
    parser.add_argument("--preset", default=None, help="preset for --execute (default $GAN_COURSE_PRESET or smoke)")
    parser.add_argument("--reveal-prefix", default=None, help="URL or relative path of a local reveal.js copy")
    parser.add_argument("--no-slides", action="store_true", help="only the Anki deck and the CSV")
    parser.add_argument("--lenient", action="store_true", help="report deck problems but build anyway")
    args = parser.parse_args(argv)
    try:
        build_materials(args.out, execute=args.execute, preset=args.preset, reveal_prefix=args.reveal_prefix,
                        slides=not args.no_slides, strict=not args.lenient, offline=not args.cdn)
    except (DeckError, FileNotFoundError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
