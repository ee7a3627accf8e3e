"""Flashcards: the course's question-and-answer deck, one YAML file per lesson.

Each lesson ``notebooks/NN_name.ipynb`` has ``gan_course/teaching/cards/NN_name.yaml`` with its cards (stable
ID, question, answer, tags, and the notebook ``section`` the card belongs to) and its exercises
(which cite card IDs; an ``answer`` makes an exercise checkable by ``gan_course.teaching.exercises``,
a ``model_answer`` makes an open one revealable, and ``minutes`` is its expected time at the cpu preset).
The format is described in ``gan_course/teaching/cards/README.md``.

This module loads and validates the deck (:func:`load_deck`, :func:`validate_deck`) and exports
it for spaced-repetition study: an Anki package (:func:`export_apkg`, needs ``genanki``) and a
CSV (:func:`export_csv`). Anki note GUIDs derive from card IDs, so re-importing an updated deck
updates the cards a student already has instead of duplicating them.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from gan_course.paths import project_root

__all__ = [
    "Card",
    "Exercise",
    "Lesson",
    "DeckError",
    "flashcards_dir",
    "notebooks_dir",
    "load_lesson",
    "load_deck",
    "notebook_headings",
    "deck_problems",
    "validate_deck",
    "card_guid",
    "ANKI_MODEL_ID",
    "ANKI_DECK_ID",
    "CSV_COLUMNS",
    "export_csv",
    "export_apkg",
]

CARD_KEYS = {"id", "question", "answer", "tags", "section"}
# `accept` (other right answers) and `ordered` (lists compared in order) extend the common schema.
# `model_answer` (what an open exercise should find, revealed on request) and `minutes` (the
# expected time at the cpu preset, reruns included) serve the exercises that have no single answer.
# `run_check` names the checker of an experiment exercise (gan_course.teaching.run_checks.CHECKERS): its check
# reads the rows of the student's run and compares them with the course's measured runs.
EXERCISE_KEYS = {"id", "prompt", "cards", "answer", "tolerance", "hint", "accept", "ordered", "model_answer", "minutes",
                 "run_check"}
LESSON_KEYS = {"lesson", "cards", "exercises"}
ID_PATTERN = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
EXERCISE_ID_PATTERN = re.compile(r"\d\d-[a-z0-9]+(-[a-z0-9]+)*")
MIN_CARDS_PER_LESSON = 8


class DeckError(ValueError):
    """A flashcard file that does not follow the schema; the message names the file and the fix."""


@dataclasses.dataclass(frozen=True)
class Card:
    id: str
    question: str
    answer: str
    tags: tuple[str, ...]
    section: str
    lesson: str


@dataclasses.dataclass(frozen=True)
class Exercise:
    id: str
    prompt: str
    cards: tuple[str, ...]
    lesson: str
    answer: Any = None  # a number, a string or a list; None: an open exercise (no check)
    tolerance: float = 0.0
    hint: str = ""
    accept: tuple = ()  # other answers that also count as right
    ordered: bool = False  # lists: does the order matter?
    model_answer: str = ""  # open exercises: what a good answer finds, and why (revealed on request)
    minutes: float | None = None  # expected time at the cpu preset, reruns included
    run_check: str = ""  # experiment exercises: the run checker that reads the student's run (teaching.run_checks)

    @property
    def checkable(self) -> bool:
        return self.answer is not None

    @property
    def revealable(self) -> bool:
        """Has a model answer the student can reveal (``exercises.reveal``)."""
        return bool(self.model_answer)

    @property
    def answers_back(self) -> bool:
        """Gives feedback: a checker (an ``answer`` or a ``run_check``) or a model answer to reveal."""
        return self.checkable or self.revealable or bool(self.run_check)


@dataclasses.dataclass(frozen=True)
class Lesson:
    name: str  # the notebook's file stem, e.g. "01_dcgan_mnist"
    path: Path
    cards: tuple[Card, ...]
    exercises: tuple[Exercise, ...]

    def card(self, card_id: str) -> Card:
        for card in self.cards:
            if card.id == card_id:
                return card
        raise KeyError(f"lesson {self.name} has no card {card_id!r}")


def flashcards_dir() -> Path:
    """The deck's folder, ``gan_course/teaching/cards/``: inside the package, so an installed
    (non-editable) copy has the cards the exercises read."""
    return Path(__file__).resolve().parent / "cards"


def notebooks_dir() -> Path:
    return project_root(Path(__file__).resolve().parent) / "notebooks"


def _text(value, where: str, path: Path) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DeckError(f"{path.name}: {where} must be a non-empty string, got {value!r}.")
    return value.strip()


def _str_list(value, where: str, path: Path) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list) or not value:
        raise DeckError(f"{path.name}: {where} must be a non-empty YAML list like [a, b], got {value!r}.")
    return tuple(_text(item, where, path) for item in value)


def _answer_value(value, where: str, path: Path):
    """Numbers, strings, or (possibly nested) lists of them; YAML booleans are refused."""
    if isinstance(value, bool):
        raise DeckError(f"{path.name}: {where} is a YAML boolean ({value}); quote it (\"yes\") or use a number.")
    if isinstance(value, (int, float, str)):
        return value
    if isinstance(value, list) and value:
        return [_answer_value(item, where, path) for item in value]
    raise DeckError(f"{path.name}: {where} must be a number, a string or a non-empty list, got {value!r}.")


def load_lesson(path: str | Path) -> Lesson:
    """Read one lesson's YAML file and check its shape (not its links: see :func:`deck_problems`)."""
    import yaml  # only needed here, so importing the package stays light

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise DeckError(f"{path.name}: not valid YAML ({err}). Quote strings that contain ': ' or start with a symbol.") from err
    if not isinstance(raw, dict):
        raise DeckError(f"{path.name}: expected a mapping with keys lesson, cards, exercises.")
    unknown = set(raw) - LESSON_KEYS
    if unknown:
        raise DeckError(f"{path.name}: unknown top-level keys {sorted(unknown)}; allowed: {sorted(LESSON_KEYS)}.")
    lesson = _text(raw.get("lesson"), "`lesson`", path)
    if lesson != path.stem:
        raise DeckError(f"{path.name}: `lesson: {lesson}` must equal the file stem {path.stem!r} (the notebook's name).")

    raw_cards = raw.get("cards")
    if not isinstance(raw_cards, list):
        raise DeckError(f"{path.name}: `cards` must be a list of cards.")
    cards = []
    for i, item in enumerate(raw_cards):
        where = f"card #{i + 1}"
        if not isinstance(item, dict):
            raise DeckError(f"{path.name}: {where} must be a mapping with keys {sorted(CARD_KEYS)}.")
        where = f"card {item.get('id', f'#{i + 1}')!r}"
        missing, unknown = CARD_KEYS - set(item), set(item) - CARD_KEYS
        if missing or unknown:
            raise DeckError(f"{path.name}: {where} has missing keys {sorted(missing)} / unknown keys {sorted(unknown)}; "
                            f"a card has exactly {sorted(CARD_KEYS)}.")
        card_id = _text(item["id"], f"{where} id", path)
        if not ID_PATTERN.fullmatch(card_id):
            raise DeckError(f"{path.name}: card id {card_id!r} must be kebab-case (lower-case letters, digits, '-').")
        cards.append(Card(
            id=card_id,
            question=_text(item["question"], f"{where} question", path),
            answer=_text(str(item["answer"]) if isinstance(item["answer"], (int, float)) else item["answer"],
                         f"{where} answer", path),
            tags=_str_list(item["tags"], f"{where} tags", path),
            section=_text(item["section"], f"{where} section", path),
            lesson=lesson,
        ))

    raw_exercises = raw.get("exercises")
    if raw_exercises is None:
        raw_exercises = []
    if not isinstance(raw_exercises, list):
        raise DeckError(f"{path.name}: `exercises` must be a list.")
    exercises = []
    for i, item in enumerate(raw_exercises):
        if not isinstance(item, dict):
            raise DeckError(f"{path.name}: exercise #{i + 1} must be a mapping.")
        where = f"exercise {item.get('id', f'#{i + 1}')!r}"
        unknown = set(item) - EXERCISE_KEYS
        missing = {"id", "prompt", "cards"} - set(item)
        if missing or unknown:
            raise DeckError(f"{path.name}: {where} has missing keys {sorted(missing)} / unknown keys {sorted(unknown)}; "
                            f"allowed: {sorted(EXERCISE_KEYS)}.")
        ex_id = _text(item["id"], f"{where} id", path)
        if not EXERCISE_ID_PATTERN.fullmatch(ex_id) or ex_id[:2] != lesson[:2]:
            raise DeckError(f"{path.name}: exercise id {ex_id!r} must look like '{lesson[:2]}-short-name' "
                            "(the lesson number, then kebab-case).")
        answer = item.get("answer")
        if answer is not None:
            answer = _answer_value(answer, f"{where} answer", path)
        tolerance = item.get("tolerance", 0.0)
        if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or tolerance < 0:
            raise DeckError(f"{path.name}: {where} tolerance must be a number >= 0, got {tolerance!r}.")
        if "tolerance" in item and not _has_number(answer):
            raise DeckError(f"{path.name}: {where} has a tolerance but no numeric answer; drop the tolerance.")
        accept = item.get("accept", [])
        if not isinstance(accept, list):
            raise DeckError(f"{path.name}: {where} accept must be a list of other right answers.")
        if accept and answer is None:
            raise DeckError(f"{path.name}: {where} lists `accept` answers but has no `answer`.")
        ordered = item.get("ordered", False)
        if not isinstance(ordered, bool):
            raise DeckError(f"{path.name}: {where} ordered must be true or false.")
        hint = item.get("hint", "")
        if hint is None or not isinstance(hint, str):
            raise DeckError(f"{path.name}: {where} hint must be a string.")
        model_answer = item.get("model_answer", "")
        if model_answer is None or not isinstance(model_answer, str) or ("model_answer" in item and not model_answer.strip()):
            raise DeckError(f"{path.name}: {where} model_answer must be a non-empty string (what a good answer finds, and why).")
        minutes = item.get("minutes")
        if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or minutes <= 0):
            raise DeckError(f"{path.name}: {where} minutes must be a number > 0 (the expected time at the cpu preset), "
                            f"got {minutes!r}.")
        run_check = item.get("run_check", "")
        if run_check:
            from gan_course.teaching.run_checks import CHECKERS

            if run_check not in CHECKERS or answer is not None:
                raise DeckError(f"{path.name}: {where} run_check {run_check!r} must name one of {sorted(CHECKERS)} "
                                "(gan_course/teaching/run_checks.py), on an exercise without an `answer`.")
        exercises.append(Exercise(
            id=ex_id,
            prompt=_text(item["prompt"], f"{where} prompt", path),
            cards=_str_list(item["cards"], f"{where} cards", path),
            lesson=lesson,
            answer=answer,
            tolerance=float(tolerance),
            hint=hint.strip(),
            accept=tuple(_answer_value(a, f"{where} accept", path) for a in accept),
            ordered=ordered,
            model_answer=model_answer.strip(),
            minutes=None if minutes is None else float(minutes),
            run_check=run_check,
        ))
    return Lesson(name=lesson, path=path, cards=tuple(cards), exercises=tuple(exercises))


