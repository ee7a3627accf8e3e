"""Exercises and quizzes inside the notebooks, driven by the flashcard files.

``check(exercise_id, answer)`` grades a student's answer to a checkable exercise of
``gan_course/teaching/cards/NN_name.yaml``: it prints "Right" or a hint that points at the flashcard to review,
and returns ``True``/``False``. With ``answer=None`` it only prints the exercise, so a notebook
whose answer cells are still blank runs from top to bottom (and passes the tests).

``reveal(exercise_id)`` answers back on an open exercise (one without a single answer, such as
"retrain with ... and compare"): it prints the task, its expected time at the cpu preset and its
cards, and offers the model answer behind a button in JupyterLab; a non-interactive run prints the
task and how to reveal the answer, never the answer itself (``reveal(id, show=True)`` prints it).
``check(open_id)`` does the same.

An experiment exercise (``run_check:`` in its YAML entry) is checked on the student's run:
``check(exercise_id, rows)`` hands the rows the run returned (or its results file) to the checker of
``gan_course.teaching.run_checks``, which says whether they landed in the range the course measured
at the cpu preset, and why; at smoke it says the run ran and that its numbers mean nothing.

``notebook_exercises(path)`` lists every exercise of a lesson's Exercises section (each numbered
item, and each lettered part "(a)", "(b)", ... of one) with the checker or model answer that
answers it back, if any; ``tests/test_every_exercise.py`` fails on an exercise with neither.

``quiz(lesson)`` goes through a lesson's flashcards: an ipywidgets quiz in JupyterLab, plain text
(questions, then answers) in a non-interactive run such as ``nbconvert`` or ``nbval``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import os
import re
from pathlib import Path

from gan_course.teaching.flashcards import Card, Exercise, Lesson, load_deck

__all__ = ["check", "reveal", "find_exercise", "is_right", "quiz", "quiz_text", "QUIZ_MODE_VAR",
           "NotebookExercise", "notebook_exercises", "exercises_without_feedback"]

QUIZ_MODE_VAR = "GAN_COURSE_QUIZ"  # "text" forces the plain-text quiz, "widgets" the widgets


def _deck(folder=None) -> dict[str, Lesson]:
    return load_deck(folder)


def find_exercise(exercise_id: str, folder: str | Path | None = None) -> tuple[Exercise, dict[str, Card]]:
    """The exercise with this ID, and every card of the deck by ID (to point hints at)."""
    lessons = _deck(folder)
    cards = {c.id: c for lesson in lessons.values() for c in lesson.cards}
    for lesson in lessons.values():
        for exercise in lesson.exercises:
            if exercise.id == exercise_id:
                return exercise, cards
    known = [e.id for lesson in lessons.values() for e in lesson.exercises]
    prefix = exercise_id[:3]
    same_lesson = [k for k in known if k.startswith(prefix)]
    raise KeyError(f"no exercise {exercise_id!r} in the flashcard files; "
                   f"exercises of that lesson: {same_lesson or known}.")


# ---------------------------------------------------------------------------------------------
# Comparing answers. Numbers within a tolerance, strings without case/space/punctuation fuss,
# lists element by element (in any order unless the exercise says `ordered: true`).

def _as_number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real):
        return float(value)
    if hasattr(value, "item") and getattr(value, "size", 1) == 1:  # numpy / tensor scalars
        try:
            return _as_number(value.item())
        except (TypeError, ValueError):
            return None
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        try:
            if "/" in text:  # "3/4"
                top, bottom = text.split("/")
                return float(top) / float(bottom)
            return float(text)
        except (ValueError, ZeroDivisionError):
            return None
    return None


def _norm_text(value) -> str:
    text = str(value).casefold().strip()
    text = re.sub(r"[`'\"]", "", text)
    text = re.sub(r"\s+", " ", text).rstrip(".!").strip()
    return re.sub(r"^(the|a|an) ", "", text)  # "the discriminator" = "discriminator"


def _same(expected, given, tolerance: float, ordered: bool) -> bool:
    if isinstance(expected, list):
        if hasattr(given, "tolist"):
            given = given.tolist()
        if isinstance(given, (str, bytes)) or not hasattr(given, "__iter__"):
            return False
        given = list(given)
        if len(given) != len(expected):
            return False
        if ordered:
            return all(_same(e, g, tolerance, ordered) for e, g in zip(expected, given))
        remaining = list(given)
        for e in expected:  # greedy matching is enough for the small lists of exercises
            for j, g in enumerate(remaining):
                if _same(e, g, tolerance, ordered):
                    del remaining[j]
                    break
            else:
                return False
        return True
    if isinstance(expected, (int, float)):
        number = _as_number(given)
        if number is None or math.isnan(number):
            return False
        return math.isclose(number, expected, rel_tol=1e-9, abs_tol=max(tolerance, 1e-12))
    return _norm_text(expected) == _norm_text(given)


def is_right(exercise: Exercise, answer) -> bool:
    """Does ``answer`` solve ``exercise``? (No printing; ``check`` is the notebook-facing one.)"""
    if not exercise.checkable:
        raise ValueError(f"exercise {exercise.id!r} has no answer to check against: it is an open exercise.")
    return any(_same(expected, answer, exercise.tolerance, exercise.ordered)
               for expected in (exercise.answer, *exercise.accept))


def _kind(expected) -> str:
    if isinstance(expected, list):
        return f"a list of {len(expected)} items"
    if isinstance(expected, (int, float)):
        return "a number"
    return "a short text"


def _card_pointer(exercise: Exercise, cards: dict[str, Card]) -> str:
    lines = []
    for card_id in exercise.cards:
        card = cards.get(card_id)
        if card is not None:
            lines.append(f"  review card [{card.id}] ({card.lesson}, section \"{card.section}\"): {card.question}")
    return "\n".join(lines)


def _minutes(exercise: Exercise) -> str:
    if exercise.minutes is None:
        return ""
    return f"  Time: about {exercise.minutes:g} min at the cpu preset.\n"


def _check_run(exercise: Exercise, cards: dict[str, Card], rows, preset) -> bool | None:
    """An experiment exercise: its run checker reads the student's rows (see run_checks)."""
    from gan_course.teaching import run_checks

    if rows is None:
        argument, what = run_checks.answer_help(exercise.run_check)
        print(f"Exercise {exercise.id} (an experiment): {exercise.prompt}\n{_minutes(exercise)}"
              f"  Cards: {', '.join(exercise.cards)}\n"
              f"  Run it, then pass {what}, and run this cell again: check({exercise.id!r}, {argument}).")
        return False
    print(f"Exercise {exercise.id}: your run against the course's measured runs")
    verdict = run_checks.run_check(exercise.run_check, rows, preset)
    if verdict is False:
        hint = f"  Hint: {exercise.hint}\n" if exercise.hint else ""
        print(f"Not as measured ({exercise.id}): look at your settings first (the same as the lesson's, one change?), "
              f"then at what the run did.\n{hint}{_card_pointer(exercise, cards)}")
    if exercise.revealable:
        print(f"  Compare your reading with the model answer: reveal({exercise.id!r}).")
    return verdict


