"""Every lesson at the gpu preset's shapes, for a few steps, on a CPU (issue: the gpu preset proven
without a GPU).

``GAN_COURSE_PRESET=gpu GAN_COURSE_STEP_CAP=2`` keeps every size the gpu preset sets (full-size
images, widths, latent sizes, batch sizes) and cuts every training loop to two steps and every set
to ``presets.CAPPED_COUNT`` examples (see ``gan_course.presets``). A lesson that builds, trains,
saves, loads or plots something the gpu path shapes differently from smoke fails here, in minutes,
instead of after ten minutes on a student's GPU.

They are part of ``make test`` (and so of CI), each lesson a unit of its own for the two workers;
the ``gpu_shapes`` mark selects them alone (``make test-gpu-shapes``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
import pytest

from gan_course.presets import CAP_ENV, ENV_VAR

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
STEP_CAP = "2"


def run_capped(path: Path, outputs: Path, timeout: int = 900):
    """Execute ``path`` at the gpu preset under the step cap; return the executed notebook."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env = {ENV_VAR: "gpu", CAP_ENV: STEP_CAP, "GAN_COURSE_OUTPUTS": str(outputs), "GAN_COURSE_OFFLINE": "1",
           "GAN_COURSE_QUIZ": "text", "MPLBACKEND": "Agg"}
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return nb


@pytest.mark.gpu_shapes
@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_at_gpu_shapes(lesson, tmp_path):
    start = time.perf_counter()
    nb = run_capped(lesson, tmp_path / "outputs")
    seconds = time.perf_counter() - start
    first_output = next(o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    print(f"{lesson.name}: {seconds:.0f} s at the gpu preset's shapes, step cap {STEP_CAP}")
    # The parameters cell shows the preset: it must be the gpu one, capped, or the run proved nothing.
    shown = str(first_output.get("data", {}).get("text/plain", first_output.get("text", "")))
    assert "gpu" in shown, f"{lesson.name}: the first output does not show the gpu preset: {shown[:300]}"
