"""Run checkers of experiment exercises (issue 39): each tested both ways at the cpu preset, and at smoke.

A passing run is made from the record itself (a row like the measured seeds' mean), a failing one from
the same row with a score far outside (ten times the worst measured seed), so the tests follow the
record instead of typing its numbers. The presets are built explicitly (``PRESETS["cpu"]``, ``capped``).
"""

import json
import statistics

import pytest

from gan_course import presets
from gan_course.teaching import exercises as ex
from gan_course.teaching import run_checks as rc
from gan_course.teaching.flashcards import DeckError, load_deck

CPU = presets.PRESETS["cpu"]
SMOKE = presets.PRESETS["smoke"]
CAPPED = presets.capped(CPU, 1)


def _like(rows, **score):
    """One student row: the first measured row's settings, its FID the measured mean (or ``score``)."""
    row = dict(rows[0], fid=statistics.fmean(r["fid"] for r in rows))
    row.update(score)
    return row


def _exercise_rows(**settings):
    return rc._pick(rc.load_record("lesson05_exercises"), **settings)


def _equal_steps_rows():
    steps = rc._pick(rc.load_record("lesson05_sweep"), factor="baseline")[0]["steps"]
    return [rows for rows in (_exercise_rows(batch_size=16, steps=steps), _exercise_rows(batch_size=256, steps=steps))]


def _interaction_rows():
    return _exercise_rows(batch_size=256, g_learning_rate=8e-4, d_learning_rate=8e-4)


# --------------------------------------------------------------------------- the parts

def test_seed_range_widens_min_max_by_the_spread_or_the_slack():
    low, high = rc.seed_range([100, 130, 160])  # std 30 > 10% of 130
    assert (low, high) == pytest.approx((70, 190))
    low, high = rc.seed_range([100, 100, 100])  # no spread: SLACK of the mean
    assert (low, high) == pytest.approx((100 - 100 * rc.SLACK, 100 + 100 * rc.SLACK))


def test_as_rows_reads_a_list_a_dataframe_a_row_and_a_results_file(tmp_path):
    pd = pytest.importorskip("pandas")
    rows = [{"name": "a", "fid": 1.0}, {"name": "b", "fid": 2.0}]
    path = tmp_path / "results_cpu.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert rc.as_rows(rows) == rc.as_rows(pd.DataFrame(rows)) == rc.as_rows(path) == rc.as_rows(str(path)) == rows
    assert rc.as_rows(rows[0]) == rc.as_rows(pd.DataFrame(rows).iloc[0]) == rows[:1]


def test_every_record_has_its_provenance_and_every_checker_a_yaml_exercise():
    for name in rc.RECORDS:
        assert rc.load_record(name), name
        line = rc.provenance(name)
        assert "cpu preset" in line and "commit" in line and "?" not in line, line
    named = {e.run_check for lesson in load_deck().values() for e in lesson.exercises if e.run_check}
    assert named == set(rc.CHECKERS)


# --------------------------------------------------------------------------- each checker, both ways

def test_equal_steps_passes_a_run_like_the_measured_seeds_and_fails_one_far_off(capsys):
    small, big = _equal_steps_rows()
    assert len(small) >= 3 and len(big) >= 3, "the record has 3 seeds of each"
    good = [_like(small), _like(big)]
    assert ex.check("05-equal-steps", good, preset=CPU) is True
    out = capsys.readouterr().out
    assert "as expected" in out and "lesson05_exercises.jsonl" in out and "commit" in out and "section" in out
    bad = [_like(small), _like(big, fid=10 * max(r["fid"] for r in big))]
    assert ex.check("05-equal-steps", bad, preset=CPU) is False
    out = capsys.readouterr().out
    assert "OUTSIDE the expected range" in out and "reveal('05-equal-steps')" in out


def test_equal_steps_says_which_trial_is_missing(capsys):
    assert ex.check("05-equal-steps", [{"batch_size": 64, "steps": 620, "fid": 100.0}], preset=CPU) is False
    assert "No trial of batch 16" in capsys.readouterr().out


