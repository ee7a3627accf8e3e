"""Probe lesson 01's recipe pieces on the face lessons' runs, over seeds.

Issue 38: which of lesson 01's pieces (beta_1 0, D's hidden layer, G's mapping network, DiffAugment,
fewer critic steps) pay on lessons 02's and 03's faces. Each variant is a named change of a face
recipe (``recipes.recipe(preset, "dcgan-faces" | "wgan-gp-faces")``), trained for the same numbers of
generator steps on the same offline faces and scored at fixed step counts with the faces race's face
score (``bench.faces.face_scorer``); each run also records its median cost per generator step, so
rows of unequal cost can be compared at equal time. (A budget in wall seconds was tried first: on a
machine whose speed swings by tens of percent between minutes, equal seconds were not equal work.) Every
curve goes to a JSON-lines file; the table printed at the end is what ``docs/probes_log.md`` records.

    python scripts/probe_faces.py --variants all-wgan --seeds 0 1 --out outputs/probes/faces.jsonl

Run it on an idle machine: it also records the cost of a step.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

# name -> (recipe, changes)
VARIANTS = {
    "dcgan": ("dcgan-faces", {}),
    "dcgan b0": ("dcgan-faces", dict(beta_1=0.0)),
    "dcgan b0 hidden": ("dcgan-faces", dict(beta_1=0.0, d_hidden=256)),
    "dcgan b0 hidden map": ("dcgan-faces", dict(beta_1=0.0, d_hidden=256, mapping=2)),
    "dcgan b0 hidden map aug": ("dcgan-faces", dict(beta_1=0.0, d_hidden=256, mapping=2, augment="translation,cutout")),
    "dcgan b0 map": ("dcgan-faces", dict(beta_1=0.0, mapping=2)),
    "dcgan b0 k4": ("dcgan-faces", dict(beta_1=0.0, kernel_size=4)),
    "dcgan b0 r1x4": ("dcgan-faces", dict(beta_1=0.0, r1_gamma=4.0)),
    "wgan": ("wgan-gp-faces", {}),
    "wgan map": ("wgan-gp-faces", dict(mapping=2)),
    "wgan nc2": ("wgan-gp-faces", dict(n_critic=2)),
    "wgan nc2 map": ("wgan-gp-faces", dict(n_critic=2, mapping=2)),
    "wgan aug": ("wgan-gp-faces", dict(augment="translation,cutout")),
    "wgan 2e-3": ("wgan-gp-faces", dict(learning_rate=2e-3)),
}
GROUPS = {"all-dcgan": [k for k in VARIANTS if k.startswith("dcgan")],
          "all-wgan": [k for k in VARIANTS if k.startswith("wgan")]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=["all-dcgan", "all-wgan"],
                        help="variant names, or the groups 'all-dcgan' and 'all-wgan'")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--dcgan-steps", nargs="+", type=int, default=[300, 600, 900],
                        help="generator steps at which a DCGAN variant is scored")
    parser.add_argument("--wgan-steps", nargs="+", type=int, default=[100, 200, 300],
                        help="generator steps at which a WGAN-GP variant is scored")
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--out", default="outputs/probes/faces.jsonl")
    args = parser.parse_args(argv)
    for flag, steps in (("--dcgan-steps", args.dcgan_steps), ("--wgan-steps", args.wgan_steps)):
        if any(b <= a for a, b in zip([0, *steps], steps)):
            parser.error(f"{flag} {' '.join(map(str, steps))}: the checkpoints must be positive and increasing, "
                         f"e.g. {flag} 300 600 900")
    os.environ.setdefault("GAN_COURSE_OFFLINE", "1")

    import numpy as np

    from gan_course import metrics, recipes
    from gan_course.bench import faces
    from gan_course.bench.quality import CourseTrainer

    names = [n for v in args.variants for n in GROUPS.get(v, [v])]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise SystemExit(f"Unknown variants {unknown}; choose from {sorted(VARIANTS)} or {sorted(GROUPS)}.")
    train, holdout, info = faces.load_faces(args.preset, "offline", 0)
    real_outputs = metrics.face_outputs(holdout)
    score = faces.face_scorer(holdout, 0.0, 0, real_outputs)  # the threshold is unused here: no early stop
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    shape = tuple(int(s) for s in train.shape[1:])
    print(f"{len(train)} training faces, {len(holdout)} held out, {shape}, source {info.source}", flush=True)
    for seed in args.seeds:
        for name in names:
            recipe_name, changes = VARIANTS[name]
            cfg = recipes.recipe(args.preset, recipe_name, image_shape=shape, **changes)
            trainer = CourseTrainer(train, args.preset, seed, recipe=cfg, name=f"{name} s{seed}")
            z = np.random.default_rng(seed).standard_normal((len(holdout), trainer.noise_dim)).astype("float32")
            checkpoints = args.wgan_steps if recipe_name.startswith("wgan") else args.dcgan_steps
            done, wall, curve, chunk_ms = 0, 0.0, [], []
            for target in checkpoints:
                t0 = time.perf_counter()
                trainer.train(target - done)
                seconds = time.perf_counter() - t0
                if done:  # the first chunk includes building the graph
                    chunk_ms.append(1000 * seconds / (target - done))
                wall, done = wall + seconds, target
                fields, _, text = score(np.asarray(trainer.sample(z)))
                curve.append({"steps": done, "wall_s": round(wall, 1), **fields})
                print(f"  {trainer.name}: {done:>5} steps, {wall:5.0f} s: {text}", flush=True)
            row = {"name": name, "seed": seed, "recipe": recipe_name, "changes": changes, "curve": curve,
                   "ms_per_step": round(float(np.median(chunk_ms)), 1) if chunk_ms else None,
                   "final_fid": curve[-1]["fid"], "final_coverage": curve[-1]["coverage"],
                   "load": os.getloadavg()[0]}
            with out.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(f"== {name} seed {seed}: face FID {row['final_fid']}, coverage {row['final_coverage']}, "
                  f"{row['ms_per_step']} ms per generator step", flush=True)
    summary(out)
    return 0


def summary(path) -> None:
    """Per variant: face FID at each checkpoint (mean over seeds, each seed's value) and the cost of a step."""
    import numpy as np

    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    print("\n| variant | seeds | face FID at each checkpoint: mean (each seed) | coverage | ms per G step |")
    print("| --- | --- | --- | --- | --- |")
    for name in dict.fromkeys(r["name"] for r in rows):
        mine = [r for r in rows if r["name"] == name and "ms_per_step" in r]
        if not mine:
            continue
        cells = []
        for i, point in enumerate(mine[0]["curve"]):
            fids = [r["curve"][i]["fid"] for r in mine if len(r["curve"]) > i]
            cells.append(f"{point['steps']}: {np.mean(fids):.1f} ({', '.join(f'{f:.0f}' for f in fids)})")
        cov = np.mean([r["final_coverage"] for r in mine])
        ms = np.mean([r["ms_per_step"] for r in mine if r["ms_per_step"]])
        print(f"| {name} | {len(mine)} | {'; '.join(cells)} | {cov:.2f} | {ms:.0f} |")


if __name__ == "__main__":
    raise SystemExit(main())
