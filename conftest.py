"""nbval runs every lesson at the gpu preset's shapes, for one step per loop.

The notebooks are executed once per test run, and that run checks the most: every cell at the
``gpu`` preset's sizes (full-size images, the sources' widths, latent and batch sizes) under the
step cap (``GAN_COURSE_STEP_CAP``, see ``gan_course.presets``), so each training loop runs one
step, each pass over a pipeline one batch, and each evaluation set holds at most
``presets.CAPPED_COUNT`` images. A shape that only the gpu path builds fails here, on a CPU.
The ``smoke`` preset stays the one of ``tests/`` (unit tests, the site build, JupyterLab in the
browser tests, the executed slide decks), which run lessons 00, 01 and 05 at smoke.

Set ``GAN_COURSE_NOTEBOOK_PRESET`` / ``GAN_COURSE_NOTEBOOK_STEP_CAP`` to run nbval otherwise, e.g.
``GAN_COURSE_NOTEBOOK_PRESET=smoke GAN_COURSE_NOTEBOOK_STEP_CAP= pytest notebooks/`` for the
smoke preset uncapped.
"""

import os

import pytest

NOTEBOOK_PRESET_VAR, NOTEBOOK_CAP_VAR = "GAN_COURSE_NOTEBOOK_PRESET", "GAN_COURSE_NOTEBOOK_STEP_CAP"


def notebook_env() -> dict[str, str | None]:
    """The preset and step cap nbval's kernels start with (None: unset)."""
    cap = os.environ.get(NOTEBOOK_CAP_VAR, "1").strip()
    return {"GAN_COURSE_PRESET": os.environ.get(NOTEBOOK_PRESET_VAR, "gpu"), "GAN_COURSE_STEP_CAP": cap or None}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    """A notebook's kernel starts while its first cell is set up: it inherits this environment."""
    if not item.nodeid.split("::", 1)[0].endswith(".ipynb"):  # nbval's items: every notebook it runs
        yield
        return
    saved = {key: os.environ.get(key) for key in notebook_env()}
    for key, value in notebook_env().items():
        os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    try:
        yield
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
