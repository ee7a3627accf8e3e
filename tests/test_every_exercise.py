"""Every exercise of every lesson answers back (issue 39): a checker or a model answer to reveal.

The listing follows ``gan_course.teaching.exercises.notebook_exercises``: each numbered item of a
notebook's Exercises section ("1. **Title** ..." or "**1. Title.** ..."), and each lettered part
"(a)", "(b)", ... of an item, is one exercise. It answers back when the code cell right after its
markdown cell calls ``check("NN-id", ...)`` or ``reveal("NN-id")`` for an exercise of the lesson's
YAML that has an ``answer`` (a checker), a ``run_check`` (an experiment's checker, which reads the
student's run: ``gan_course.teaching.run_checks``) or a ``model_answer``, and that shares a card with it.
"""

import json
import re
from pathlib import Path

import pytest
import yaml

from gan_course.teaching import exercises as ex
from gan_course.teaching.flashcards import load_deck

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
DECK = load_deck(ROOT / "gan_course" / "teaching" / "cards")
EXERCISES = [e for lesson in DECK.values() for e in lesson.exercises]
RERUN_MINUTES = 5  # an exercise expected to take this long or more needs a rerun: its markdown says so


# --------------------------------------------------------------------------- the committed course

def test_every_exercise_in_every_lesson_answers_back():
    listed, silent = 0, []
    for notebook in NOTEBOOKS:
        found = ex.notebook_exercises(notebook)
        assert found, f"{notebook.name}: no exercises found in its Exercises section"
        listed += len(found)
        silent += [f"{notebook.stem[:2]} {e.name}: {e.problem}" for e in found if not e.answered_by]
    print(f"{listed} exercises in {len(NOTEBOOKS)} lessons; {len(silent)} without a checker or a model answer")
    assert not silent, (f"{len(silent)} of {listed} exercises have neither a checker nor a model answer:\n"
                        + "\n".join(silent))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_yaml_exercise_is_asked_in_its_notebook(notebook):
    """No YAML exercise is orphaned: each answers an exercise of the notebook (one call, one exercise)."""
    used = [e.answered_by for e in ex.notebook_exercises(notebook) if e.answered_by]
    missing = sorted({e.id for e in DECK[notebook.stem].exercises} - set(used))
    code = "\n".join("".join(c["source"]) for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code")
    # a second check of the same item (lesson 01's item 1 checks two numbers) counts as asked
    missing = [m for m in missing if not re.search(rf"""check\(\s*["']{m}["']""", code)]
    assert not missing, f"{notebook.name}: YAML exercises no exercise of the notebook asks for: {missing}"


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.id for e in EXERCISES])
def test_every_exercise_names_cards_and_its_time_at_cpu(exercise):
    assert exercise.cards
    assert exercise.minutes is not None, (f"{exercise.id}: give `minutes:` (the expected time at the cpu preset, "
                                          "reruns included) in its YAML entry")
    assert exercise.answers_back, f"{exercise.id}: neither an `answer`, a `run_check` nor a `model_answer`"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_an_experiment_exercise_answers_back_with_a_run_checker_or_a_model_answer(notebook):
    """An exercise that needs a rerun (YAML `minutes` of RERUN_MINUTES or more) has no single typed answer:
    it counts only with a run checker (`run_check`, its check reads the student's run) or a model answer;
    and a run checker is used: the notebook calls check(id, ...) for it, not reveal(id)."""
    exercises = {e.id: e for e in DECK[notebook.stem].exercises}
    code = "\n".join("".join(c["source"]) for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code")
    wrong = []
    for item in ex.notebook_exercises(notebook):
        yaml_ex = exercises.get(item.answered_by)
        if yaml_ex is None:
            continue
        if (yaml_ex.minutes or 0) >= RERUN_MINUTES and not (yaml_ex.run_check or yaml_ex.revealable):
            wrong.append(f"{item.name} ({yaml_ex.id}): a rerun answered by a typed answer only; give it a "
                         "`run_check` or a `model_answer`")
        if yaml_ex.run_check and not re.search(rf"""\bcheck\(\s*["']{yaml_ex.id}["']""", code):
            wrong.append(f"{item.name} ({yaml_ex.id}): has a run checker; call check({yaml_ex.id!r}, rows), not reveal")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_rerun_exercises_say_their_time_in_the_notebook(notebook):
    """An exercise that needs a rerun says "(about N min at cpu)" with its YAML `minutes`."""
    exercises = {e.id: e for e in DECK[notebook.stem].exercises}
    wrong = []
    for item in ex.notebook_exercises(notebook):
        yaml_ex = exercises.get(item.answered_by)
        if yaml_ex is None or yaml_ex.minutes is None:
            continue
        said = re.findall(r"\(about\s+(\d+(?:\.\d+)?)\s+min\s+at\s+cpu\)", item.text)
        if yaml_ex.minutes >= RERUN_MINUTES and not said:
            wrong.append(f"{item.name} ({yaml_ex.id}): add '(about {yaml_ex.minutes:g} min at cpu)'")
        elif said and float(said[0]) != yaml_ex.minutes:
            wrong.append(f"{item.name} ({yaml_ex.id}): says {said[0]} min, the YAML {yaml_ex.minutes:g}")
    assert not wrong, "\n".join(wrong)


def _numbers(text):
    return [float(n.replace(",", "")) for n in re.findall(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?:e-?\d+)?", text)]


def _flat(value):
    return [x for v in value for x in _flat(v)] if isinstance(value, list) else [value]


CHECKABLE = [e for e in EXERCISES if e.checkable and e.hint]


@pytest.mark.parametrize("exercise", CHECKABLE, ids=[e.id for e in CHECKABLE])
def test_no_hint_gives_the_answer_or_does_the_arithmetic(exercise):
    hint = exercise.hint
    given = _numbers(exercise.prompt)  # numbers the prompt states may be repeated
    for answer in _flat(exercise.answer) + [a for acc in exercise.accept for a in _flat(acc)]:
        if isinstance(answer, (int, float)):
            near = lambda n: abs(abs(n) - abs(answer)) <= max(exercise.tolerance, 1e-9 + 1e-3 * abs(answer))  # noqa: E731
            close = [n for n in _numbers(hint) if near(n) and not any(near(g) for g in given)]
            assert not close, f"{exercise.id}: the hint {hint!r} contains the answer {answer}"
        else:
            named = re.search(rf"(?<!\w){re.escape(str(answer))}(?!\w)", hint, re.I)
            assert not named, f"{exercise.id}: the hint {hint!r} names the answer {answer!r}"
    arithmetic = re.search(r"\d\)?\s*(?:[-+*/×^]|\*\*)\s*\(?\s*-?\d", hint)
    assert not arithmetic, (f"{exercise.id}: the hint does the arithmetic ({arithmetic.group(0)!r} in {hint!r}); "
                            "lead to the idea, let the student compute")


# --------------------------------------------------------------------------- the rule, both ways, on a toy lesson

def _toy_course(tmp_path, exercise_cell_sources, exercises):
    cards = [{"id": f"toy-card-{i}", "question": "q", "answer": "a", "tags": ["t"], "section": "Exercises"}
             for i in range(8)]
    folder = tmp_path / "cards"
    folder.mkdir()
    (folder / "01_toy.yaml").write_text(yaml.safe_dump({"lesson": "01_toy", "cards": cards, "exercises": exercises}))
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# Toy\n\n## 1. Part"},
             {"cell_type": "markdown", "metadata": {}, "source": "## Exercises"}]
    for kind, source in exercise_cell_sources:
        cell = {"cell_type": kind, "metadata": {}, "source": source}
        if kind == "code":
            cell.update(outputs=[], execution_count=None)
        cells.append(cell)
    notebook = tmp_path / "01_toy.ipynb"
    notebook.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return notebook, folder


OPEN = {"id": "01-rerun", "prompt": "Rerun it at twice the rate. What changes?", "cards": ["toy-card-1"],
        "model_answer": "The losses oscillate: SECRET-MODEL-ANSWER.", "minutes": 6}
CHECKED = {"id": "01-sum", "prompt": "What is 2 plus 2?", "cards": ["toy-card-0"], "answer": 4, "minutes": 1}


def test_a_revealable_open_exercise_and_a_checked_one_pass_the_listing(tmp_path):
    notebook, folder = _toy_course(tmp_path, [
        ("markdown", "**1. A sum.** What is 2 plus 2? Cards: `toy-card-0`."),
        ("code", 'check("01-sum", None)'),
        ("markdown", "**2. A rerun.** Rerun it (about 6 min at cpu). Cards: `toy-card-1`."),
        ("code", 'reveal("01-rerun")'),
    ], [CHECKED, OPEN])
    found = ex.notebook_exercises(notebook, folder)
    assert [(e.label, e.answered_by) for e in found] == [("1", "01-sum"), ("2", "01-rerun")]
    assert ex.exercises_without_feedback(notebook, folder) == []


def test_a_bare_open_exercise_fails_the_listing(tmp_path):
    bare = {k: v for k, v in OPEN.items() if k != "model_answer"}
    notebook, folder = _toy_course(tmp_path, [
        ("markdown", "1. **A rerun** (card `toy-card-1`). Rerun it.\n2. **Another** (card `toy-card-1`). Try it."),
        ("code", 'reveal("01-rerun")'),
    ], [bare])
    silent = ex.exercises_without_feedback(notebook, folder)
    assert [e.label for e in silent] == ["1", "2"]
    assert "neither an answer nor a model_answer" in silent[0].problem


def test_lettered_parts_are_exercises_and_each_needs_its_own_call(tmp_path):
    notebook, folder = _toy_course(tmp_path, [
        ("markdown", "**3. Open questions.** (a) Rerun it. (Cards: `toy-card-1`.) (b) Rerun it again. "
                     "(Cards: `toy-card-1`.) (c) Think. (Cards: `toy-card-2`.)"),
        ("code", 'reveal("01-rerun")'),
    ], [OPEN])
    found = ex.notebook_exercises(notebook, folder)
    assert [e.label for e in found] == ["3a", "3b", "3c"]
    assert [e.label for e in found if not e.answered_by] == ["3b", "3c"]  # one call answers one part


def test_an_exercise_without_a_code_cell_or_cards_fails(tmp_path):
    notebook, folder = _toy_course(tmp_path, [
        ("markdown", "**1. Alone.** No cell follows. Cards: `toy-card-1`."),
        ("markdown", "**2. Uncited.** Rerun it."),
        ("code", 'reveal("01-rerun")'),
    ], [OPEN])
    problems = {e.label: e.problem for e in ex.exercises_without_feedback(notebook, folder)}
    assert "no code cell" in problems["1"] and "cites no flashcard" in problems["2"]


# --------------------------------------------------------------------------- reveal

@pytest.fixture
def toy_folder(tmp_path):
    return _toy_course(tmp_path, [], [CHECKED, OPEN])[1]


def test_reveal_in_text_mode_prints_the_task_and_how_to_reveal_but_not_the_answer(toy_folder, capsys, monkeypatch):
    monkeypatch.setenv(ex.QUIZ_MODE_VAR, "text")
    assert ex.reveal("01-rerun", folder=toy_folder) is None
    out = capsys.readouterr().out
    assert OPEN["prompt"] in out and "about 6 min at the cpu preset" in out and "toy-card-1" in out
    assert "SECRET-MODEL-ANSWER" not in out
    assert 'reveal(\'01-rerun\', show=True)' in out and ex.REVEAL_BUTTON in out
    assert ex.check("01-rerun", folder=toy_folder) is False  # check() of an open exercise is reveal()
    out = capsys.readouterr().out
    assert OPEN["prompt"] in out and "SECRET-MODEL-ANSWER" not in out


def test_reveal_show_prints_the_model_answer(toy_folder, capsys):
    ex.reveal("01-rerun", show=True, folder=toy_folder)
    assert "SECRET-MODEL-ANSWER" in capsys.readouterr().out


def test_reveal_unknown_id_lists_the_lessons_exercises(toy_folder):
    with pytest.raises(KeyError, match=r"no exercise '01-nope'.*01-sum.*01-rerun"):
        ex.reveal("01-nope", folder=toy_folder)


def test_reveal_of_a_checked_exercise_points_to_check_and_check_of_an_open_one_to_reveal(toy_folder):
    with pytest.raises(ValueError, match=r"check\('01-sum', your_answer\)"):
        ex.reveal("01-sum", folder=toy_folder)
    with pytest.raises(ValueError, match=r"reveal\('01-rerun'\)"):
        ex.check("01-rerun", "my essay", folder=toy_folder)


def test_check_without_an_answer_shows_the_time(toy_folder, capsys):
    ex.check("01-sum", folder=toy_folder)
    assert "about 1 min at the cpu preset" in capsys.readouterr().out


def test_reveal_widget_shows_the_answer_only_after_the_click(toy_folder):
    pytest.importorskip("ipywidgets")
    exercise, _ = ex.find_exercise("01-rerun", toy_folder)
    text = ex._reveal_text(exercise)
    box = ex._reveal_widget(exercise, text)
    header, button, answer = box.children
    assert "SECRET-MODEL-ANSWER" not in header.value + answer.value
    button.click()
    assert "SECRET-MODEL-ANSWER" in answer.value and button.disabled
    bundle = ex._QuizDisplay(box, text)._repr_mimebundle_()
    assert "SECRET-MODEL-ANSWER" not in bundle["text/plain"]


def test_reveal_in_widget_mode_displays_the_widget(toy_folder, monkeypatch):
    pytest.importorskip("ipywidgets")
    shown = []
    monkeypatch.setenv(ex.QUIZ_MODE_VAR, "widgets")
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    ex.reveal("01-rerun", folder=toy_folder)
    assert len(shown) == 1 and "SECRET-MODEL-ANSWER" not in shown[0].text
