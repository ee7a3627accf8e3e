"""The results record: what the course's own runs measured, kept in one place.

README quotes what ``make train`` scores. Those numbers are not typed: ``make results`` trains both
MNIST recipes at the cpu preset, copies each run's ``metrics.json`` into ``results/<preset>/`` with
this module's ``record`` (the scores, the training time, the recipe, the commit and the machine),
and ``update-readme`` rewrites README's marked blocks from that record. ``tests/test_results.py``
fails when README and the record disagree, so a hand edit of a number, or a record that changed
without README, is caught.

The benchmarks' numbers that README quotes come the same way: ``record-bench`` copies the JSON a
benchmark wrote (``python -m gan_course.bench``, ``bench.quality``, ``bench.multiworker``) into
``results/cpu/bench_<name>.json`` with the date, commit and machine, and README's benchmark blocks
are rendered from it.

Usage (``make results`` runs the first three for make train; ``make results-bench`` the benchmarks)::

    python -m gan_course.teaching.results record outputs/results/fast/metrics.json make_train
    python -m gan_course.teaching.results update-readme
    python -m gan_course.teaching.results record-bench outputs/bench/quality.json race_digits
    python -m gan_course.teaching.results check      # exit 1 when README and the record disagree
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

__all__ = ["RESULTS", "README", "BENCHES", "record", "record_bench", "load", "blocks", "update_readme", "stale_blocks"]

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "results"
README = ROOT / "README.md"
BLOCK = re.compile(r"(<!-- results: (?P<name>[\w-]+) -->)(?P<body>.*?)(<!-- /results -->)", re.S)


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def record(metrics_path, name: str, results_dir: Path = RESULTS) -> Path:
    """Copy what the README quotes from a ``make train`` run's ``metrics.json`` into
    ``results_dir/<preset>/<name>.json``; returns that path."""
    metrics_path = Path(metrics_path)
    if not metrics_path.is_file():
        raise FileNotFoundError(f"{metrics_path} does not exist: run `python -m gan_course train --out "
                                f"{metrics_path.parent}` first (or `make results`, which runs both recipes).")
    run = json.loads(metrics_path.read_text())
    missing = [key for key in ("preset", "recipe", "seed", "train_seconds_this_run", "scores") if key not in run]
    if missing:
        raise ValueError(f"{metrics_path} has no {', '.join(missing)}: it was not written by `python -m gan_course "
                         "train` (or by an older version); train again with the current one.")
    scores = run["scores"]
    entry = {
        "what": f"python -m gan_course train --preset {run['preset']} --recipe {run['recipe']['name']} --seed {run['seed']}",
        "preset": run["preset"], "recipe": run["recipe"], "seed": run["seed"], "data_source": run.get("data_source"),
        "train_images": run.get("train_images"), "train_seconds": run["train_seconds_this_run"],
        "fid": round(scores["fid"], 3), "coverage": scores["coverage"], "confident_share": scores["confident_share"],
        "n_samples": scores["n_samples"], "n_real": scores["n_real"],
        "recorded": datetime.date.today().isoformat(), "commit": _commit(),
        "cores": os.cpu_count(), "machine": f"{platform.machine()}, {platform.system()}",
    }
    out = Path(results_dir) / run["preset"] / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(entry, indent=1) + "\n")
    return out


# What each benchmark record holds: the command that writes it and keys its JSON must have.
BENCHES = {
    "race_digits": ("python -m gan_course.bench.quality --max-seconds 300", ("course", "tutorial", "target", "max_seconds")),
    "speed": ("python -m gan_course.bench --skip-quality", ("throughput", "speedups", "settings")),
    "multiworker": ("python -m gan_course.bench.multiworker", ("two_workers_over_one_process", "sizes", "cpus")),
    "quality_faces": ("python -m gan_course.bench.quality --race faces --max-seconds 360",
                      ("race", "contestants", "ratios", "target", "max_seconds")),
}


def _machine() -> dict:
    return {"recorded": datetime.date.today().isoformat(), "commit": _commit(), "cores": os.cpu_count(),
            "machine": f"{platform.machine()}, {platform.system()}"}


def record_bench(json_path, name: str, results_dir: Path = RESULTS) -> Path:
    """Copy a benchmark's JSON into ``results_dir/cpu/bench_<name>.json`` (``name`` one of
    ``BENCHES``), with the date, commit and cores of the machine; returns that path. Run the
    benchmark on an idle machine: its wall times are what README quotes."""
    if name not in BENCHES:
        raise ValueError(f"unknown benchmark record {name!r}: one of {', '.join(BENCHES)}.")
    command, keys = BENCHES[name]
    json_path = Path(json_path)
    if not json_path.is_file():
        raise FileNotFoundError(f"{json_path} does not exist: run `{command} --out {json_path}` first.")
    run = json.loads(json_path.read_text())
    missing = [key for key in keys if key not in run]
    if missing:
        raise ValueError(f"{json_path} has no {', '.join(missing)}: it is not the output of `{command}`; "
                         f"run that and record its JSON.")
    out = Path(results_dir) / "cpu" / f"bench_{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"what": command, **_machine(), **run}, indent=1) + "\n")
    return out


def load(name: str, preset: str = "cpu", results_dir: Path = RESULTS) -> dict:
    path = Path(results_dir) / preset / f"{name}.json"
    if not path.is_file():
        bench = BENCHES.get(name.removeprefix("bench_"), (None,))[0] if name.startswith("bench_") else None
        how = (f"run `{bench} --out run.json`, then `python -m {__name__} record-bench run.json "
               f"{name.removeprefix('bench_')}`" if bench else "run `make results`")
        raise FileNotFoundError(f"No record {path}: {how} to write it.")
    return json.loads(path.read_text())


def _digits(coverage: float) -> str:
    drawn = round(coverage * 10)
    return "all ten digits" if drawn == 10 else f"{drawn} of the ten digits"


def _make_train(results_dir: Path) -> str:
    fast, paper = load("make_train", results_dir=results_dir), load("make_train_dcgan2015", results_dir=results_dir)
    return (f"on our {fast['cores']}-core machine ({fast['recorded']}): {fast['train_seconds']:.0f} s of "
            f"training, FID {fast['fid']:.1f} with {_digits(fast['coverage'])} and {fast['confident_share']:.0%} of "
            f"samples read with confidence, where `--recipe dcgan2015`, the 2015 paper's settings, gave FID "
            f"{paper['fid']:.0f} with {_digits(paper['coverage'])} and {paper['confident_share']:.0%} in "
            f"{paper['train_seconds']:.0f} s")


def _on(r: dict) -> str:
    return f"on {r['cores']} cores ({r['recorded']})"


def _race_digits(results_dir: Path) -> str:
    r = load("bench_race_digits", results_dir=results_dir)
    course, tutorial = r["course"], r["tutorial"]

    def best(run):
        return min(run["curve"], key=lambda c: c["fid"])

    def end(run):
        return (f"reached FID {run['curve'][-1]['fid']:.1f} with all ten digits after {run['steps']:,} steps, "
                f"{run['wall_s']:.0f} s wall ({run['cpu_s']:.0f} s CPU)" if run["reached"] else
                f"was at FID {best(run)['fid']:.0f} at best, with at most {round(max(c['coverage'] for c in run['curve']) * 10)} "
                f"of the 10 digits, when it stopped after {run['wall_s']:.0f} s ({run['cpu_s']:.0f} s CPU)")

    text = (f"Measured {_on(r)}, `--max-seconds {r['max_seconds']:g}`: the course's recipe {end(course)}; "
            f"the tutorial's code {end(tutorial)}")
    if "tutorial_over_course" in r:
        bound = "at least " if r["ratio_is_lower_bound"] else ""
        text += (f", so the course's recipe was {bound}{r['tutorial_over_course']:.1f}x sooner in wall time and "
                 f"{bound}{r['tutorial_over_course_cpu']:.1f}x in CPU time")
    return text + "."


def _race_faces(results_dir: Path) -> str:
    r = load("bench_quality_faces", results_dir=results_dir)
    target = r["target"]["face_fid_at_most"]

    def end(run):
        if run["reached"]:
            return f"reached it after {run['steps']:,} steps, {run['wall_s']:.0f} s wall ({run['cpu_s']:.0f} s CPU)"
        return (f"was at face FID {min(c['fid'] for c in run['curve']):.0f} at best when it stopped after "
                f"{run['wall_s']:.0f} s")

    runs = r["contestants"]
    course = [key for key in runs if key in r["ratios"]]
    reference = next(key for key in runs if key not in r["ratios"])
    parts = [f"{runs[key]['name']} {end(runs[key])}" for key in course]
    text = (f"Measured {_on(r)}, `--max-seconds {r['max_seconds']:g}`, face FID at most {target:g}: "
            + "; ".join(parts) + f"; the {runs[reference]['name']} {end(runs[reference])}")
    ratios = []
    for key in course:
        ratio = r["ratios"][key]
        if ratio:
            bound = "at least " if ratio["is_lower_bound"] else ""
            ratios.append(f"{runs[key]['name']} was {bound}{ratio['reference_over_course']:.1f}x sooner in wall time")
    return text + (". So " + " and ".join(ratios) if ratios else "") + "."


def _speed(results_dir: Path) -> str:
    r = load("bench_speed", results_dir=results_dir)
    t, s = r["throughput"], r["speedups"]

    def speedup(name, what):
        x = s.get(name, {})
        return f"{what}: skipped ({x['skipped']})" if "skipped" in x else f"{what}: {x['speedup']:.2f}x"

    policy = next((k.removesuffix("_step_ms") for k in s.get("mixed_precision", {})
                   if k.endswith("_step_ms") and not k.startswith("float32")), "16-bit mixed precision")
    settings = r["settings"]
    return (f"Measured {_on(r)}, float32, width {settings['width']}, batch {settings['batch_size']}: the package's step ran at "
            f"{t['package_over_reference']:.2f}x the tutorial's step in its default alternating order (G is judged "
            f"by the updated D, which costs one more pass of D over the fakes) and "
            f"{t['simultaneous_over_reference']:.2f}x in the tutorial's simultaneous order; the tutorial's loop on "
            f"the opt-in fast layers ran {t['fast_layers_over_reference']:.2f}x the stock layers; "
            + "; ".join([speedup("mixed_precision", f"{policy} against float32 at width {settings['precision_width']}"),
                         speedup("xla", "XLA against the default graph"),
                         speedup("two_devices", "two logical devices against one"),
                         speedup("input_pipeline", "images decoded from a folder against tensors in memory")])
            + ". Above 1 is faster.")


def _multiworker(results_dir: Path) -> str:
    r = load("bench_multiworker", results_dir=results_dir)
    return (f"{_on(r)}, two workers trained at {r['two_workers_over_one_process']:.2f}x the speed of one process "
            f"(global batch {r['sizes']['batch_size']}, width {r['sizes']['width']})")


BLOCKS = {"make-train": _make_train, "bench-race-digits": _race_digits, "bench-race-faces": _race_faces,
          "bench-speed": _speed, "bench-multiworker": _multiworker}


def blocks(results_dir: Path = RESULTS, names=None) -> dict:
    """Each README block's text (or those in ``names``), rendered from the record."""
    unknown = sorted(set(names or ()) - set(BLOCKS))
    if unknown:
        raise ValueError(f"README has results blocks {unknown} that {__name__} does not know "
                         f"(known: {', '.join(BLOCKS)}).")
    return {name: BLOCKS[name](results_dir) for name in (names or BLOCKS)}


