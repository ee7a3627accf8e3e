"""Lesson 00's run checkers (issue 39): its toy experiments checked against the course's runs over seeds.

Exercises 4 (minimax loss from a far start), 5 (section 6 at other seeds) and 6 (LSGAN) each read
what the student's run left (section 5's ``snapshots`` and last losses; section 6's ``ring_cov`` and
``reach``) and compare it with ``results/cpu/lesson00_exercises.jsonl``. As in
``tests/test_run_checks.py`` a passing run is made from the record itself (the measured seeds' mean)
and a failing one from a run the exercise would not give (a stalled generator, the wrong loss, a
generator that never collapsed), so no test types the record's numbers and none trains a network.
"""

import statistics

import numpy as np
import pytest

from gan_course import presets
from gan_course.teaching import exercises as ex
from gan_course.teaching import run_checks as rc
from gan_course.teaching.flashcards import load_deck

CPU = presets.PRESETS["cpu"]
SMOKE = presets.PRESETS["smoke"]
CAPPED = presets.capped(CPU, 1)
DECK = load_deck()


@pytest.fixture(autouse=True)
def _deck_read_once(monkeypatch):
    """check() reads every YAML file each call (about 0.3 s); these tests read them once."""
    monkeypatch.setattr(ex, "_deck", lambda folder=None: DECK)


def _measured(exercise, name):
    return rc._pick(rc.load_record("lesson00_exercises"), exercise=exercise, name=name)


def _one_d(name, **change):
    """A 1-D run like the mean of the record's seeds of ``name``: means and spreads at every snapshot
    round and the last losses; ``change`` replaces any of them."""
    rows = _measured("1d", name)
    row = {"moments": rows[0]["moments"],
           "means": [statistics.fmean(r["means"][i] for r in rows) for i in range(len(rows[0]["moments"]))],
           "stds": [statistics.fmean(r["stds"][i] for r in rows) for i in range(len(rows[0]["moments"]))],
           "d_loss": statistics.fmean(r["d_loss"] for r in rows), "g_loss": statistics.fmean(r["g_loss"] for r in rows)}
    row.update(change)
    return row


def _stalled(name):
    """The generator never moved: every snapshot where it started."""
    row = _one_d(name)
    return dict(row, means=[row["means"][0]] * len(row["means"]), stds=[row["stds"][0]] * len(row["stds"]))


def _ring(like=None, seed_label=0):
    """Section 6's four runs, each like the mean of its measured seeds (or all like the run ``like``)."""
    names = list(dict.fromkeys(r["name"] for r in rc.load_record("lesson00_exercises") if r["exercise"] == "ring"))
    rows = []
    for name in names:
        seeds = _measured("ring", like or name)
        rows.append({"name": name, "run": seed_label, "modes": round(statistics.fmean(r["modes"] for r in seeds)),
                     "on_target": statistics.fmean(r["on_target"] for r in seeds),
                     "sectors": round(statistics.fmean(r["sectors"] for r in seeds))})
    return rows


# --------------------------------------------------------------------------- the record

def test_the_record_holds_every_configuration_the_checkers_read_over_several_seeds():
    record = rc.load_record("lesson00_exercises")
    for exercise, name in [("1d", "minimax, +10"), ("1d", "non-saturating, +10"), ("1d", "LSGAN"), ("1d", "non-saturating"),
                           ("ring", "GAN, fast G, batch 64"), ("ring", "GAN, fast G, batch 512"),
                           ("ring", "WGAN-GP, fast G"), ("ring", "GAN, balanced rates")]:
        seeds = {r["seed"] for r in record if r["exercise"] == exercise and r["name"] == name}
        assert len(seeds) >= 5, (exercise, name, seeds)


def test_seed_range_widens_a_count_by_at_least_one():
    assert rc.seed_range([0, 0, 0], unit=1) == (-1, 1)
    assert rc.seed_range([100, 130, 160], unit=1) == pytest.approx((70, 190))  # the spread is larger


# --------------------------------------------------------------------------- what the student's run leaves

def test_the_1d_reader_takes_section_5s_snapshots_and_losses():
    rng = np.random.default_rng(0)
    snapshots = {0: (rng.normal(10, 0.2, 2000), None), 30: (rng.normal(9, 0.5, 2000), None),
                 1500: (rng.normal(4, 1.25, 2000), None)}
    row, = rc.toy_1d_rows(dict(snapshots=snapshots, d_loss=np.float32(1.3), g_loss=-0.7))
    assert row["moments"] == [0, 30, 1500] and row["g_loss"] == pytest.approx(-0.7)
    assert row["means"] == pytest.approx([10, 9, 4], abs=0.1) and row["stds"][-1] == pytest.approx(1.25, abs=0.1)
    row, = rc.toy_1d_rows(snapshots)  # the snapshots alone: no losses
    assert "g_loss" not in row and row["means"][0] == pytest.approx(10, abs=0.1)