def check(exercise_id: str, answer=None, *, folder: str | Path | None = None, preset=None) -> bool | None:
    """Grade ``answer`` for exercise ``exercise_id`` and print feedback.

    Prints "Right" (and returns ``True``), or a hint with the flashcards to review (and returns
    ``False``). ``answer=None`` prints the exercise and what kind of answer it expects, and
    returns ``False`` without grading, so an unanswered exercise cell never stops a notebook.
    For an open exercise (no single answer), ``check(exercise_id)`` is :func:`reveal`. For an
    experiment exercise (a ``run_check``), ``answer`` is the student's run (its rows or results file),
    checked at ``preset`` (default: ``presets.get_preset()``); it returns None at smoke.
    """
    exercise, cards = find_exercise(exercise_id, folder)
    if exercise.run_check:
        return _check_run(exercise, cards, answer, preset)
    if answer is None:
        if not exercise.checkable and exercise.revealable:
            reveal(exercise_id, folder=folder)
            return False
        expects = _kind(exercise.answer) if exercise.checkable else "no fixed answer (an open exercise)"
        print(f"Exercise {exercise.id}: {exercise.prompt}\n"
              f"  Expects {expects}. Set your answer above and run this cell again.\n"
              f"{_minutes(exercise)}"
              f"  Cards: {', '.join(exercise.cards)}")
        return False
    if not exercise.checkable:
        raise ValueError(f"exercise {exercise.id!r} is open (no `answer` in gan_course/teaching/cards/{exercise.lesson}.yaml), "
                         "so check() cannot grade it; compare your reasoning with the model answer "
                         f"(reveal({exercise.id!r})) and the cards {', '.join(exercise.cards)}.")
    if is_right(exercise, answer):
        print(f"Right! ({exercise.id})")
        if exercise.model_answer:
            print(f"  Why: {exercise.model_answer}")
        return True
    hint = f"  Hint: {exercise.hint}\n" if exercise.hint else ""
    kind = ""
    if isinstance(exercise.answer, (int, float)) and _as_number(answer) is None:
        kind = f"  (expected a number, got {answer!r})\n"
    elif isinstance(exercise.answer, list) and (isinstance(answer, str) or not hasattr(answer, "__len__")
                                                or len(answer) != len(exercise.answer)):
        kind = f"  (expected {_kind(exercise.answer)})\n"
    print(f"Not yet ({exercise.id}).\n{kind}{hint}{_card_pointer(exercise, cards)}")
    return False