def _has_number(value) -> bool:
    if isinstance(value, list):
        return any(_has_number(v) for v in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def load_deck(folder: str | Path | None = None) -> dict[str, Lesson]:
    """Every ``gan_course/teaching/cards/*.yaml`` file, by lesson name, in course order.

    Raises :class:`DeckError` on a malformed file and on a card or exercise ID used twice
    (IDs are unique across all lessons, so a card ID names one card forever).
    """
    folder = Path(folder) if folder is not None else flashcards_dir()
    if not folder.is_dir():
        raise DeckError(f"no flashcards folder at {folder}; create it with one NN_name.yaml per lesson.")
    lessons = {}
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        lesson = load_lesson(path)
        for item_id in [c.id for c in lesson.cards] + [e.id for e in lesson.exercises]:
            if item_id in seen:
                raise DeckError(f"ID {item_id!r} is used twice: in {seen[item_id]} and in {path.name}. "
                                "IDs are unique across all lessons; rename the newer one.")
            seen[item_id] = path.name
        lessons[lesson.name] = lesson
    return lessons


FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def notebook_headings(path: str | Path) -> list[str]:
    """The text of every markdown heading (``#`` to ``######``) in a notebook, in order.

    Lines inside fenced code blocks are skipped (a ``# comment`` there is not a heading).
    """
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    headings = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        in_fence = False
        for line in source.splitlines():
            if FENCE.match(line):
                in_fence = not in_fence
                continue
            match = None if in_fence else HEADING.match(line)
            if match:
                headings.append(match.group(2).strip())
    return headings


def deck_problems(folder: str | Path | None = None, notebooks: str | Path | None = None) -> list[str]:
    """Everything wrong with the deck as a list of messages (empty: the deck is valid).

    Checks, beyond the schema that :func:`load_deck` enforces: every notebook has a flashcard
    file and every flashcard file a notebook, at least 8 cards per lesson, every card's
    ``section`` is a heading of its lesson's notebook, every exercise cites existing cards.
    """
    folder = Path(folder) if folder is not None else flashcards_dir()
    notebooks = Path(notebooks) if notebooks is not None else notebooks_dir()
    try:
        lessons = load_deck(folder)
    except DeckError as err:
        return [str(err)]
    problems = []
    notebook_paths = {p.stem: p for p in sorted(notebooks.glob("[0-9][0-9]_*.ipynb"))}
    for stem in notebook_paths:
        if stem not in lessons:
            problems.append(f"notebooks/{stem}.ipynb has no flashcards: write gan_course/teaching/cards/{stem}.yaml "
                            f"(at least {MIN_CARDS_PER_LESSON} cards; see gan_course/teaching/cards/README.md).")
    all_cards = {c.id: c for lesson in lessons.values() for c in lesson.cards}
    for name, lesson in lessons.items():
        if name not in notebook_paths:
            problems.append(f"gan_course/teaching/cards/{name}.yaml has no notebook notebooks/{name}.ipynb (renamed lesson?).")
            headings = None
        else:
            headings = notebook_headings(notebook_paths[name])
        if len(lesson.cards) < MIN_CARDS_PER_LESSON:
            problems.append(f"gan_course/teaching/cards/{name}.yaml has {len(lesson.cards)} cards; a lesson needs at least "
                            f"{MIN_CARDS_PER_LESSON}.")
        for card in lesson.cards:
            if headings is not None and card.section not in headings:
                near = [h for h in headings if card.section.lower() in h.lower() or h.lower() in card.section.lower()]
                problems.append(f"gan_course/teaching/cards/{name}.yaml card {card.id!r}: section {card.section!r} is not a heading "
                                f"of {name}.ipynb" + (f" (did you mean {near[0]!r}?)" if near else
                                                      "; use the exact heading text without the #'s."))
        for exercise in lesson.exercises:
            for card_id in exercise.cards:
                if card_id not in all_cards:
                    problems.append(f"gan_course/teaching/cards/{name}.yaml exercise {exercise.id!r} cites unknown card {card_id!r}.")
    return problems


def validate_deck(folder: str | Path | None = None, notebooks: str | Path | None = None) -> dict[str, Lesson]:
    """Load the deck and raise :class:`DeckError` listing every problem, or return the lessons."""
    problems = deck_problems(folder, notebooks)
    if problems:
        raise DeckError("the flashcard deck has problems:\n- " + "\n- ".join(problems))
    return load_deck(folder)


# ---------------------------------------------------------------------------------------------
# Export. Fixed IDs: Anki recognises the note type and deck across re-imports by these numbers.
ANKI_MODEL_ID = 1_607_392_801  # random.randrange(1 << 30, 1 << 31), chosen once, never change
ANKI_DECK_ID = 2_059_400_118
ANKI_DECK_NAME = "gan-course"
CSV_COLUMNS = ("id", "lesson", "section", "question", "answer", "tags")


def card_guid(card_id: str) -> str:
    """A stable Anki note GUID from the card ID (same ID, same GUID, on every machine)."""
    return hashlib.sha1(f"gan-course:{card_id}".encode()).hexdigest()[:16]


def _anki_tag(tag: str) -> str:
    return re.sub(r"\s+", "_", tag.strip())


def export_csv(lessons: dict[str, Lesson], path: str | Path) -> Path:
    """One row per card with the columns :data:`CSV_COLUMNS`; tags joined by spaces."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for lesson in lessons.values():
            for c in lesson.cards:
                writer.writerow([c.id, c.lesson, c.section, c.question, c.answer, " ".join(_anki_tag(t) for t in c.tags)])
    return path


def _html(text: str) -> str:
    """Card text to Anki HTML: escape, keep line breaks; `code` and $maths$ stay as typed."""
    import html

    return html.escape(text).replace("\n", "<br>")


def export_apkg(lessons: dict[str, Lesson], path: str | Path) -> Path:
    """An Anki package: one deck with a sub-deck per lesson, one note per card.

    Fields: ID, Question, Answer, Lesson, Section. Tags: the card's tags plus the lesson name.
    """
    try:
        import genanki
    except ImportError as err:
        raise ImportError("exporting the Anki deck needs genanki: pip install genanki") from err

    model = genanki.Model(
        ANKI_MODEL_ID,
        "gan-course card",
        fields=[{"name": "ID"}, {"name": "Question"}, {"name": "Answer"}, {"name": "Lesson"}, {"name": "Section"}],
        templates=[{
            "name": "Card 1",
            "qfmt": "{{Question}}<div class=meta>{{Lesson}} · {{Section}}</div>",
            "afmt": "{{FrontSide}}<hr id=answer>{{Answer}}",
        }],
        css=".card { font-family: sans-serif; font-size: 20px; text-align: left; }\n"
            ".meta { font-size: 12px; color: #888; margin-top: 1em; }",
        sort_field_index=0,
    )
    decks = []
    for lesson in lessons.values():
        # Sub-deck IDs derive from the fixed base, so they stay stable too.
        deck_id = ANKI_DECK_ID + int(hashlib.sha1(lesson.name.encode()).hexdigest()[:6], 16)
        deck = genanki.Deck(deck_id, f"{ANKI_DECK_NAME}::{lesson.name}")
        for c in lesson.cards:
            deck.add_note(genanki.Note(
                model=model,
                fields=[c.id, _html(c.question), _html(c.answer), c.lesson, _html(c.section)],
                tags=[_anki_tag(t) for t in c.tags] + [c.lesson],
                guid=card_guid(c.id),
            ))
        decks.append(deck)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A fixed timestamp keeps the file's card data identical from one build to the next.
    genanki.Package(decks).write_to_file(str(path), timestamp=1_700_000_000)
    return path
