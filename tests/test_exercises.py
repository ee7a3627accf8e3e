"""Exercise checkers and the flashcard quiz: right answers pass, wrong ones get a hint and a card."""

import json
import re
from pathlib import Path

import pytest

from gan_course.teaching import exercises as ex
from gan_course.teaching.flashcards import Exercise, load_deck

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
DECK = load_deck(ROOT / "gan_course" / "teaching" / "cards")
CHECKABLE = [e for lesson in DECK.values() for e in lesson.exercises if e.checkable]


def _wrong(value):
    """An answer that differs from ``value`` by more than any sensible tolerance."""
    if isinstance(value, list):
        return [_wrong(value[0])] + value[1:]
    if isinstance(value, (int, float)):
        return value + 1000
    return value + " not"


@pytest.mark.parametrize("exercise", CHECKABLE, ids=[e.id for e in CHECKABLE])
def test_check_accepts_the_right_answer(exercise, capsys):
    assert ex.check(exercise.id, exercise.answer) is True
    assert "Right" in capsys.readouterr().out
    for other in exercise.accept:
        assert ex.check(exercise.id, other) is True


@pytest.mark.parametrize("exercise", CHECKABLE, ids=[e.id for e in CHECKABLE])
def test_check_rejects_a_wrong_answer_and_points_to_a_card(exercise, capsys):
    assert ex.check(exercise.id, _wrong(exercise.answer)) is False
    out = capsys.readouterr().out
    assert "Not yet" in out and "Right" not in out
    assert any(f"[{card}]" in out for card in exercise.cards), out
    if exercise.hint:
        assert exercise.hint in out


def test_check_without_an_answer_only_shows_the_exercise(capsys):
    exercise = CHECKABLE[0]
    assert ex.check(exercise.id) is False
    out = capsys.readouterr().out
    assert exercise.prompt in out and "Right" not in out and "Not yet" not in out


def test_unknown_exercise_and_open_exercise_are_clear_errors():
    with pytest.raises(KeyError, match="no exercise '01-nope'"):
        ex.check("01-nope", 1)
    open_ones = [e for lesson in DECK.values() for e in lesson.exercises if not e.checkable and not e.run_check]
    if open_ones:
        with pytest.raises(ValueError, match="open"):
            ex.check(open_ones[0].id, "my essay")


def _exercise(answer, **kw):
    return Exercise(id="99-t", prompt="p", cards=("c",), lesson="99_t", answer=answer, **kw)


@pytest.mark.parametrize("answer, given, right", [
    (4, 4, True), (4, 4.0, True), (4, "4", True), (4, 5, False), (4, "four", False), (4, True, False),
    (0.75, "3/4", True), (0.75, 0.7501, False), (4, None, False),
    ("discriminator", " The Discriminator. ", True), ("discriminator", "generator", False),
    (".weights.h5", "`.weights.h5`", True), (".weights.h5", ".h5", False),
    ([1, 2, 3], [3, 2, 1], True), ([1, 2, 3], (1, 2, 3), True), ([1, 2, 3], [1, 2], False),
    ([1, 2, 3], [1, 2, 2], False), ([1, 2, 3], "123", False), ([1, 1, 2], [1, 2, 2], False),
])
def test_answer_comparison(answer, given, right):
    assert ex.is_right(_exercise(answer), given) is right


def test_tolerance_ordered_lists_accept_and_numpy():
    np = pytest.importorskip("numpy")
    assert ex.is_right(_exercise(0.75, tolerance=0.01), 0.755)
    assert not ex.is_right(_exercise(0.75, tolerance=0.01), 0.77)
    assert ex.is_right(_exercise(4), np.int64(4)) and ex.is_right(_exercise(0.5), np.float32(0.5))
    assert ex.is_right(_exercise([1, 2]), np.array([2, 1]))
    assert not ex.is_right(_exercise([1, 2], ordered=True), [2, 1])
    assert ex.is_right(_exercise("discriminator", accept=("D",)), "d")


# --------------------------------------------------------------------------- notebooks link to the deck