# ---------------------------------------------------------------------------------------------
# Open exercises: a model answer the student reveals.

REVEAL_BUTTON = "Show the model answer"


def _reveal_text(exercise: Exercise) -> str:
    """The exercise without its model answer: what a non-interactive run prints."""
    return (f"Exercise {exercise.id} (open: no single answer): {exercise.prompt}\n"
            f"{_minutes(exercise)}"
            f"  Cards: {', '.join(exercise.cards)}\n"
            f"  Write down what you expect (and, after any rerun, what you saw) before you look.\n"
            f"  Model answer: hidden. In JupyterLab, run this cell and click \"{REVEAL_BUTTON}\"; "
            f"anywhere, run reveal({exercise.id!r}, show=True).")


def _reveal_widget(exercise: Exercise, text: str):
    import html

    import ipywidgets as w

    header = w.HTML("<br>".join(html.escape(line) for line in text.splitlines()[:-1]))
    answer = w.HTMLMath("")
    show = w.Button(description=REVEAL_BUTTON, button_style="info", layout=w.Layout(width="auto"))

    def on_show(_):
        answer.value = "<b>Model answer.</b> " + html.escape(exercise.model_answer).replace("\n", "<br>")
        show.disabled = True

    show.on_click(on_show)
    return w.VBox([header, show, answer])


def reveal(exercise_id: str, *, show: bool = False, folder: str | Path | None = None) -> None:
    """Answer back on an open exercise: its task, time and cards, and its model answer on request.

    In JupyterLab: a button that reveals the model answer. Elsewhere (plain Python, ``nbconvert``,
    ``nbval``, or with ``GAN_COURSE_QUIZ=text``): prints the task and how to reveal the answer,
    never the answer itself. ``show=True`` prints the model answer too. An unknown ID raises a
    ``KeyError`` that lists the lesson's exercises; an exercise with a checker raises a
    ``ValueError`` that says to call ``check(id, your_answer)``.
    """
    exercise, _ = find_exercise(exercise_id, folder)
    if not exercise.revealable:
        how = (f"it has a checker: check({exercise.id!r}, your_answer)" if exercise.checkable else
               f"add a `model_answer` to it in gan_course/teaching/cards/{exercise.lesson}.yaml")
        raise ValueError(f"exercise {exercise.id!r} has no model answer to reveal; {how}.")
    text = _reveal_text(exercise)
    if show:
        print(text.rsplit("\n", 1)[0] + f"\n  Model answer: {exercise.model_answer}")
        return None
    if not _interactive():
        print(text)
        return None
    from IPython.display import display

    display(_QuizDisplay(_reveal_widget(exercise, text), text))
    return None


