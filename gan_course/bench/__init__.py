"""Benchmark of the MNIST DCGAN: ``python -m gan_course.bench``.

Prints, and writes as JSON (default ``outputs/bench/bench.json``):

- **throughput** (images/s) of the package's ``DCGAN.train_step`` (through Keras' own compiled
  train function, as ``fit`` runs it) against a reference loop written in the plain style of
  the TensorFlow DCGAN tutorial (one ``tf.function``, two tapes), with the same architecture,
  batch and data, measured in alternating rounds in one process; reported as a ratio;
- **GFLOP/s** achieved by the package's step, from the FLOP count of its traced graph;
- **time to quality** (``gan_course.bench.quality``): wall and CPU seconds of training until
  the samples reach a classifier FID of at most 30 with all ten digits (1,000 samples against
  the held-out test digits), for the course's recipe and for the TensorFlow tutorial's own
  code (its networks, optimizers and batch) on the same digits, and their ratio;
- **peak memory** (maximum resident set size of the process);
- **speed-ups**, each as a ratio of two variants timed in alternating rounds in this run:
  mixed precision against float32 (at a width where the convolutions dominate), XLA
  (``jit_compile``) against the default graph, two logical CPU devices (``MirroredStrategy``)
  against one, and images decoded from a folder of PNGs against tensors already in memory
  (the input pipeline must not starve the step);
- **time to quality in mixed precision** next to float32 (the course's recipe at a wider width).

Timings are only compared within one run, as ratios; absolute numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import resource
import statistics
import time
from pathlib import Path

from gan_course.bench.reference import reference_train_step

__all__ = [
    "reference_train_step",
    "measure_throughput",
    "alternate",
    "compare_precision",
    "compare_xla",
    "compare_input_pipeline",
    "compare_devices",
    "train_step_flops",
    "main",
]

IMAGE_SHAPE = (28, 28, 1)


def _build(latent_dim, width, seed, policy="float32"):
    import keras

    from gan_course import models
    from gan_course import precision

    keras.utils.set_random_seed(seed)
    with precision.precision(policy):
        return (
            models.dcgan_generator(latent_dim, IMAGE_SHAPE, width=width),
            models.dcgan_discriminator(IMAGE_SHAPE, width=width),
        )


def _package_step(latent_dim, width, seed, policy="float32", jit_compile=False, strategy=None):
    from gan_course import training

    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        g, d = _build(latent_dim, width, seed, policy)
        gan = training.DCGAN(g, d, seed=seed)
        gan.compile(jit_compile=jit_compile)
    gan.make_train_function()  # the compiled function fit() calls for each step
    return gan, gan.train_function


def _block(out):
    return [float(v) for v in (out.values() if isinstance(out, dict) else out)]


def alternate(steps_by_name: dict, steps=20, rounds=5) -> dict:
    """Median seconds per step of each zero-argument step function, timed in alternating rounds
    (A, B, A, B, ...) after one warm-up call each, so that slow drifts of the machine's load hit
    every variant alike."""
    for run in steps_by_name.values():
        _block(run())  # trace and warm up
    times = {name: [] for name in steps_by_name}
    for _ in range(rounds):
        for name, run in steps_by_name.items():
            start = time.perf_counter()
            for _ in range(steps):
                out = run()
            _block(out)  # wait for the last step
            times[name].append((time.perf_counter() - start) / steps)
    return {name: statistics.median(t) for name, t in times.items()}


def _ratio(baseline_name, variant_name, seconds, batch_size, **extra):
    """Speed-up of ``variant`` over ``baseline`` (> 1: the variant is faster)."""
    base, variant = seconds[baseline_name], seconds[variant_name]
    return {
        f"{baseline_name}_step_ms": 1000 * base,
        f"{variant_name}_step_ms": 1000 * variant,
        f"{baseline_name}_images_per_s": batch_size / base,
        f"{variant_name}_images_per_s": batch_size / variant,
        "speedup": base / variant,
        **extra,
    }


def compare_precision(images, policy, batch_size=64, latent_dim=64, width=128, steps=20, rounds=5, seed=0):
    """float32 against ``policy`` (e.g. mixed_bfloat16) for the package's step."""
    from gan_course import data

    dataset = data.make_dataset(images, batch_size, seed=seed).repeat()
    _, fp32 = _package_step(latent_dim, width, seed)
    _, mixed = _package_step(latent_dim, width, seed, policy=policy)
    it32, it16 = iter(dataset), iter(dataset)
    seconds = alternate({"float32": lambda: fp32(it32), policy: lambda: mixed(it16)}, steps, rounds)
    return _ratio("float32", policy, seconds, batch_size, width=width, policy=policy)


