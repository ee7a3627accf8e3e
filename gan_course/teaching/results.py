"""The results record: what the course's own runs measured, kept in one place.

README quotes what ``make train`` scores. Those numbers are not typed: ``make results`` trains both
MNIST recipes at the cpu preset, copies each run's ``metrics.json`` into ``results/<preset>/`` with
this module's ``record`` (the scores, the training time, the recipe, the commit and the machine),
and ``update-readme`` rewrites README's marked blocks from that record. ``tests/test_results.py``
fails when README and the record disagree, so a hand edit of a number, or a record that changed
without README, is caught.

Usage (``make results`` runs all three)::

    python -m gan_course.teaching.results record outputs/results/fast/metrics.json make_train
    python -m gan_course.teaching.results update-readme
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

__all__ = ["RESULTS", "README", "record", "load", "blocks", "update_readme", "stale_blocks"]

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


def load(name: str, preset: str = "cpu", results_dir: Path = RESULTS) -> dict:
    path = Path(results_dir) / preset / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"No record {path}: run `make results` to write it.")
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


BLOCKS = {"make-train": _make_train}


def blocks(results_dir: Path = RESULTS) -> dict:
    """Each README block's text, rendered from the record."""
    return {name: render(results_dir) for name, render in BLOCKS.items()}


def _rewrite(text: str, results_dir: Path) -> str:
    rendered = blocks(results_dir)

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
    fresh = blocks(results_dir)
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
    sub.add_parser("update-readme", help="rewrite README's results blocks from the record")
    sub.add_parser("check", help="exit 1 when README and the record disagree")
    args = parser.parse_args(argv)
    if args.command == "record":
        print(f"wrote {record(args.metrics, args.name)}")
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
