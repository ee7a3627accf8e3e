"""Quiet, honest logs: silence TensorFlow's known harmless lines at their source, never by filtering.

Nothing here runs at import. No function rewires standard error or starts a thread, so every line
a process writes reaches its terminal or notebook, a crash's last line included (an earlier filter
piped file descriptor 2 through a thread and lost exactly those lines).

TensorFlow's C++ runtime prints lines that are not errors of the course or of the student:

- ``remapper failed: ... LeakyReluGrad ... BiasAdd`` (an ERROR line, at most once per process,
  when a training step is first traced). Grappler's remapper pass fuses Conv2D + BiasAdd +
  LeakyReLU into one of oneDNN's kernels and gives up on a graph whose gradient still needs the
  BiasAdd's output (a TensorFlow bug); that graph then runs unfused, so training is unaffected.
  TensorFlow turns oneDNN's kernels on by itself only on CPUs with AVX-512's neural-network
  instructions (``TF_ENABLE_ONEDNN_OPTS=1`` turns them on elsewhere): other CPUs never print it. A WGAN
  critic's gradient penalty can show it (LeakyReLU straight after a biased Conv2D); the DCGAN
  discriminator and ``python -m gan_course train`` do not. ``quiet_tensorflow()`` turns the
  remapper off with TensorFlow's public ``tf.config.optimizer.set_experimental_options``, so the
  line is never written. The price is the fusions the remapper does succeed at, in every graph
  built afterwards (speed, and the last digits of results): a notebook that shows the line
  switches it off in its first code cell, ``from gan_course import logs; logs.quiet_tensorflow()``;
  nothing else does.
- Start-up lines. ``oneDNN custom operations are on`` and ``Could not find cuda drivers`` (INFO)
  are printed while TensorFlow loads, before it reads ``TF_CPP_MIN_LOG_LEVEL``, so no log level
  hides them; ``TF_ENABLE_ONEDNN_OPTS=0`` hides the first by turning oneDNN's kernels off (speed,
  and the last digits of results). ``failed call to cuInit`` (an ERROR, when TensorFlow first
  looks for a GPU on a machine without one) goes only with ``TF_CPP_MIN_LOG_LEVEL=3``, which hides
  every C++ error. So they stay. ``import gan_course`` sets ``TF_CPP_MIN_LOG_LEVEL=2`` as a
  default: TensorFlow's later C++ INFO and WARNING lines (the CPU-instructions note among them)
  stay out, its errors show.

Set ``GAN_COURSE_RAW_LOGS=1`` to see everything: ``quiet_tensorflow()`` then changes nothing.
"""

from __future__ import annotations

import os

__all__ = ["RAW_ENV", "raw_logs", "quiet_tensorflow"]

RAW_ENV = "GAN_COURSE_RAW_LOGS"


def raw_logs() -> bool:
    """True when ``GAN_COURSE_RAW_LOGS=1``: show every line, as TensorFlow prints it."""
    return os.environ.get(RAW_ENV, "").strip() == "1"


def quiet_tensorflow() -> bool:
    """Turn off TensorFlow's grappler remapper, the source of the "remapper failed" line.

    Call it before the first model trains: a training step traced earlier keeps the graph it was
    optimised with. It loads TensorFlow (an explicit call, never an import, does that), changes
    no file descriptor and starts no thread. Returns True when the remapper is now off, False
    when ``GAN_COURSE_RAW_LOGS=1`` asked for TensorFlow's own behaviour and logs.
    """
    if raw_logs():
        return False
    import tensorflow as tf

    tf.config.optimizer.set_experimental_options({"remapping": False})
    return True
