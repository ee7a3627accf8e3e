"""Run checkers: an experiment exercise's check reads what the student's run produced.

An exercise such as "train batch 256 with both learning rates x4" has no single answer to type in.
Its check takes the rows the student's sweep returned (``experiments.run_sweep``: a list of dicts, a
pandas DataFrame, one row, or the results file it wrote under ``outputs/``), picks the trials the
exercise asked for by their settings, and says whether each landed where the course measured it
would, with the expected range at the cpu preset, where that range comes from and why. Lesson 00's
toy exercises pass what its cells leave instead (section 5's ``snapshots`` and last losses, section
6's ``ring_cov`` and ``reach``); ``READERS`` turns those into rows of the record's form.

**The ranges are not typed.** They come from the course's own runs at the cpu preset over seeds,
kept in ``results/cpu/`` (``RECORDS``; ``results/cpu/records.json`` says which run, preset and
commit wrote each file). A range is the measured seeds' smallest and largest value, widened on each
side by their standard deviation or by ``SLACK`` of their mean, whichever is larger: three seeds
estimate the spread roughly, and a fourth seed lands outside the range of three about half the time.

As in ``gan_course.expectations.expect``: at the smoke preset, or under the step cap
(``GAN_COURSE_STEP_CAP``), a run is seconds long, so a check says "ran; at smoke the numbers mean
nothing" and returns None; at the gpu preset it prints the numbers without a verdict. ``exercises.
check(id, rows)`` calls the checker an exercise names with ``run_check:`` in its YAML entry.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

from gan_course.teaching.results import RESULTS

__all__ = ["RECORDS", "CHECKERS", "READERS", "SLACK", "load_record", "provenance", "seed_range", "as_rows",
           "toy_1d_rows", "ring_rows", "answer_help", "run_check"]

CPU = RESULTS / "cpu"
RECORDS = {  # record name -> its file: one JSON row a trial, as experiments.run_sweep writes them
    "lesson05_sweep": CPU / "lesson05_sweep.jsonl",  # lesson 05's sweep (section 4), 3 seeds of the baseline
    "lesson05_exercises": CPU / "lesson05_exercises.jsonl",  # its exercises' trials (teaching/exercise_runs.py)
    "lesson00_exercises": CPU / "lesson00_exercises.jsonl",  # lesson 00's toys, 10 seeds (teaching/exercise_runs.py)
    "lesson07_ablation_mnist": CPU / "lesson07_ablation_mnist.jsonl",  # lesson 07's ablation (section 7), 3 seeds
    "lesson07_ablation_bricks": CPU / "lesson07_ablation_bricks.jsonl",  # and on the bricks (section 8)
}
SLACK = 0.10  # least widening of a range, as a share of the measured mean


def load_record(name: str) -> list[dict]:
    """The rows of record ``name`` (a key of ``RECORDS``)."""
    path = RECORDS[name]
    if not path.is_file():
        raise FileNotFoundError(f"No record {path}: it comes with the course (results/cpu/); see records.json there.")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def provenance(name: str) -> str:
    """Where record ``name`` came from, in one line: its file, preset, commit and date."""
    info = json.loads((CPU / "records.json").read_text()).get(RECORDS[name].name, {})
    return (f"results/cpu/{RECORDS[name].name} ({info.get('what', 'the course run')}, "
            f"{info.get('preset', '?')} preset, commit {info.get('commit', '?')}, {info.get('recorded', '?')})")


def seed_range(values, unit: float = 0.0) -> tuple[float, float]:
    """The range a new seed should land in: [min, max] of the measured seeds, widened on each side
    by their standard deviation or by SLACK of their mean, whichever is larger; at least by ``unit``
    (a count, such as modes covered, moves by whole ones: ``unit=1``)."""
    values = [float(v) for v in values]
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    widen = max(spread, SLACK * abs(statistics.fmean(values)), unit)
    return min(values) - widen, max(values) + widen


def as_rows(answer) -> list[dict]:
    """The student's run as a list of row dicts: from run_sweep's list, a DataFrame, one row (a dict
    or a pandas Series), or the path of a results file (.jsonl)."""
    if isinstance(answer, (str, Path)):
        path = Path(answer)
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist: pass the rows your sweep returned, or its results file.")
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if hasattr(answer, "to_dict") and hasattr(answer, "columns"):  # a DataFrame
        return answer.to_dict("records")
    if hasattr(answer, "to_dict"):  # a pandas Series: one row
        return [answer.to_dict()]
    if isinstance(answer, dict):
        return [answer]
    return [dict(row) for row in answer]


def _close(a, b) -> bool:
    if isinstance(b, float) or isinstance(a, float):
        return a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=1e-6)
    return a == b


def _pick(rows, steps=None, **settings) -> list[dict]:
    """The rows with these settings (``steps`` within 5%: 40 epochs of batch 256 make 600, not 620)."""
    return [r for r in rows if all(_close(r.get(k), v) for k, v in settings.items())
            and (steps is None or abs(r.get("steps", 0) - steps) <= 0.05 * steps)]


def _mean(rows, score="fid") -> float:
    return statistics.fmean(r[score] for r in rows)


def _no_verdict(preset) -> str | None:
    """Why a run at this preset gets no verdict (None: it is the cpu preset, the ranges' own)."""
    if preset.name == "smoke" or getattr(preset, "step_cap", None) is not None:
        cap = " under the step cap" if preset.step_cap is not None else ""
        return f"ran; at {preset.name}{cap} the numbers mean nothing (the ranges are for the cpu preset)"
    if preset.name != "cpu":
        return f"ran at the {preset.name} preset; the ranges below were measured at the cpu preset, so no verdict"
    return None


def _judge(what: str, mine: list[dict], measured: list[dict], record: str, why: str, score: str = "fid") -> bool:
    """Print one trial's score against the range of its measured seeds; True when inside."""
    value, (low, high) = _mean(mine, score), seed_range(r[score] for r in measured)
    inside = low <= value <= high
    seeds = ", ".join(f"{r[score]:.1f}" for r in measured)
    print(f"{what}: {score.upper() if score == 'fid' else score} {value:.1f} over {len(mine)} seed(s): "
          f"{'as expected' if inside else 'OUTSIDE the expected range'} [{low:.0f}, {high:.0f}] at the cpu preset "
          f"({len(measured)} measured seeds: {seeds}; {record}). {why}")
    return inside


# --------------------------------------------------------------------------- lesson 05

def _lesson05_baseline():
    sweep = load_record("lesson05_sweep")
    base = _pick(sweep, factor="baseline")
    return sweep, base, base[0]["steps"], base[0]["batch_size"], base[0]["g_learning_rate"]


def batch_at_equal_steps(rows) -> bool | None:
    """05 #5: batch 16 and batch 256 at the baseline's number of steps, against the measured seeds."""
    sweep, base, steps, batch, _ = _lesson05_baseline()
    measured = load_record("lesson05_exercises")
    base_low, base_high = seed_range(r["fid"] for r in base)
    fids = ", ".join(f"{r['fid']:.1f}" for r in base)
    print(f"The baseline (batch {batch}, {steps} steps) scored FID {fids} over "
          f"{len(base)} seeds, so a new seed in [{base_low:.0f}, {base_high:.0f}] (section 6; {provenance('lesson05_sweep')}). "
          f"The trials below: {provenance('lesson05_exercises')}.")
    verdicts = []
    for size, why in ((batch // 4, "A quarter of the images per step: noisier gradients, no head start in steps."),
                      (batch * 4, "Four times the images per step and the same steps: it catches up.")):
        mine = _pick(rows, batch_size=size, steps=steps)
        if not mine:
            print(f"No trial of batch {size} at about {steps} steps in your rows: set steps={steps} in its variant.")
            continue
        fixed = _pick(sweep, batch_size=size)
        if fixed:
            why += f" At a fixed 10 epochs ({fixed[0]['steps']} steps) it scored {fixed[0]['fid']:.1f} (section 6)."
        verdicts.append(_judge(f"batch {size} at {steps} steps", mine,
                               _pick(measured, batch_size=size, steps=steps), "results/cpu/lesson05_exercises.jsonl",
                               why))
    return all(verdicts) if verdicts else False


def batch_and_rate(rows) -> bool | None:
    """05 #6: batch 256 with both learning rates x4, and whether the gain beats the same x4 at batch 64."""
    sweep, base, steps, batch, lr = _lesson05_baseline()
    measured = load_record("lesson05_exercises")
    mine = _pick(rows, batch_size=4 * batch, g_learning_rate=4 * lr, d_learning_rate=4 * lr)
    if not mine:
        print(f"No trial of batch {4 * batch} with both learning rates {4 * lr:g} in your rows: "
              f"variant(BASE, 'batch {4 * batch}, lr both x4', batch_size={4 * batch}, "
              f"g_learning_rate={4 * lr:g}, d_learning_rate={4 * lr:g}).")
        return False
    slow = _pick(measured, batch_size=4 * batch, g_learning_rate=lr, steps=mine[0]["steps"])
    fast_64 = _pick(measured, batch_size=batch, g_learning_rate=4 * lr, d_learning_rate=4 * lr)
    gain_256, gain_64 = _mean(slow) / _mean(mine), _mean(base) / _mean(fast_64)
    print(f"{provenance('lesson05_exercises')}; the baseline: {provenance('lesson05_sweep')}.")
    inside = _judge(f"batch {4 * batch}, both rates x4", mine,
                    _pick(measured, batch_size=4 * batch, g_learning_rate=4 * lr, d_learning_rate=4 * lr),
                    "results/cpu/lesson05_exercises.jsonl",
                    "A quarter of the steps: each has to move further, and a bigger batch's gradient can afford it.")
    print(f"x4 on both rates divides the FID by {gain_256:.1f} at batch {4 * batch} (measured at the base rates: "
          f"{_mean(slow):.0f}) and by {gain_64:.2f} at batch {batch} (measured, 3 seeds each): "
          + ("much more at the big batch, so the two factors interact." if gain_256 > 1.5 * gain_64 else
             "not much more at the big batch: no clear interaction in your run."))
    return inside


# --------------------------------------------------------------------------- lesson 07

def ablation_more_seeds(rows) -> bool | None:
    """07 #6(a): the mean of every ablation row's new seeds against the range of its measured seeds, and
    which of the measured separated pairs stay separated with them."""
    from gan_course import experiments

    rows = [r for r in rows if "name" in r and "fid" in r]
    verdicts = []
    for record in ("lesson07_ablation_mnist", "lesson07_ablation_bricks"):
        measured = load_record(record)
        dataset = measured[0]["dataset"]
        mine = [r for r in rows if r.get("dataset", "mnist") == dataset and r.get("steps") == measured[0]["steps"]]
        old = {r["seed"] for r in measured}
        new = [r for r in mine if r["seed"] not in old]
        if not new:
            print(f"{dataset}: no seed beyond {sorted(old)} in your rows (add two seeds to SEEDS and rerun).")
            continue
        print(f"{dataset}: {provenance(record)}")
        for name in dict.fromkeys(r["name"] for r in measured):
            theirs = [r for r in new if r["name"] == name]
            if theirs:
                low, high = seed_range(r["fid"] for r in measured if r["name"] == name)
                inside = low <= _mean(theirs) <= high
                verdicts.append(inside)
                fids = ", ".join(f"{r['fid']:.1f}" for r in theirs)
                print(f"  {name:26s} new seeds FID {fids}: mean {'as expected in' if inside else 'OUTSIDE'} "
                      f"[{low:.0f}, {high:.0f}]")
        before = {(p["low"], p["high"]) for p in experiments.pairwise_differences(experiments.summarise(measured))
                  if p["separated"]}
        after = {(p["low"], p["high"]) for p in experiments.pairwise_differences(experiments.summarise(mine))
                 if p["separated"]}
        print(f"  separated over the measured seeds and still over yours: {len(before & after)} of {len(before)}; "
              f"no longer: {'; '.join(f'{a} < {b}' for a, b in sorted(before - after)) or 'none'}")
    # Sixteen rows: one or two of them outside their range is seed noise, more is a run unlike the course's.
    outside = verdicts.count(False)
    if verdicts:
        print(f"{len(verdicts) - outside} of {len(verdicts)} rows' new seeds as expected (up to one row in eight "
              "may land outside by chance).")
    return bool(verdicts) and outside <= len(verdicts) // 8


# --------------------------------------------------------------------------- lesson 00
# Its exercises train the toys of sections 5 and 6 (seconds each). The record, lesson00_exercises,
# holds section 5's 1-D GAN (`"exercise": "1d"`) with each generator loss the exercises ask for, and
# section 6's four ring runs (`"exercise": "ring"`), at ten seeds (teaching/exercise_runs.py).


def toy_1d_rows(answer) -> list[dict]:
    """Section 5's run as its loop leaves it: ``snapshots`` ({round: (generated samples, D's verdict)}),
    or ``dict(snapshots=snapshots, d_loss=d_loss, g_loss=g_loss)`` with the last round's losses; as one
    row of the record's form (the generated mean and spread at each snapshot round). Rows pass through."""
    import numpy as np

    if isinstance(answer, dict) and "snapshots" in answer:
        snapshots = answer["snapshots"]
        losses = {k: float(answer[k]) for k in ("d_loss", "g_loss") if answer.get(k) is not None}
    elif isinstance(answer, dict) and answer and all(isinstance(k, (int, np.integer)) for k in answer):
        snapshots, losses = answer, {}
    else:
        return as_rows(answer)
    moments = sorted(int(k) for k in snapshots)
    samples = [np.asarray(snapshots[m][0] if isinstance(snapshots[m], (tuple, list)) else snapshots[m]).ravel()
               for m in moments]
    means, stds = [float(x.mean()) for x in samples], [float(x.std()) for x in samples]
    return [dict(moments=moments, means=means, stds=stds, **losses)]


def ring_rows(answer) -> list[dict]:
    """Section 6's scores as its check cell leaves them, ``(ring_cov, reach)`` (per run: the coverage dict
    and the sectors reached), or a list of such pairs, one per seed; one row a run (``run``: which pair)."""
    pairs = [answer] if isinstance(answer, tuple) and len(answer) == 2 and isinstance(answer[0], dict) else answer
    if not (isinstance(pairs, list) and pairs and isinstance(pairs[0], tuple)):
        return as_rows(answer)
    return [dict(name=name, run=i, modes=int(cov["modes"]), on_target=float(cov["good_share"]),
                 sectors=int(reach[name]) if reach and name in reach else None)
            for i, (coverage, reach) in enumerate(pairs) for name, cov in coverage.items()]


def _toy_judge(what: str, value: float, measured, fmt: str = "{:.2f}", unit: float = 0.0, bounds=(-math.inf, math.inf),
               why: str = "") -> bool:
    """One number of a toy run against the range of its measured seeds; True when inside."""
    low, high = seed_range(measured, unit)
    low, high = max(low, bounds[0]), min(high, bounds[1])
    inside = low <= value <= high
    print(f"  {what}: {fmt.format(value)}, {'as expected' if inside else 'OUTSIDE the expected range'} "
          f"[{fmt.format(low)}, {fmt.format(high)}] ({len(measured)} measured seeds, "
          f"{fmt.format(min(measured))} to {fmt.format(max(measured))}). {why}".rstrip())
    return inside


def _one_d_run(rows, name: str, start: str, loss_name: str, other: str, other_loss: str, why: str) -> bool:
    """A 1-D exercise: the student's run (first row) against the record's seeds of ``name``; the start
    against where ``name`` starts, the last losses against ``name``'s and ``other``'s (the loss a student
    who forgot to change it trained with)."""
    record = [r for r in load_record("lesson00_exercises") if r["exercise"] == "1d"]
    theirs, others = _pick(record, name=name), _pick(record, name=other)
    mine, steps, target = rows[0], theirs[0]["moments"][-1], theirs[0]["data_mean"]
    if not mine.get("moments") or mine["moments"][-1] != steps:
        print(f"Your run made {(mine.get('moments') or ['?'])[-1]} rounds and the course's {steps} (STEPS_1D at the cpu "
              "preset), so they cannot be compared: run section 5's loop to the end at the cpu preset.")
        return False
    print(f"Your run against the course's '{name}' runs: {provenance('lesson00_exercises')}.")
    if not _toy_judge("round 0, generated mean", mine["means"][0], [r["means"][0] for r in theirs],
                      why=f"Where G starts: {start}."):
        print(f"  Your generator did not start where the exercise's does ({start}): set up that start, then rerun.")
        return False
    paired = {r["seed"]: r for r in others}
    for i, m in enumerate(theirs[0]["moments"][1:-1], 1):  # on the way: the two losses side by side
        if m in mine["moments"]:
            behind = sum(abs(r["means"][i] - target) > abs(paired[r["seed"]]["means"][i] - target)
                         for r in theirs if r["seed"] in paired)
            print(f"  round {m}, generated mean {mine['means'][mine['moments'].index(m)]:.2f}; the course's '{name}' "
                  "runs: [{:.2f}, {:.2f}], its '{}' runs: [{:.2f}, {:.2f}]; ".format(
                      *seed_range(r["means"][i] for r in theirs), other, *seed_range(r["means"][i] for r in others))
                  + f"'{name}' was further from the data's mean ({target:g}) than '{other}' in {behind} of "
                  f"{len(paired)} seeds.")
    verdicts = [_toy_judge(f"round {steps}, generated mean", mine["means"][-1], [r["mean"] for r in theirs], why=why),
                _toy_judge(f"round {steps}, generated spread", mine["stds"][-1], [r["std"] for r in theirs])]
    if "g_loss" in mine:
        g_ok = _toy_judge("last round, G's loss", mine["g_loss"], [r["g_loss"] for r in theirs],
                          why=f"The {loss_name}'s value; the course's '{other}' runs: "
                              "[{:.2f}, {:.2f}].".format(*seed_range(r["g_loss"] for r in others)))
        low, high = seed_range(r["g_loss"] for r in others)
        if not g_ok and low <= mine["g_loss"] <= high:
            print(f"  Your G's last loss is where {other_loss} puts it: is train_step's loss the one you meant to change?")
        verdicts.append(g_ok)
    else:
        print("  Pass d_loss and g_loss too (dict(snapshots=..., d_loss=..., g_loss=...)) to check the loss you trained.")
    return all(verdicts)


def minimax_1d(rows) -> bool | None:
    """00 #4: the minimax generator loss from a start 10 to the right, against the course's seeds."""
    return _one_d_run(rows, "minimax, +10", "10 to the right of the lesson's, far from the data",
                      "minimax loss", "non-saturating, +10", "the non-saturating loss",
                      "A fresh D is not yet sure, and Adam divides each step by the gradient's running size: "
                      "a small minimax slope still moves G.")


def lsgan_1d(rows) -> bool | None:
    """00 #6: the LSGAN losses on section 5's GAN, against the course's seeds (and the lesson's BCE run)."""
    return _one_d_run(rows, "LSGAN", "the lesson's own start", "LSGAN loss", "non-saturating", "the lesson's BCE loss",
                      "A squared error's slope grows with the distance to its target: it does not saturate.")


RING_CONCLUSIONS = {  # section 6's conclusions, each tested on one seed's four runs (name -> row)
    "a batch of 512 covers no more modes than batch 64": lambda run: (
        run["GAN, fast G, batch 512"]["modes"] <= run["GAN, fast G, batch 64"]["modes"]),
    "WGAN-GP reaches more sectors of the ring than the fast generator": lambda run: (
        run["WGAN-GP, fast G"]["sectors"] > run["GAN, fast G, batch 64"]["sectors"]),
    "balanced rates cover more modes than every other run": lambda run: all(
        run["GAN, balanced rates"]["modes"] > r["modes"] for n, r in run.items() if n != "GAN, balanced rates"),
}


def collapse_seeds(rows) -> bool | None:
    """00 #5: section 6's four runs at the student's seed(s), each run's modes and share on target against
    the course's ten seeds, and which of section 6's conclusions held in each of the student's runs."""
    record = [r for r in load_record("lesson00_exercises") if r["exercise"] == "ring"]
    names = list(dict.fromkeys(r["name"] for r in record))
    by_run = {}
    for r in rows:
        by_run.setdefault(r.get("run", r.get("seed", 0)), {})[r["name"]] = r
    print(f"Each run against the course's runs at {len({r['seed'] for r in record})} seeds: "
          f"{provenance('lesson00_exercises')}.")
    verdicts = []
    for label, run in by_run.items():
        missing = [n for n in names if n not in run]
        if missing:
            print(f"Your scores{f' ({label})' if len(by_run) > 1 else ''} miss {missing}: rerun all of section 6.")
            verdicts.append(False)
            continue
        print(f"Your scores{f' ({label})' if len(by_run) > 1 else ''}:")
        for name in names:
            theirs = _pick(record, name=name)
            verdicts.append(_toy_judge(f"{name}: modes covered", run[name]["modes"], [r["modes"] for r in theirs],
                                       "{:.0f}", unit=1, bounds=(0, 8)))
            verdicts.append(_toy_judge(f"{name}: share on target", run[name]["on_target"],
                                       [r["on_target"] for r in theirs], "{:.0%}", bounds=(0, 1)))
        seeds = {}
        for r in record:
            seeds.setdefault(r["seed"], {})[r["name"]] = r
        for conclusion, holds in RING_CONCLUSIONS.items():
            try:
                mine = holds(run)
            except TypeError:  # no sectors passed
                mine = None
            course = sum(holds(s) for s in seeds.values())
            said = {True: "held in your run", False: "did not hold in your run", None: "(pass reach to test it)"}[mine]
            print(f"  '{conclusion}': {said}; it held in {course} of the course's {len(seeds)} seeds.")
    # Eight numbers a seed: one of them outside its range is seed noise, more is a run unlike the course's.
    outside = verdicts.count(False)
    print(f"{len(verdicts) - outside} of {len(verdicts)} numbers as expected (up to one in eight may land outside by "
          "chance). A conclusion that held in nearly all the course's seeds and in yours is a finding; "
          "one that holds in some seeds only is seed noise.")
    return bool(verdicts) and outside <= len(verdicts) // 8


CHECKERS = {  # the YAML's `run_check:` value -> (checker, the lesson section to see)
    "batch-at-equal-steps": (batch_at_equal_steps, "lesson 05, sections 6 and 8"),
    "batch-and-rate": (batch_and_rate, "lesson 05, sections 6 and 8"),
    "ablation-more-seeds": (ablation_more_seeds, "lesson 07, sections 7 and 8"),
    "toy-minimax-1d": (minimax_1d, "lesson 00, sections 4 and 5"),
    "toy-collapse-seeds": (collapse_seeds, "lesson 00, section 6"),
    "toy-lsgan-1d": (lsgan_1d, "lesson 00, sections 5 and 7"),
}
READERS = {  # checkers that read other objects than a sweep's rows -> (reader, argument name, what to pass)
    "toy-minimax-1d": (toy_1d_rows, "my_run", "dict(snapshots=snapshots, d_loss=d_loss, g_loss=g_loss) after "
                                              "section 5's loop"),
    "toy-collapse-seeds": (ring_rows, "my_scores", "(ring_cov, reach) after section 6's check cell, or a list of "
                                                   "them, one per seed"),
    "toy-lsgan-1d": (toy_1d_rows, "my_run", "dict(snapshots=snapshots, d_loss=d_loss, g_loss=g_loss) after "
                                            "section 5's loop"),
}


def answer_help(name: str) -> tuple[str, str]:
    """What checker ``name`` reads: (the argument's name in the exercise cell, what to pass)."""
    if name in READERS:
        return READERS[name][1:]
    return "rows", "what your run returned (the rows of experiments.run_sweep, or its results file)"


def run_check(name: str, answer, preset=None) -> bool | None:
    """Check the student's run (``answer``) with checker ``name``; True or False at the cpu preset,
    None at smoke, under the step cap, and at gpu (the ranges were measured at cpu)."""
    if preset is None:
        from gan_course.presets import get_preset

        preset = get_preset()
    checker, section = CHECKERS[name]
    rows = READERS[name][0](answer) if name in READERS else as_rows(answer)
    reason = _no_verdict(preset)
    if reason and preset.name != "gpu":
        print(f"{'Your run' if name in READERS else f'{len(rows)} row(s)'} {reason}.")
        return None
    if reason:
        print(reason)
    verdict = checker(rows)
    print(f"See {section}.")
    return None if reason else verdict