# ---------------------------------------------------------------------------------------------
# Every exercise of a notebook, and what answers it back.
#
# The rule: an exercise is a numbered item of the markdown of the notebook's Exercises section,
# written "1. **Title** ..." or "**1. Title.** ...", or, where the item has lettered parts
# "(a) ... (b) ...", each part. It answers back when the code cell right after its markdown cell
# calls check("NN-id", ...) or reveal("NN-id") for an exercise of the lesson's YAML that has an
# `answer` (a checker) or a `model_answer`, and that exercise shares a flashcard with the ones the
# item (or part) cites. Each call answers one exercise (a cell with two items needs two calls).

_ITEM = re.compile(r"^[ \t]*(?:(\d+)\.[ \t]+\*\*(.+?)\*\*|\*\*(\d+)\.[ \t]*(.+?)\*\*)", re.M)
_CALL = re.compile(r"""\b(check|reveal)\(\s*["']([0-9]{2}-[a-z0-9-]+)["']""")
_CARD_REF = re.compile(r"`([a-z0-9]+(?:-[a-z0-9]+)+)`")
_EXERCISES_HEADING = re.compile(r"^#+ .*Exercises", re.M)


@dataclasses.dataclass
class NotebookExercise:
    """One exercise as the notebook states it, and what (if anything) answers it back."""

    label: str  # "4", or "8b" for a lettered part
    title: str
    text: str
    cards: tuple[str, ...]  # card IDs it cites
    cell: int  # index of its markdown cell
    calls: tuple[str, ...]  # exercise IDs that the next code cell checks or reveals
    answered_by: str | None = None  # the YAML exercise that answers it back
    problem: str = ""  # why nothing does

    @property
    def name(self) -> str:
        return f"#{self.label} {self.title}"


def _source(cell) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def _split_items(text: str) -> list[tuple[str, str, str]]:
    """(label, title, text) for each numbered item of a markdown cell, lettered parts split out."""
    matches = list(_ITEM.finditer(text))
    items = []
    for k, m in enumerate(matches):
        body = text[m.start():matches[k + 1].start() if k + 1 < len(matches) else len(text)]
        body = re.split(r"^\*\*Flashcards\.\*\*", body, flags=re.M)[0]
        number, title = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        title = title.strip().rstrip(".")
        starts, letter = [], "a"
        for part in re.finditer(r"\(([a-h])\)\s", body):
            if part.group(1) == letter:
                starts.append((letter, part.start()))
                letter = chr(ord(letter) + 1)
        if len(starts) < 2:
            items.append((number, title, body.strip()))
            continue
        for j, (letter, start) in enumerate(starts):
            end = starts[j + 1][1] if j + 1 < len(starts) else len(body)
            items.append((f"{number}{letter}", f"{title} ({letter})", body[start:end].strip()))
    return items


