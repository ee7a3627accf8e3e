"""Two worker processes against one process: ``python -m gan_course.bench.multiworker``.

Trains the MNIST DCGAN with the same global batch in two set-ups, in alternating rounds in
this run, and reports the ratio of their throughputs (images per second):

- **one process** (TensorFlow's default strategy) with every CPU thread of the machine;
- **two workers** (``MultiWorkerMirroredStrategy``, the path of ``--strategy multiworker``)
  started here on 127.0.0.1, each with half the threads, each training on half of every batch
  and exchanging the gradients over gRPC after every step.

Both set-ups get the same CPUs, so on one machine the ratio is below 1: the workers compute
the same maths and add the exchange of every gradient (and the synchronised batch norm) on
top. The benchmark shows that the multi-worker path runs and what its communication costs
here; several *machines* gain because each brings its own CPUs or GPUs, which one machine
cannot show. Step times are measured inside each process after a warm-up, so process start,
cluster start and tracing are not counted.

Prints a table and writes ``outputs/bench/multiworker.json``. With ``--worker`` it is one
process of a run (what the benchmark starts; not meant to be called by hand).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["compare", "main", "time_setup"]


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (all held open together, so none repeats)."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _worker(args) -> dict:
    """One process of a run: train ``warmup + steps`` steps, time the last ``steps``."""
    import keras
    import numpy as np

    from gan_course import data, models, training
    from gan_course.speed import distributed

    strategy = distributed.make_strategy(args.strategy)
    keras.utils.set_random_seed(0)
    images = data.load_mnist("train", max_images=args.batch_size * 8, verbose=False).images
    with strategy.scope():
        gan = training.DCGAN(models.dcgan_generator(args.latent_dim, images.shape[1:], width=args.width),
                             models.dcgan_discriminator(images.shape[1:], width=args.width), seed=0)
        gan.compile()
    distributed.average_logs_across_workers(gan)
    dataset = distributed.shard_batches(
        strategy, lambda: data.make_dataset(images, args.batch_size, seed=0).repeat(), args.batch_size
    )

    class Clock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_train_batch_end(self, batch, logs=None):
            float(logs["d_loss"])  # wait for the step to finish before reading the clock
            self.times.append(time.perf_counter())

    clock = Clock()
    gan.fit(dataset, epochs=1, steps_per_epoch=args.warmup + args.steps, verbose=0, callbacks=[clock])
    timed = np.diff(clock.times[args.warmup - 1 :])
    worker = distributed.worker_info()
    return {"rank": worker.rank, "workers": worker.count, "replicas": strategy.num_replicas_in_sync,
            "step_s": float(np.median(timed)), "steps": len(timed)}


def _env(threads, tf_config=None):
    env = dict(os.environ, GAN_COURSE_OFFLINE="1", CUDA_VISIBLE_DEVICES="", TF_NUM_INTRAOP_THREADS=str(threads),
               TF_NUM_INTEROP_THREADS="1", OMP_NUM_THREADS=str(threads), TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("TF_CONFIG", None)
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    return env


def time_setup(workers, threads, batch_size=64, width=64, latent_dim=64, steps=20, warmup=3, timeout=600) -> dict:
    """Start ``workers`` processes (1: one process, default strategy; 2+: a cluster on 127.0.0.1),
    each with ``threads`` CPU threads; return the chief's median step time and the images/s.

    Every process is killed if the run fails or exceeds ``timeout`` seconds.
    """
    args = [sys.executable, "-m", "gan_course.bench.multiworker", "--worker", "--batch-size", str(batch_size),
            "--width", str(width), "--latent-dim", str(latent_dim), "--steps", str(steps), "--warmup", str(warmup)]
    if workers == 1:
        commands = [(args + ["--strategy", "default"], _env(threads))]
    else:
        cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(workers)]}
        commands = [(args + ["--strategy", "multiworker"],
                     _env(threads, {"cluster": cluster, "task": {"type": "worker", "index": rank}}))
                    for rank in range(workers)]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for cmd, env in commands]
    try:
        outputs = [proc.communicate(timeout=timeout) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for proc, (out, err) in zip(procs, outputs):
        if proc.returncode != 0:
            raise RuntimeError(f"A benchmark process exited with {proc.returncode}:\n{err[-3000:]}")
    chief = json.loads(outputs[0][0].strip().splitlines()[-1])
    chief["images_per_s"] = batch_size / chief["step_s"]
    chief["threads_per_process"] = threads
    return chief


def compare(rounds=2, threads=None, **sizes) -> dict:
    """One process against two workers on the same CPUs, in alternating rounds; the ratio of
    their median throughputs (above 1: the two workers train faster)."""
    threads = threads or os.cpu_count() or 2
    per_worker = max(1, threads // 2)
    runs = {"one_process": [], "two_workers": []}
    for r in range(rounds):
        order = [("one_process", 1, threads), ("two_workers", 2, per_worker)]
        for name, workers, t in order if r % 2 == 0 else order[::-1]:
            runs[name].append(time_setup(workers, t, **sizes))
    one = statistics.median(run["images_per_s"] for run in runs["one_process"])
    two = statistics.median(run["images_per_s"] for run in runs["two_workers"])
    return {
        "cpus": os.cpu_count(),
        "threads": {"one_process": threads, "each_worker": per_worker},
        "sizes": sizes,
        "rounds": rounds,
        "one_process_images_per_s": one,
        "two_workers_images_per_s": two,
        "two_workers_over_one_process": two / one,
        "runs": runs,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gan_course.bench.multiworker", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of each set-up")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per run (after the warm-up)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64, help="global batch, the same in both set-ups")
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--latent-dim", type=int, default=64)
    parser.add_argument("--threads", type=int, help="CPU threads in all (default: every CPU)")
    parser.add_argument("--out", help="JSON path (default outputs/bench/multiworker.json)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--strategy", default="default", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.warmup < 1:
        parser.error("--warmup must be at least 1 (the first step traces the graph)")
    if args.worker:
        print(json.dumps(_worker(args)))
        return 0

    from gan_course import paths

    sizes = {"batch_size": args.batch_size, "width": args.width, "latent_dim": args.latent_dim, "steps": args.steps,
                 "warmup": args.warmup}
    result = compare(rounds=args.rounds, threads=args.threads, **sizes)
    print(f"DCGAN, global batch {args.batch_size}, width {args.width}, {result['cpus']} CPUs, {args.rounds} rounds")
    print(f"  one process   ({result['threads']['one_process']} threads):       "
          f"{result['one_process_images_per_s']:8.0f} images/s")
    print(f"  two workers   ({result['threads']['each_worker']} thread(s) each):   "
          f"{result['two_workers_images_per_s']:8.0f} images/s")
    ratio = result["two_workers_over_one_process"]
    print(f"  two workers / one process: {ratio:.2f}x"
          + (" (below 1: the same CPUs, plus exchanging every gradient)" if ratio < 1 else ""))
    out = Path(args.out) if args.out else paths.outputs_dir("bench") / "multiworker.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"Wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