def compare_xla(images, batch_size=64, latent_dim=64, width=64, steps=20, rounds=5, seed=0):
    """The package's step as a TensorFlow graph (default) against XLA-compiled (jit_compile)."""
    from gan_course import data

    dataset = data.make_dataset(images, batch_size, seed=seed).repeat()
    _, graph = _package_step(latent_dim, width, seed)
    _, xla = _package_step(latent_dim, width, seed, jit_compile=True)
    it_graph, it_xla = iter(dataset), iter(dataset)
    seconds = alternate({"graph": lambda: graph(it_graph), "xla": lambda: xla(it_xla)}, steps, rounds)
    return _ratio("graph", "xla", seconds, batch_size, width=width)


def _digits_as_pngs(images, folder):
    """The training digits written once as PNG files, to time a real decode-from-disk pipeline."""
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    done = folder / ".complete"
    if done.exists() and done.read_text() == str(len(images)):
        return folder
    pixels = np.clip((images[..., 0] + 1) * 127.5, 0, 255).astype("uint8")
    for i, digit in enumerate(pixels):
        Image.fromarray(digit, mode="L").save(folder / f"{i:05d}.png")
    done.write_text(str(len(images)))
    return folder


def compare_input_pipeline(images, batch_size=64, latent_dim=64, width=64, steps=20, rounds=5, seed=0):
    """The same step fed from a folder of PNGs (parallel decode, cache, prefetch; what the
    image-folder lessons use) against tensors already in memory. A speed-up near 1 means the
    pipeline keeps up with the step. The first pass over the folder decodes every file; the
    timed rounds then come from the pipeline's cache, as every epoch after the first does."""
    from gan_course import data, paths

    folder = _digits_as_pngs(images, paths.cache_dir("bench_mnist_png"))
    from_folder = data.load_image_folder(folder, 28, "grayscale", batch_size, seed=seed).repeat()
    in_memory = data.make_dataset(images, batch_size, seed=seed).repeat()
    _, step_folder = _package_step(latent_dim, width, seed)
    _, step_memory = _package_step(latent_dim, width, seed)
    it_folder, it_memory = iter(from_folder), iter(in_memory)
    for _ in range(len(images) // batch_size):  # fill the cache: the first epoch decodes
        next(it_folder)
    seconds = alternate({"in_memory": lambda: step_memory(it_memory), "folder": lambda: step_folder(it_folder)},
                        steps, rounds)
    return _ratio("in_memory", "folder", seconds, batch_size, width=width)


def compare_devices(images, batch_size=64, latent_dim=64, width=64, steps=20, rounds=5, seed=0):
    """One device against two logical CPU devices under ``MirroredStrategy``, same global batch.

    On one physical CPU both replicas share the same cores, so expect no speed-up: this
    measures the cost of the strategy's machinery (splitting, all-reduce), which is what
    remains when the replicas are real GPUs."""
    import tensorflow as tf

    from gan_course import data

    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    if len(devices) < 2:
        return {"skipped": "needs two logical CPU devices, set up before TensorFlow starts "
                           "(python -m gan_course.bench does it)"}
    dataset = data.make_dataset(images, batch_size, seed=seed).repeat()
    one = tf.distribute.OneDeviceStrategy(devices[0])
    two = tf.distribute.MirroredStrategy(devices[:2])
    _, step_one = _package_step(latent_dim, width, seed, strategy=one)
    _, step_two = _package_step(latent_dim, width, seed, strategy=two)
    it_one = iter(one.experimental_distribute_dataset(dataset))
    it_two = iter(two.experimental_distribute_dataset(dataset))
    seconds = alternate({"one_device": lambda: step_one(it_one), "two_devices": lambda: step_two(it_two)},
                        steps, rounds)
    return _ratio("one_device", "two_devices", seconds, batch_size, width=width, devices=devices[:2])


def measure_throughput(images, batch_size=64, latent_dim=64, width=64, steps=20, rounds=5, seed=0):
    """Images/s of the package's step (its default update order, and the other order) and of the
    reference step, measured in alternating rounds.

    The reference is the TF tutorial's code: its loop (``reference_train_step``) on the same
    networks, built from Keras' stock layers like the course's. It moves both players at once;
    the package's default lets D move first and judges G with the updated D, which costs one
    more D forward pass per step. So three ratios over the reference: the package's default
    step, the package's step in the reference's own order, and the reference loop on the opt-in
    fast layers (``gan_course.speed.fast_layers.use_fast_layers``: what they alone are worth)."""
    from gan_course import data, training

    dataset = data.make_dataset(images, batch_size, seed=seed).repeat()
    gan, package_fn = _package_step(latent_dim, width, seed)
    other = "simultaneous" if gan.update_order != "simultaneous" else "alternating"
    g, d = _build(latent_dim, width, seed)
    other_gan = training.DCGAN(g, d, seed=seed, update=other)
    other_gan.compile()
    other_gan.make_train_function()
    from gan_course.speed import fast_layers

    g, d = _build(latent_dim, width, seed)
    reference_fn = reference_train_step(g, d, latent_dim, batch_size)
    fast_layers_fn = reference_train_step(fast_layers.use_fast_layers(g), fast_layers.use_fast_layers(d),
                                            latent_dim, batch_size)

    package_iter, other_iter, reference_iter, fast_iter = (iter(dataset) for _ in range(4))
    seconds = alternate(
        {
            "package": lambda: package_fn(package_iter),
            other: lambda: other_gan.train_function(other_iter),
            "reference": lambda: reference_fn(next(reference_iter)),
            "fast_layers": lambda: fast_layers_fn(next(fast_iter)),
        },
        steps,
        rounds,
    )
    package_s, other_s, reference_s = seconds["package"], seconds[other], seconds["reference"]
    fast_layers_s = seconds["fast_layers"]
    return {
        "batch_size": batch_size,
        "steps_per_round": steps,
        "rounds": rounds,
        "package_update": gan.update_order,
        "package_images_per_s": batch_size / package_s,
        "reference_images_per_s": batch_size / reference_s,
        "package_over_reference": reference_s / package_s,
        "package_step_ms": 1000 * package_s,
        "reference_step_ms": 1000 * reference_s,
        f"{other}_step_ms": 1000 * other_s,
        f"{other}_over_reference": reference_s / other_s,
        "fast_layers_step_ms": 1000 * fast_layers_s,
        "fast_layers_over_reference": reference_s / fast_layers_s,
        "_gan": gan,
    }


def train_step_flops(gan, batch_size) -> float:
    """FLOPs of one ``DCGAN.train_step`` on a batch, counted on its traced TensorFlow graph
    (TensorFlow's profiler: multiply-adds count 2, gradients included)."""
    import tensorflow as tf

    concrete = tf.function(gan.train_step).get_concrete_function(
        tf.TensorSpec((batch_size, *IMAGE_SHAPE), tf.float32)
    )
    profiler = tf.compat.v1.profiler  # TensorFlow's public (v1) profiler API
    options = profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return float(profiler.profile(concrete.graph, options=options).total_float_ops)


def _peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gan_course.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="JSON path (default outputs/bench/bench.json)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--latent-dim", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20, help="steps per timing round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--fid-threshold", type=float, default=None,
                        help="time-to-quality target: classifier FID at most this, with all ten digits (default 30)")
    parser.add_argument("--max-seconds", type=float, default=600.0,
                        help="training time allowed to each time-to-quality run (default 600)")
    parser.add_argument("--quality-preset", default="cpu", help="preset of the course's recipe in the race (default cpu)")
    parser.add_argument("--course-chunk", type=int, default=250, help="course steps between two scorings")
    parser.add_argument("--tutorial-chunk", type=int, default=25, help="tutorial steps between two scorings")
    parser.add_argument("--skip-quality", action="store_true", help="no training to a quality target")
    parser.add_argument("--skip-speedups", action="store_true",
                        help="no precision / XLA / devices / input-pipeline comparisons")
    parser.add_argument("--precision-width", type=int, default=128,
                        help="width for the mixed-precision comparison (default 128, the gpu preset's)")
    parser.add_argument("--precision", default="auto",
                        help="16-bit policy to compare with float32 (default: what this machine supports)")
    parser.add_argument("--skip-devices", action="store_true",
                        help="leave the CPU as one device (no one-vs-two-devices comparison)")
    args = parser.parse_args(argv)

    import os

    os.environ.setdefault("GAN_COURSE_OFFLINE", "1")  # a benchmark must not wait on a download
    from gan_course.speed import distributed

    if not args.skip_devices and not args.skip_speedups:
        try:  # before TensorFlow starts: two logical CPUs for the one-vs-two-devices ratio
            distributed.use_logical_cpus(2)
        except RuntimeError:
            pass  # TensorFlow already started in this process: that comparison reports it skipped
    import keras
    import tensorflow as tf

    from gan_course import data, paths
    from gan_course import precision
    from gan_course.training import UPDATES

    train = data.load_mnist("train", verbose=False)
    test = data.load_mnist("test", verbose=False)
    result = {
        "machine": {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count(),
                    "tensorflow": tf.__version__, "keras": keras.__version__},
        "data": {"source": train.source, "train_images": len(train)},
        "settings": {"batch_size": args.batch_size, "width": args.width, "latent_dim": args.latent_dim,
                     "steps": args.steps, "rounds": args.rounds, "precision_width": args.precision_width},
    }
    print(f"Throughput: {args.rounds} alternating rounds of {args.steps} steps, batch {args.batch_size} ...")
    throughput = measure_throughput(train.images, args.batch_size, args.latent_dim, args.width, args.steps,
                                    args.rounds)
    gan = throughput.pop("_gan")
    flops = train_step_flops(gan, args.batch_size)
    result["throughput"] = throughput
    result["flops"] = {"per_step_gflop": flops / 1e9,
                       "package_gflop_per_s": flops / 1e9 / (throughput["package_step_ms"] / 1000)}

    policy = precision.resolve_policy(args.precision)
    common = dict(batch_size=args.batch_size, latent_dim=args.latent_dim, steps=args.steps, rounds=args.rounds)
    if not args.skip_speedups:
        speedups = result["speedups"] = {}
        if policy == "float32":
            speedups["mixed_precision"] = {"skipped": "no 16-bit policy with native support on this machine"}
        else:
            print(f"Speed-up: {policy} vs float32 at width {args.precision_width} ...")
            speedups["mixed_precision"] = compare_precision(train.images, policy, width=args.precision_width,
                                                            **common)
        print("Speed-up: XLA (jit_compile) vs graph ...")
        speedups["xla"] = compare_xla(train.images, width=args.width, **common)
        if args.skip_devices:
            speedups["two_devices"] = {"skipped": "--skip-devices"}
        else:
            print("Speed-up: two logical devices vs one ...")
            speedups["two_devices"] = compare_devices(train.images, width=args.width, **common)
        print("Input pipeline: PNG folder vs in-memory tensors ...")
        speedups["input_pipeline"] = compare_input_pipeline(train.images, width=args.width, **common)

    if not args.skip_quality:
        from gan_course.bench import quality

        target = args.fid_threshold or quality.QUALITY_FID
        print(f"Time to quality: the course's recipe, then the TF tutorial's code, until FID <= {target:g} "
              f"with all ten digits (at most {args.max_seconds:.0f} s each) ...")
        result["time_to_quality"] = quality.race(train.images, test.images, args.quality_preset, target,
                                                 args.max_seconds, args.course_chunk, args.tutorial_chunk)
        if not args.skip_speedups and policy != "float32":
            print(f"Time to quality of the course's recipe at width {args.precision_width}: float32, then {policy} ...")
            result["time_to_quality_precision"] = {
                name: dict(quality.time_to_quality(
                    quality.CourseTrainer(train.images, args.quality_preset, width=args.precision_width, precision=name),
                    test.images, target, args.course_chunk, args.max_seconds), width=args.precision_width)
                for name in ("float32", policy)
            }
    result["peak_memory_mb"] = _peak_memory_mb()

    out = Path(args.out) if args.out else paths.outputs_dir("bench") / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))

    t, f = result["throughput"], result["flops"]
    rows = [
        ("package train_step", f"{t['package_images_per_s']:,.0f} img/s", f"{t['package_step_ms']:.1f} ms/step"),
        ("reference (TF tutorial) step", f"{t['reference_images_per_s']:,.0f} img/s",
         f"{t['reference_step_ms']:.1f} ms/step"),
        ("ratio package / reference", f"{t['package_over_reference']:.2f}x",
         f"same run; package update order: {t['package_update']}"),
        *[(f"ratio package ({k.removesuffix('_over_reference')}) / reference", f"{v:.2f}x",
           f"{t[k.replace('_over_reference', '_step_ms')]:.1f} ms/step")
          for k, v in t.items() if k.endswith("_over_reference") and k in (f"{u}_over_reference" for u in UPDATES)],
        ("ratio reference loop on opt-in fast layers / reference", f"{t['fast_layers_over_reference']:.2f}x",
         f"{t['fast_layers_step_ms']:.1f} ms/step (gan_course.speed.fast_layers)"),
        ("FLOPs per step", f"{f['per_step_gflop']:.2f} GFLOP", f"{f['package_gflop_per_s']:.1f} GFLOP/s achieved"),
    ]
    if "time_to_quality" in result:
        from gan_course.bench import quality

        rows += [(line.strip(), "", "") for line in quality.summary_lines(result["time_to_quality"])]
    for name, r in result.get("speedups", {}).items():
        if "skipped" in r:
            rows.append((f"{name} speed-up", "skipped", r["skipped"]))
        else:
            base, variant = [k.removesuffix("_step_ms") for k in r if k.endswith("_step_ms")]
            rows.append((f"{name} speed-up", f"{r['speedup']:.2f}x",
                         f"{variant} {r[variant + '_step_ms']:.1f} ms vs {base} {r[base + '_step_ms']:.1f} ms"))
    for name, q in result.get("time_to_quality_precision", {}).items():
        status = f"after {q['steps']:,} steps" if q["reached"] else f"NOT reached in {q['steps']:,} steps"
        rows.append((f"time to quality, {name}, width {q['width']}",
                     f"{q['wall_s']:.0f} s wall / {q['cpu_s']:.0f} s CPU", status))
    rows.append(("peak memory (RSS)", f"{result['peak_memory_mb']:,.0f} MB", ""))
    width = max(len(r[0]) for r in rows)
    print()
    for name, a, b in rows:
        print(f"{name:<{width}}  {a:>22}  {b}")
    print(f"\nWrote {out}")
    return 0