def _match(exercises: list[NotebookExercise], candidates: dict[str, set[str]]) -> None:
    """Give each exercise a distinct call that shares a card with it (maximum bipartite matching;
    each exercise tries first the calls whose cards match its own best, then the earlier call)."""
    owner: dict[str, int] = {}
    order = {call: k for k, call in enumerate(candidates)}

    def preference(i: int) -> list[str]:
        mine = set(exercises[i].cards)
        shared = [c for c in candidates if candidates[c] & mine]
        return sorted(shared, key=lambda c: (-len(candidates[c] & mine) / len(candidates[c] | mine), order[c]))

    def assign(i: int, seen: set[str]) -> bool:
        calls = preference(i)
        for call in [c for c in calls if c not in owner] + [c for c in calls if c in owner]:  # free calls first
            if call in seen:
                continue
            seen.add(call)
            if call not in owner or assign(owner[call], seen):
                owner[call] = i
                return True
        return False

    for i in range(len(exercises)):
        assign(i, set())
    for call, i in owner.items():
        exercises[i].answered_by = call


def notebook_exercises(path: str | Path, folder: str | Path | None = None) -> list[NotebookExercise]:
    """Every exercise of the notebook's Exercises section, each with ``answered_by`` set to the
    YAML exercise whose checker or model answer answers it back, or with ``problem`` saying why
    none does (see the rule above)."""
    path = Path(path)
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    lessons = _deck(folder)
    lesson = lessons.get(path.stem)
    yaml_exercises = {e.id: e for e in lesson.exercises} if lesson else {}
    all_cards = {c.id for les in lessons.values() for c in les.cards}
    starts = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and _EXERCISES_HEADING.search(_source(c))]
    if not starts:
        return []
    found = []
    for i in range(starts[-1], len(cells)):
        if cells[i]["cell_type"] != "markdown":
            continue
        items = _split_items(_source(cells[i]))
        if not items:
            continue
        nxt = cells[i + 1] if i + 1 < len(cells) else None
        calls = tuple(m.group(2) for m in _CALL.finditer(_source(nxt))) if nxt and nxt["cell_type"] == "code" else ()
        here = [NotebookExercise(label, title, text,
                                 tuple(dict.fromkeys(c for c in _CARD_REF.findall(text) if c in all_cards)), i, calls)
                for label, title, text in items]
        candidates = {call: set(yaml_exercises[call].cards) for call in calls
                      if call in yaml_exercises and yaml_exercises[call].answers_back}
        _match(here, candidates)
        for ex in here:
            if ex.answered_by:
                continue
            if not ex.cards:
                ex.problem = "cites no flashcard (write its card IDs as `card-id`)"
            elif nxt is None or nxt["cell_type"] != "code":
                ex.problem = "no code cell right after it"
            elif not calls:
                ex.problem = "the code cell after it calls neither check(...) nor reveal(...)"
            else:
                unknown = [c for c in calls if c not in yaml_exercises]
                silent = [c for c in calls if c in yaml_exercises and not yaml_exercises[c].answers_back]
                ex.problem = ("no check/reveal call left in the next cell for an exercise sharing its cards"
                              + (f"; unknown IDs {unknown}" if unknown else "")
                              + (f"; {silent} have neither an answer nor a model_answer" if silent else ""))
        found += here
    return found


def exercises_without_feedback(path: str | Path, folder: str | Path | None = None) -> list[NotebookExercise]:
    """The notebook's exercises that nothing answers back: no checker and no model answer."""
    return [e for e in notebook_exercises(path, folder) if not e.answered_by]


# ---------------------------------------------------------------------------------------------
# Quiz.

def quiz_text(lesson: str, folder: str | Path | None = None) -> str:
    """The lesson's cards as plain text: all questions first, then the answers (self-test)."""
    deck = _lesson(lesson, folder)
    lines = [f"Flashcards for {deck.name}: {len(deck.cards)} cards. Answer each question, then read on.", ""]
    for i, card in enumerate(deck.cards, 1):
        lines.append(f"Q{i} [{card.id}] {card.question}")
    lines += ["", "Answers:"]
    for i, card in enumerate(deck.cards, 1):
        lines.append(f"A{i} [{card.id}] {card.answer}  (section: {card.section})")
    return "\n".join(lines)