def test_the_ring_reader_takes_section_6s_coverage_and_sectors_for_one_seed_or_several():
    cov = {"GAN, fast G, batch 64": {"modes": 1, "good_share": 0.02, "shares": None},
           "GAN, balanced rates": {"modes": 5, "good_share": 0.4, "shares": None}}
    reach = {"GAN, fast G, batch 64": 2, "GAN, balanced rates": 8}
    rows = rc.ring_rows((cov, reach))
    assert [(r["name"], r["modes"], r["on_target"], r["sectors"], r["run"]) for r in rows] == [
        ("GAN, fast G, batch 64", 1, 0.02, 2, 0), ("GAN, balanced rates", 5, 0.4, 8, 0)]
    assert {r["run"] for r in rc.ring_rows([(cov, reach), (cov, reach)])} == {0, 1}


# --------------------------------------------------------------------------- each checker, both ways

def test_minimax_passes_a_run_like_the_measured_seeds(capsys):
    assert ex.check("00-minimax-1d", _one_d("minimax, +10"), preset=CPU) is True
    out = capsys.readouterr().out
    assert "as expected" in out and "OUTSIDE" not in out and "lesson00_exercises.jsonl" in out and "commit" in out
    assert "section" in out and "non-saturating" in out  # the comparison run from the same start


@pytest.mark.parametrize("run, says", [
    (lambda: _stalled("minimax, +10"), "OUTSIDE"),  # G never reached the data
    (lambda: _one_d("non-saturating"), "did not start"),  # no shift
    (lambda: _one_d("minimax, +10", g_loss=_one_d("non-saturating, +10")["g_loss"]), "non-saturating loss"),
])
def test_minimax_fails_a_stalled_run_an_unshifted_one_and_the_lessons_loss(run, says, capsys):
    assert ex.check("00-minimax-1d", run(), preset=CPU) is False
    out = capsys.readouterr().out
    assert says in out and "Hint" in out


def test_lsgan_passes_a_run_like_the_measured_seeds_and_fails_a_runaway_or_bce(capsys):
    assert ex.check("00-lsgan-1d", _one_d("LSGAN"), preset=CPU) is True
    out = capsys.readouterr().out
    assert "as expected" in out and "OUTSIDE" not in out and "section" in out
    runaway = _one_d("LSGAN")
    runaway["means"][-1] = 10 * max(r["mean"] for r in _measured("1d", "LSGAN"))
    assert ex.check("00-lsgan-1d", runaway, preset=CPU) is False
    assert "OUTSIDE" in capsys.readouterr().out
    bce = _one_d("non-saturating")
    assert ex.check("00-lsgan-1d", bce, preset=CPU) is False
    assert "the lesson's BCE" in capsys.readouterr().out


def test_collapse_seeds_passes_runs_like_the_measured_seeds_for_one_seed_or_two(capsys):
    assert ex.check("00-collapse-seeds", _ring(), preset=CPU) is True
    out = capsys.readouterr().out
    assert "as expected" in out and "held in your run" in out and "of the course's" in out and "section 6" in out
    assert ex.check("00-collapse-seeds", _ring() + _ring(seed_label=1), preset=CPU) is True


def test_collapse_seeds_fails_runs_that_never_collapsed(capsys):
    assert ex.check("00-collapse-seeds", _ring(like="GAN, balanced rates"), preset=CPU) is False
    out = capsys.readouterr().out
    assert "OUTSIDE" in out and "did not hold in your run" in out


# --------------------------------------------------------------------------- smoke, the step cap, a blank answer

@pytest.mark.parametrize("exercise_id, run", [
    ("00-minimax-1d", lambda: _stalled("minimax, +10")),
    ("00-lsgan-1d", lambda: _one_d("non-saturating")),
    ("00-collapse-seeds", lambda: _ring(like="GAN, balanced rates")),
])
@pytest.mark.parametrize("preset", [SMOKE, CAPPED], ids=["smoke", "step-cap"])
def test_at_smoke_or_under_the_step_cap_a_toy_run_gets_no_verdict(exercise_id, run, preset, capsys):
    assert ex.check(exercise_id, run(), preset=preset) is None
    out = capsys.readouterr().out
    assert "ran; at" in out and "the numbers mean nothing" in out
    assert "as expected" not in out and "OUTSIDE" not in out