def test_interaction_passes_a_run_like_the_measured_seeds_and_fails_one_far_off(capsys):
    mine = _interaction_rows()
    assert len(mine) >= 3
    assert ex.check("05-interaction", [_like(mine)], preset=CPU) is True
    out = capsys.readouterr().out
    assert "as expected" in out and "divides the FID by" in out
    assert ex.check("05-interaction", [_like(mine, fid=10 * max(r["fid"] for r in mine))], preset=CPU) is False
    assert "OUTSIDE" in capsys.readouterr().out


def _more_seeds(offset=0.0, scale=1.0):
    """The record's rows plus two new seeds per row, at each row's mean (times ``scale``)."""
    rows = []
    for record in ("lesson07_ablation_mnist", "lesson07_ablation_bricks"):
        measured = rc.load_record(record)
        rows += measured
        for name in dict.fromkeys(r["name"] for r in measured):
            mine = [r for r in measured if r["name"] == name]
            rows += [dict(_like(mine), seed=s, fid=scale * _like(mine)["fid"] + offset) for s in (3, 4)]
    return rows


def test_more_seeds_passes_new_seeds_in_range_and_fails_one_far_off(capsys):
    assert ex.check("07-more-seeds", _more_seeds(), preset=CPU) is True
    out = capsys.readouterr().out
    assert "mnist" in out and "lego" in out and "still over yours" in out and "OUTSIDE" not in out
    assert ex.check("07-more-seeds", _more_seeds(scale=10), preset=CPU) is False
    assert "OUTSIDE" in capsys.readouterr().out


def test_more_seeds_without_new_seeds_says_to_add_them(capsys):
    assert ex.check("07-more-seeds", rc.load_record("lesson07_ablation_mnist"), preset=CPU) is False
    assert "add two seeds" in capsys.readouterr().out


# --------------------------------------------------------------------------- smoke, the step cap, a blank answer

@pytest.mark.parametrize("exercise_id, rows", [
    ("05-equal-steps", lambda: [_like(r) for r in _equal_steps_rows()]),
    ("05-interaction", lambda: [_like(_interaction_rows(), fid=1e6)]),
    ("07-more-seeds", lambda: _more_seeds(scale=10)),
])
@pytest.mark.parametrize("preset", [SMOKE, CAPPED], ids=["smoke", "step-cap"])
def test_at_smoke_or_under_the_step_cap_a_run_gets_no_verdict(exercise_id, rows, preset, capsys):
    assert ex.check(exercise_id, rows(), preset=preset) is None
    out = capsys.readouterr().out
    assert "ran; at" in out and "the numbers mean nothing" in out
    assert "as expected" not in out and "OUTSIDE" not in out


@pytest.mark.parametrize("exercise_id", sorted({e.id for lesson in load_deck().values()
                                                for e in lesson.exercises if e.run_check}))
def test_a_blank_answer_prints_the_task_and_how_to_pass_the_run(exercise_id, capsys):
    assert ex.check(exercise_id, None) is False
    out = capsys.readouterr().out
    argument, what = rc.answer_help(ex.find_exercise(exercise_id)[0].run_check)
    assert "an experiment" in out and f"check({exercise_id!r}, {argument})" in out and what in out


def test_the_deck_rejects_an_unknown_run_check(tmp_path):
    import yaml

    cards = [{"id": f"toy-card-{i}", "question": "q", "answer": "a", "tags": ["t"], "section": "S"} for i in range(8)]
    exercise = {"id": "01-run", "prompt": "p", "cards": ["toy-card-0"], "minutes": 3, "run_check": "no-such-checker"}
    (tmp_path / "01_toy.yaml").write_text(yaml.safe_dump({"lesson": "01_toy", "cards": cards, "exercises": [exercise]}))
    with pytest.raises(DeckError, match="run_check 'no-such-checker' must name one of"):
        load_deck(tmp_path)
