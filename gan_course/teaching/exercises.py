"""Exercises and quizzes inside the notebooks, driven by the flashcard files.

``check(exercise_id, answer)`` grades a student's answer to a checkable exercise of
``gan_course/teaching/cards/NN_name.yaml``: it prints "Right" or a hint that points at the flashcard to review,
and returns ``True``/``False``. With ``answer=None`` it only prints the exercise, so a notebook
whose answer cells are still blank runs from top to bottom (and passes the tests).

``quiz(lesson)`` goes through a lesson's flashcards: an ipywidgets quiz in JupyterLab, plain text
(questions, then answers) in a non-interactive run such as ``nbconvert`` or ``nbval``.
"""

from __future__ import annotations

import math
import numbers
import os
import re
from pathlib import Path

from gan_course.teaching.flashcards import Card, Exercise, Lesson, load_deck

__all__ = ["check", "find_exercise", "is_right", "quiz", "quiz_text", "QUIZ_MODE_VAR"]

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


def check(exercise_id: str, answer=None, *, folder: str | Path | None = None) -> bool:
    """Grade ``answer`` for exercise ``exercise_id`` and print feedback.

    Prints "Right" (and returns ``True``), or a hint with the flashcards to review (and returns
    ``False``). ``answer=None`` prints the exercise and what kind of answer it expects, and
    returns ``False`` without grading, so an unanswered exercise cell never stops a notebook.
    """
    exercise, cards = find_exercise(exercise_id, folder)
    if answer is None:
        expects = _kind(exercise.answer) if exercise.checkable else "no fixed answer (an open exercise)"
        print(f"Exercise {exercise.id}: {exercise.prompt}\n"
              f"  Expects {expects}. Set your answer above and run this cell again.\n"
              f"  Cards: {', '.join(exercise.cards)}")
        return False
    if not exercise.checkable:
        raise ValueError(f"exercise {exercise.id!r} is open (no `answer` in gan_course/teaching/cards/{exercise.lesson}.yaml), "
                         "so check() cannot grade it; compare your reasoning with the cards "
                         f"{', '.join(exercise.cards)}.")
    if is_right(exercise, answer):
        print(f"Right! ({exercise.id})")
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