def _lesson(lesson: str, folder) -> Lesson:
    lessons = _deck(folder)
    if lesson not in lessons:
        raise KeyError(f"no flashcards for lesson {lesson!r}; lessons with cards: {list(lessons)}. "
                       "Use the notebook's file stem, e.g. '01_dcgan_mnist'.")
    return lessons[lesson]


def _interactive() -> bool:
    """True in a Jupyter kernel with ipywidgets, unless ``GAN_COURSE_QUIZ=text``.

    A kernel cannot tell a browser from ``nbconvert``/``nbval``; both are served, and the widget
    output carries the text version as its plain-text fallback, which is what a
    non-interactive run (or an exported notebook) shows.
    """
    mode = os.environ.get(QUIZ_MODE_VAR, "").strip().lower()
    if mode in ("text", "widgets"):
        return mode == "widgets"
    if mode:
        raise ValueError(f"{QUIZ_MODE_VAR}={mode!r}: use 'text' or 'widgets' (or leave it unset).")
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is None or not hasattr(shell, "kernel"):
            return False
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def _quiz_widget(deck: Lesson):
    import html

    import ipywidgets as w

    state = {"i": 0, "known": [], "again": []}
    counter = w.HTML()
    question = w.HTML()
    answer = w.HTML()
    show = w.Button(description="Show answer", button_style="info")
    knew = w.Button(description="I knew it", button_style="success", disabled=True)
    again = w.Button(description="Not yet", button_style="warning", disabled=True)
    restart = w.Button(description="Start again", layout=w.Layout(display="none"))

    def render():
        i = state["i"]
        if i >= len(deck.cards):
            review = ", ".join(state["again"]) or "none"
            counter.value = f"<b>Done:</b> {len(state['known'])} of {len(deck.cards)} known."
            question.value = f"Cards to review (and their notebook sections): {html.escape(review)}"
            answer.value = ""
            for b in (show, knew, again):
                b.layout.display = "none"
            restart.layout.display = None
            return
        card = deck.cards[i]
        counter.value = f"Card {i + 1} of {len(deck.cards)} · <code>{card.id}</code> · section “{html.escape(card.section)}”"
        question.value = f"<b>{html.escape(card.question)}</b>"
        answer.value = ""
        show.disabled, knew.disabled, again.disabled = False, True, True

    def on_show(_):
        card = deck.cards[state["i"]]
        answer.value = html.escape(card.answer).replace("\n", "<br>")
        show.disabled, knew.disabled, again.disabled = True, False, False

    def on_grade(known):
        def handler(_):
            state["known" if known else "again"].append(deck.cards[state["i"]].id)
            state["i"] += 1
            render()
        return handler

    def on_restart(_):
        state.update(i=0, known=[], again=[])
        for b in (show, knew, again):
            b.layout.display = None
        restart.layout.display = "none"
        render()

    show.on_click(on_show)
    knew.on_click(on_grade(True))
    again.on_click(on_grade(False))
    restart.on_click(on_restart)
    render()
    return w.VBox([counter, question, answer, w.HBox([show, knew, again, restart])])


class _QuizDisplay:
    """Shows the widget where a front end can, and the text version everywhere else."""

    def __init__(self, widget, text: str):
        self.widget, self.text = widget, text

    def _repr_mimebundle_(self, **kwargs):
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = self.text
        return bundle


def quiz(lesson: str, *, folder: str | Path | None = None):
    """Quiz yourself on a lesson's flashcards.

    In JupyterLab: one card at a time, "Show answer", then "I knew it" / "Not yet"; at the end,
    the cards to review. Elsewhere (plain Python, ``nbconvert``, ``nbval``, or with
    ``GAN_COURSE_QUIZ=text``): prints every question, then every answer. Returns ``None``.
    """
    deck = _lesson(lesson, folder)
    text = quiz_text(lesson, folder)
    if not _interactive():
        print(text)
        return None
    from IPython.display import display

    display(_QuizDisplay(_quiz_widget(deck), text))
    return None