CHECK_CALL = re.compile(r"""check\(\s*["']([0-9]{2}-[a-z0-9-]+)["']""")


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _exercises_section(path):
    """Markdown text from the last heading containing 'Exercises' to the end."""
    texts = ["".join(c["source"]) for c in _cells(path) if c["cell_type"] == "markdown"]
    start = max(i for i, t in enumerate(texts) if re.search(r"^#+ .*Exercises", t, re.M))
    return "\n".join(texts[start:])


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_check_cells_match_the_deck(notebook):
    code = "\n".join("".join(c["source"]) for c in _cells(notebook) if c["cell_type"] == "code")
    called = set(CHECK_CALL.findall(code))
    lesson = DECK.get(notebook.stem)
    assert lesson is not None, f"gan_course/teaching/cards/{notebook.stem}.yaml is missing"
    known = {e.id for e in lesson.exercises}
    assert called <= known, f"{notebook.name} checks exercises not in its YAML: {sorted(called - known)}"
    unchecked = {e.id for e in lesson.exercises if e.checkable} - called
    assert not unchecked, f"{notebook.name}: checkable exercises without a check() cell: {sorted(unchecked)}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_exercises_cite_cards_and_end_with_a_quiz(notebook):
    lesson = DECK.get(notebook.stem)
    assert lesson is not None, f"gan_course/teaching/cards/{notebook.stem}.yaml is missing"
    section = _exercises_section(notebook)
    cited = set(re.findall(r"`([a-z0-9]+(?:-[a-z0-9]+)+)`", section))
    all_cards = {c.id for les in DECK.values() for c in les.cards}
    assert cited & all_cards, f"{notebook.name}: the Exercises section cites no card IDs (write them as `card-id`)"
    assert not {c for c in cited if c in all_cards} - all_cards
    code = [("".join(c["source"])) for c in _cells(notebook) if c["cell_type"] == "code"]
    assert any(re.search(rf"""quiz\(\s*["']{notebook.stem}["']""", s) for s in code), \
        f"{notebook.name} should end with quiz({notebook.stem!r})"


# --------------------------------------------------------------------------- quiz

def test_quiz_prints_text_outside_jupyter(capsys):
    lesson = next(iter(DECK.values()))
    assert ex.quiz(lesson.name) is None
    out = capsys.readouterr().out
    for card in lesson.cards:
        assert card.question in out and card.answer in out
    assert out.index(lesson.cards[-1].question) < out.index(lesson.cards[0].answer), "questions come first"


def test_quiz_mode_variable(monkeypatch):
    monkeypatch.setenv(ex.QUIZ_MODE_VAR, "text")
    assert ex._interactive() is False
    monkeypatch.setenv(ex.QUIZ_MODE_VAR, "widgets")
    assert ex._interactive() is True
    monkeypatch.setenv(ex.QUIZ_MODE_VAR, "slides")
    with pytest.raises(ValueError, match="use 'text' or 'widgets'"):
        ex._interactive()


def test_quiz_unknown_lesson_lists_the_known_ones():
    with pytest.raises(KeyError, match="lessons with cards"):
        ex.quiz("99_nothing")


def test_quiz_widget_walks_through_the_cards():
    pytest.importorskip("ipywidgets")
    lesson = next(iter(DECK.values()))
    box = ex._quiz_widget(lesson)
    counter, question, answer, buttons = box.children
    show, knew, again, restart = buttons.children
    assert lesson.cards[0].id in counter.value and answer.value == ""
    for i, card in enumerate(lesson.cards):
        assert knew.disabled
        show.click()
        assert answer.value and not knew.disabled
        (knew if i % 2 == 0 else again).click()
    assert f"{(len(lesson.cards) + 1) // 2} of {len(lesson.cards)} known" in counter.value
    assert lesson.cards[1].id in question.value  # a "not yet" card is listed for review
    restart.click()
    assert lesson.cards[0].id in counter.value


def test_quiz_display_carries_the_text_fallback():
    pytest.importorskip("ipywidgets")
    lesson = next(iter(DECK.values()))
    shown = ex._QuizDisplay(ex._quiz_widget(lesson), ex.quiz_text(lesson.name))
    bundle = shown._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert lesson.cards[0].question in bundle["text/plain"]
