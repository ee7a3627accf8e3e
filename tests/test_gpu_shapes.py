"""Every lesson at the gpu preset's shapes, on a CPU (issue: the gpu preset proven without a GPU).

nbval executes every lesson in ``make test`` (and so in CI) with ``GAN_COURSE_PRESET=gpu
GAN_COURSE_STEP_CAP=1``: the root ``conftest.py`` starts each notebook's kernel that way. Every size
the gpu preset sets stays (full-size images, widths, latent sizes, batch sizes); every training loop
runs one step, every pass over a pipeline one batch, every set at most ``presets.CAPPED_COUNT``
examples (see ``gan_course.presets``). A lesson that builds, trains, saves, loads or plots something
the gpu path shapes differently from the cpu path fails there, in a minute, instead of after ten
minutes on a student's GPU. ``make test-gpu-shapes`` runs only the notebooks.

This file checks the mechanism itself: a notebook run by nbval from this checkout really gets the
gpu preset under the cap, and the override variables work.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
PROBE = "import os\nprint(os.environ.get('GAN_COURSE_PRESET'), os.environ.get('GAN_COURSE_STEP_CAP'))"


def _nbval(expected: str, tmp_name: str, **env) -> subprocess.CompletedProcess:
    """nbval on a one-cell notebook under this checkout that prints its kernel's preset and cap and
    compares the print with ``expected``."""
    folder = ROOT / "build" / "test-artefacts" / "nbval-probe"  # under the root conftest, outside notebooks/
    folder.mkdir(parents=True, exist_ok=True)
    cell = nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\n" + PROBE, execution_count=1,
                                     outputs=[nbformat.v4.new_output("stream", name="stdout", text=expected + "\n")])
    path = folder / f"{tmp_name}.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    run_env = {**os.environ, "GAN_COURSE_PRESET": "smoke", **env}
    run_env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=--nbval-lax",
                           str(path.relative_to(ROOT))], cwd=ROOT, env=run_env, capture_output=True, text=True,
                          timeout=300)


def test_nbval_kernels_run_at_the_gpu_preset_capped_to_one_step():
    run = _nbval("gpu 1", "default")
    assert run.returncode == 0, run.stdout[-2000:]
    wrong = _nbval("smoke None", "default_wrong")  # the probe can fail: the comparison is real
    assert wrong.returncode != 0 and "gpu 1" in wrong.stdout


def test_the_notebook_preset_and_cap_can_be_chosen():
    run = _nbval("smoke None", "override", GAN_COURSE_NOTEBOOK_PRESET="smoke", GAN_COURSE_NOTEBOOK_STEP_CAP="")
    assert run.returncode == 0, run.stdout[-2000:]


def test_a_lesson_under_nbval_writes_its_runs_outside_the_student_s_outputs():
    """``make test-gpu-shapes`` runs nbval without tests/conftest.py: the root conftest alone must
    send the lessons' runs, caches and models to a temporary folder, never over a student's
    trained models in ``outputs/``."""
    probe = ("import os\nfrom gan_course import paths\n"
             f"print(paths.outputs_dir('probe').resolve().is_relative_to({str(ROOT)!r}))")
    folder = ROOT / "build" / "test-artefacts" / "nbval-probe"
    folder.mkdir(parents=True, exist_ok=True)
    cell = nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\n" + probe, execution_count=1,
                                     outputs=[nbformat.v4.new_output("stream", name="stdout", text="False\n")])
    path = folder / "outputs_probe.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    env = {k: v for k, v in os.environ.items() if k not in ("GAN_COURSE_OUTPUTS", "PYTEST_XDIST_WORKER")}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=--nbval-lax",
                          str(path.relative_to(ROOT))], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:]
