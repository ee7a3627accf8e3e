"""Command line: ``python -m gan_course train`` trains the DCGAN on MNIST (the course's main job).

Outputs go to ``outputs/dcgan_mnist/`` (or ``--out``): ``samples.png`` (a fixed-noise grid),
``losses.png``, ``training.gif``, ``metrics.json``, the saved ``generator.keras`` and
``discriminator.keras``, and a ``backup/`` that lets an interrupted run resume.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import shutil
import sys
import time
from pathlib import Path

from gan_course.presets import ENV_VAR, PRESETS, get_preset

__all__ = ["main", "train_mnist_dcgan"]


def _read_history(csv_path: Path) -> dict[str, list[float]]:
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    # CSVLogger also writes empty "val_*" columns as NA; keep the columns that have numbers.
    # A run stopped after logging an epoch but before backing it up trains that epoch again
    # when it resumes: keep the last row of each epoch.
    rows = list({row["epoch"]: row for row in rows}.values())
    keys = [k for k in (rows[0] if rows else {}) if k != "epoch" and rows[0][k] != "NA"]
    return {k: [float(r[k]) for r in rows] for k in keys}


RECIPE_FILE = "recipe.json"  # in the backup folder: which recipe made that backup


def check_backup_recipe(backup: Path, recipe: dict) -> None:
    """Refuse to resume ``backup`` with a different recipe (epochs aside): its weights would not
    fit, or would fit a model trained differently. Records the recipe in ``backup/recipe.json``.

    Raises:
        paths.OutputFolderError: naming both recipes and the two ways out; nothing is deleted.
    """
    from gan_course import paths
    from gan_course.config import RunConfig

    ignored = ("epochs", "eval_samples")  # more epochs continue a run; scoring does not change its weights
    wanted = {k: v for k, v in recipe.items() if k not in ignored}
    # A recipe.json from before a field existed: that field was at its default (off) in that run.
    defaults = RunConfig().as_dict()
    record = backup / RECIPE_FILE
    has_backup = backup.is_dir() and any(p.name != RECIPE_FILE for p in backup.iterdir())
    if has_backup:
        saved = json.loads(record.read_text()) if record.is_file() else None
        saved = {k: v for k, v in {**defaults, **saved}.items() if k not in ignored} if saved else None
        if saved != wanted:
            made_by = f"recipe {saved}" if saved else "an older version of the course (before recipes)"
            raise paths.OutputFolderError(
                2, f"{backup} holds a run made by {made_by}, not by recipe {wanted}: resuming it would load weights "
                   f"that do not belong to this model. Start over with --fresh (deletes that run), or keep it and "
                   f"train into another folder with --out.")
    backup.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(recipe, indent=2))


def train_mnist_dcgan(preset_name=None, out=None, epochs=None, seed=0, offline=False, fresh=False, verbose=1,
                      strategy="default", recipe_name="fast", placement=None):
    """Train the lesson-01 DCGAN on MNIST and write its pictures and numbers; return metrics.

    ``recipe_name`` is ``"fast"`` (the default: ``gan_course.recipes``) or ``"dcgan2015"`` (the
    paper's settings at the preset's sizes).

    ``placement`` puts the run on devices: ``cluster.OneProcess`` (the default: one process,
    TensorFlow's default device) or ``gan_course.speed.distributed``, which ``python -m gan_course``
    passes for ``--strategy mirrored`` or ``multiworker``; ``strategy`` is the name its
    ``make_strategy`` takes. With ``"multiworker"`` every machine runs this with its own
    ``TF_CONFIG``; the global batch stays the preset's, each worker reads its slice of every batch,
    and only the chief writes to ``out`` (the others keep their backup in a temporary folder and
    return an empty dict).
    """
    import os

    if offline:
        os.environ["GAN_COURSE_OFFLINE"] = "1"
    import keras
    import numpy as np

    from gan_course import callbacks, cluster, data, paths, plotting, recipes, saving

    place = placement or cluster.OneProcess
    strategy = place.make_strategy(strategy)  # first: a cluster starts before any tensor exists
    worker = place.worker_info()
    preset = get_preset(preset_name)
    # The recipe: sizes, learning rate, EMA (gan_course.recipes: what each change is worth).
    r = recipes.recipe(preset, recipe_name, seed=seed, **({} if epochs is None else {"epochs": epochs}))
    out = Path(out) if out else paths.outputs_dir("dcgan_mnist")
    if fresh and worker.is_chief and out.exists():
        for item in out.iterdir():  # everything but the lock that main() holds on this folder
            if item.name != paths.LOCK_NAME:
                shutil.rmtree(item) if item.is_dir() and not item.is_symlink() else item.unlink()
    elif fresh and not worker.is_chief:  # only the chief writes to out; this worker's backup is elsewhere
        shutil.rmtree(place.backup_dir(out, worker), ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    check_backup_recipe(place.backup_dir(out, worker), r.as_dict())
    print(f"Preset '{preset.name}': {preset.description}\nRecipe '{r.name}': width {r.width}, batch {r.batch_size}, "
          f"Adam({r.learning_rate:g}, beta_1={r.beta_1:g}), D dropout {r.dropout:g}, "
          f"R1 {f'gamma {r.r1_gamma:g} every {r.r1_every} D steps' if r.r1_gamma else 'off'}, "
          f"generator EMA {r.ema if r.ema else 'off'}")

    keras.utils.set_random_seed(seed)
    mnist = data.load_mnist("train", max_images=preset.max_images, preset=preset)
    # The global batch: under a strategy each replica (and each worker) trains on its slice.
    dataset = place.shard_batches(
        strategy, lambda: data.make_dataset(mnist.images, r.batch_size, seed=seed), r.batch_size
    )
    if worker.count > 1:
        print(f"Worker {worker.rank} of {worker.count}{' (the chief: it writes the outputs)' if worker.is_chief else ''}; "
              f"{strategy.num_replicas_in_sync} replicas share each batch of {r.batch_size}")
    with strategy.scope():  # models and optimizers are created once per replica
        gan = recipes.build_dcgan(r, seed=seed, precision=preset.precision)
    place.average_logs_across_workers(gan)
    policy = gan.generator.dtype_policy.name
    if policy != "float32":
        print(f"Mixed precision: {policy} (weights, outputs and losses stay float32)")
    fixed_noise = np.random.default_rng(seed).standard_normal((preset.grid_size**2, r.latent_dim)).astype("float32")
    monitor = callbacks.GANMonitor(fixed_noise, out / "grids")
    history_csv = out / "history.csv"
    backup = place.backup_callback(out)  # out/backup; other workers: their own temporary folder
    print(f"Training for {r.epochs} epochs of {len(mnist):,} images (batch {r.batch_size}); "
          f"interrupt any time, rerun the same command to resume.")
    start = time.perf_counter()
    gan.fit(
        dataset,
        epochs=r.epochs,
        verbose=verbose,
        # The epoch's row is logged before its backup: a run stopped in between repeats the epoch
        # (and _read_history keeps the repeat) rather than losing its row.
        callbacks=[callbacks.StopOnNaN(backup.backup_dir), monitor]
        + ([keras.callbacks.CSVLogger(history_csv, append=True)] if worker.is_chief else [])
        + [backup],
    )
    seconds = time.perf_counter() - start
    if not worker.is_chief:
        print(f"\nWorker {worker.rank} of {worker.count}: done. The chief (worker 0) writes the pictures, metrics "
              f"and models to its {out}; this worker's backup is in {backup.backup_dir}.")
        return {}

    samples = keras.ops.convert_to_numpy(gan.sampling_generator(fixed_noise, training=False))  # EMA when on
    plotting.save_image_grid(samples, out / "samples.png", ncols=preset.grid_size)
    history = _read_history(history_csv) if history_csv.exists() else {}
    if history:
        import matplotlib

        matplotlib.use("Agg")
        plotting.plot_losses(history, out / "losses.png")
    frames = sorted((out / "grids").glob("epoch_*.png"))
    if frames:
        plotting.make_gif(frames, out / "training.gif")
    saving.save_gan(gan, out)

    from gan_course import metrics as gan_metrics

    test = data.load_mnist("test", source=mnist.source, verbose=False)
    scores = gan_metrics.score_generator(gan.sampling_generator, test.images, n=min(preset.eval_samples, len(test)),
                                         seed=seed)
    print(f"\nScores against {len(test):,} held-out test digits: {scores}")
    reference = gan_metrics.reference_values()
    real_ref, untrained_ref = reference["real_vs_real"], reference["untrained_generator"]
    print(f"Anchors, n={real_ref['n_samples']} vs the same {real_ref['n_real']:,} held-out digits: "
          f"real training digits FID {real_ref['fid']:.1f}, untrained generator FID {untrained_ref['fid']:.1f}")
    if (scores.n_samples, scores.n_real) != (real_ref["n_samples"], real_ref["n_real"]):
        print(f"(not comparable: this run scored n={scores.n_samples} against {scores.n_real:,} digits)")

    metrics = {
        "preset": preset.name,
        "data_source": mnist.source,
        "train_images": len(mnist),
        "epochs": len(history.get("d_loss", [])),
        "recipe": r.as_dict(),
        "batch_size": r.batch_size,
        "latent_dim": r.latent_dim,
        "width": r.width,
        "seed": seed,
        "train_seconds_this_run": round(seconds, 1),
        "final": {k: v[-1] for k, v in history.items()},
        "scores": scores.as_dict(),
        "reference": {k: reference[k] for k in ("real_vs_real", "untrained_generator")},
        "history": history,
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"\nWrote {out}/samples.png, losses.png, training.gif, metrics.json, generator.keras")
    return metrics


def main(argv=None, several_devices=None) -> int:
    """The command line. ``several_devices()`` returns the placement for ``--strategy mirrored`` and
    ``multiworker`` (``gan_course.speed.distributed``): ``python -m gan_course`` and the ``gan-course``
    command (``gan_course.__main__``) pass it, so this core module never imports ``gan_course.speed``;
    without it only ``--strategy default`` runs."""
    parser = argparse.ArgumentParser(prog="python -m gan_course", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train the DCGAN on MNIST")
    train.add_argument("--preset", help=f"one of {', '.join(PRESETS)} (default: ${ENV_VAR} or cpu)")
    train.add_argument("--epochs", type=int, help="override the recipe's epochs")
    train.add_argument("--recipe", choices=("fast", "dcgan2015"), default="fast",
                       help="fast (default): the course's measured recipe; dcgan2015: the paper's settings")
    train.add_argument("--out", help="output folder (default: outputs/dcgan_mnist)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--offline", action="store_true", help="never touch the network")
    train.add_argument("--fresh", action="store_true", help="delete earlier outputs and backup first")
    train.add_argument("--strategy", choices=("default", "mirrored", "multiworker"), default="default",
                       help="default: one device; mirrored: every local GPU; multiworker: one of several "
                            "machines, described by TF_CONFIG (README: 'Several GPUs or machines')")
    args = parser.parse_args(argv)

    if args.command == "train":
        try:
            get_preset(args.preset)  # a bad name fails before TensorFlow loads
        except ValueError as err:
            parser.error(str(err))
        if args.strategy != "default" and several_devices is None:
            parser.error(f"--strategy {args.strategy} trains on several devices (gan_course.speed.distributed): "
                         f"run python -m gan_course train --strategy {args.strategy}")
        from gan_course import paths

        try:  # before TensorFlow loads: an unwritable folder or a second run on it stops here, named
            out = paths.check_writable(args.out or paths.outputs_dir("dcgan_mnist"), min_free_mb=50)
            # One run per folder (multiworker runs share --out across machines: their chief owns it).
            lock = paths.lock_folder(out) if args.strategy != "multiworker" else contextlib.nullcontext()
            with lock:
                train_mnist_dcgan(args.preset, str(out), args.epochs, args.seed, args.offline, args.fresh,
                                  verbose=1 if sys.stdout.isatty() else 2, strategy=args.strategy,
                                  recipe_name=args.recipe,
                                  placement=several_devices() if args.strategy != "default" else None)
        except paths.OutputFolderError as err:
            print(f"python -m gan_course train: {err}", file=sys.stderr)
            return 1
        print("\nNext: open the lessons with\n    .venv/bin/jupyter lab notebooks/\n"
              "(or `make lab`), starting with 01_dcgan_mnist.ipynb.")
    return 0