def _rewrite(text: str, results_dir: Path) -> str:
    rendered = blocks(results_dir, {m["name"] for m in BLOCK.finditer(text)})

    def fill(match):
        name = match["name"]
        if name not in rendered:
            raise ValueError(f"README has a results block {name!r} that {__name__} does not know "
                             f"(known: {', '.join(rendered)}).")
        return f"{match[1]}{rendered[name]}{match[4]}"

    return BLOCK.sub(fill, text)


def stale_blocks(readme: Path = README, results_dir: Path = RESULTS) -> list[str]:
    """Names of README's results blocks whose text differs from the record's rendering."""
    text = Path(readme).read_text()
    fresh = blocks(results_dir, {m["name"] for m in BLOCK.finditer(text)})
    return [m["name"] for m in BLOCK.finditer(text) if m["body"] != fresh.get(m["name"])]


def update_readme(readme: Path = README, results_dir: Path = RESULTS) -> bool:
    """Rewrite README's results blocks from the record; True when something changed."""
    text = Path(readme).read_text()
    new = _rewrite(text, results_dir)
    if new != text:
        Path(readme).write_text(new)
    return new != text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gan_course.teaching.results", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="copy a run's metrics.json into results/<preset>/NAME.json")
    rec.add_argument("metrics")
    rec.add_argument("name")
    bench = sub.add_parser("record-bench", help="copy a benchmark's JSON into results/cpu/bench_NAME.json")
    bench.add_argument("json")
    bench.add_argument("name", choices=list(BENCHES))
    sub.add_parser("update-readme", help="rewrite README's results blocks from the record")
    sub.add_parser("check", help="exit 1 when README and the record disagree")
    args = parser.parse_args(argv)
    if args.command == "record":
        print(f"wrote {record(args.metrics, args.name)}")
    elif args.command == "record-bench":
        print(f"wrote {record_bench(args.json, args.name)}")
    elif args.command == "update-readme":
        print("README updated" if update_readme() else "README already agrees with the record")
    else:
        stale = stale_blocks()
        if stale:
            print(f"README's results blocks {', '.join(stale)} differ from results/: run "
                  "`python -m gan_course.teaching.results update-readme`", file=sys.stderr)
            return 1
        print("README agrees with the record")
    return 0


if __name__ == "__main__":
    sys.exit(main())
