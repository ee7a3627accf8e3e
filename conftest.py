"""nbval runs every lesson at the gpu preset's shapes, for one step per loop.

The notebooks are executed once per test run, and that run checks the most: every cell at the
``gpu`` preset's sizes (full-size images, the sources' widths, latent and batch sizes) under the
step cap (``GAN_COURSE_STEP_CAP``, see ``gan_course.presets``), so each training loop runs one
step, each pass over a pipeline one batch, and each evaluation set holds at most
``presets.CAPPED_COUNT`` images. A shape that only the gpu path builds fails here, on a CPU.
The ``smoke`` preset stays the one of ``tests/`` (unit tests, and lesson 05 run in JupyterLab by
the browser tests).

Set ``GAN_COURSE_NOTEBOOK_PRESET`` / ``GAN_COURSE_NOTEBOOK_STEP_CAP`` to run nbval otherwise, e.g.
``GAN_COURSE_NOTEBOOK_PRESET=smoke GAN_COURSE_NOTEBOOK_STEP_CAP= pytest notebooks/`` for the
smoke preset uncapped.

What nbval's run printed and drew is kept: when a notebook's last cell has run, its executed copy
(every cell's outputs, and which cells failed) is written to ``build/test-artefacts/executed/``.
``tests/test_slide_fit.py`` builds each lesson's executed deck from it, and ``tests/test_browser.py``
the course site from lesson 00's (the ``executed_lesson`` fixture below), so neither runs a lesson
a second time; tests/conftest.py hands those tests to the worker that runs the lesson, after it.
"""

import contextlib
import copy
import os
import tempfile
import time
from pathlib import Path

import pytest

# A test run never writes into the student's outputs/: nbval's lessons (`make test-gpu-shapes` runs
# only them, without tests/conftest.py) and the tests write their runs, caches and models to a
# temporary folder (tests/conftest.py gives each worker its own part of it).
os.environ.setdefault("GAN_COURSE_OUTPUTS", tempfile.mkdtemp(prefix="gan-course-test-outputs-"))

ROOT = Path(__file__).resolve().parent
EXECUTED = ROOT / "build" / "test-artefacts" / "executed"
SESSION_VAR = "GAN_COURSE_TEST_SESSION_START"

NOTEBOOK_PRESET_VAR, NOTEBOOK_CAP_VAR = "GAN_COURSE_NOTEBOOK_PRESET", "GAN_COURSE_NOTEBOOK_STEP_CAP"


def notebook_env() -> dict[str, str | None]:
    """The preset, step cap, matplotlib backend and progress mode nbval's kernels start with (None: unset)."""
    cap = os.environ.get(NOTEBOOK_CAP_VAR, "1").strip()
    return {"GAN_COURSE_PRESET": os.environ.get(NOTEBOOK_PRESET_VAR, "gpu"), "GAN_COURSE_STEP_CAP": cap or None,
            # Figures as a student sees them (the kernel's inline backend, not the Agg that
            # make test sets for tests/), and progress as lines, as in any kept output.
            "MPLBACKEND": None, "GAN_COURSE_PROGRESS": "log",
            # The quiz as `make slides` and the site run it (nobody clicks a widget on a page), so
            # the executed copy is what they would show; the widget quiz is clicked through live
            # in JupyterLab (tests/test_browser.py) and unit-tested (tests/test_exercises.py).
            "GAN_COURSE_QUIZ": "text"}


def _set(values: dict[str, str | None]):
    for key, value in values.items():
        os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)


@contextlib.contextmanager
def notebook_environment():
    """This process's environment set to ``notebook_env()`` (for a kernel started inside), then restored."""
    saved = {key: os.environ.get(key) for key in notebook_env()}
    _set(notebook_env())
    try:
        yield
    finally:
        _set(saved)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    """A notebook's kernel starts while its first cell is set up: it inherits this environment."""
    if not item.nodeid.split("::", 1)[0].endswith(".ipynb"):  # nbval's items: every notebook it runs
        yield
        return
    with notebook_environment():
        yield


def _is_notebook_item(item) -> bool:
    return item.nodeid.split("::", 1)[0].endswith(".ipynb") and hasattr(item, "cell_num")


def pytest_configure(config):
    # Workers inherit it from the process that starts them: an executed copy older than this run
    # is not this run's.
    os.environ.setdefault(SESSION_VAR, repr(time.time()))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if _is_notebook_item(item) and call.when == "call":
        runs = getattr(item.parent, "_gan_course_outputs", None)
        if runs is None:
            runs = item.parent._gan_course_outputs = {}
        runs[item.cell_num] = (copy.deepcopy(item.test_outputs or []), outcome.get_result().failed, call.duration)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    if _is_notebook_item(item) and (nextitem is None or nextitem.parent is not item.parent):
        write_executed(item.parent)


def write_executed(notebook_file) -> Path:
    """The notebook as nbval ran it: each code cell with the outputs it produced, and the numbers
    of the cells that failed (or did not run) in its metadata."""
    import nbformat

    runs = getattr(notebook_file, "_gan_course_outputs", {})
    nb = copy.deepcopy(notebook_file.nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    for number, cell in enumerate(code):
        outputs, _, _ = runs.get(number, ([], True, 0.0))
        # nbval runs a cell without storing it in IPython's history, where IPython looks for a
        # trailing ";" that hides the cell's result: hide it here, as a student's kernel does.
        hidden = cell.source.rstrip().endswith(";")
        cell.outputs = [nbformat.from_dict(dict(o)) for o in outputs if not (hidden and o.output_type == "execute_result")]
        for output in cell.outputs:
            if output.output_type == "execute_result":
                output.execution_count = number + 1
        cell.execution_count = number + 1 if number in runs else None
    nb.metadata["gan_course_executed"] = {
        "by": "nbval", **notebook_env(),
        "failed_or_not_run": [n for n in range(len(code)) if runs.get(n, (None, True))[1]],
        "seconds": round(sum(run[2] for run in runs.values()), 1),  # the cells' run time, as the site reports it
    }
    EXECUTED.mkdir(parents=True, exist_ok=True)
    path = EXECUTED / Path(str(notebook_file.fspath)).name
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="session")
def executed_lesson():
    """``executed_lesson(name)``: the path of lesson ``name`` as this test run executed it (nbval's
    outputs, written above), or, when nbval has not run it in this session (a test run on its own),
    the lesson executed now with nbclient under the same preset and step cap. Fails when a cell
    failed: nbval's report names it."""
    import nbformat

    def get(name: str) -> Path:
        path = EXECUTED / f"{name}.ipynb"
        fresh = path.is_file() and path.stat().st_mtime >= float(os.environ.get(SESSION_VAR, "inf"))
        if not fresh:
            path = _execute_now(name)
        failed = nbformat.read(path, as_version=4).metadata.get("gan_course_executed", {}).get("failed_or_not_run")
        if failed:
            pytest.fail(f"{name}: code cells {failed} failed or did not run (see nbval's report for "
                        f"notebooks/{name}.ipynb): its executed deck is not checked")
        return path

    return get


def _execute_now(name: str) -> Path:
    import nbformat
    from nbclient import NotebookClient

    source = ROOT / "notebooks" / f"{name}.ipynb"
    nb = nbformat.read(source, as_version=4)
    start = time.perf_counter()
    with notebook_environment():
        NotebookClient(nb, timeout=1800, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(source.parent)}}).execute()
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    failed = [n for n, cell in enumerate(code) if any(o.output_type == "error" for o in cell.outputs)]
    nb.metadata["gan_course_executed"] = {"by": "nbclient", **notebook_env(), "failed_or_not_run": failed,
                                          "seconds": round(time.perf_counter() - start, 1)}
    EXECUTED.mkdir(parents=True, exist_ok=True)
    path = EXECUTED / source.name
    nbformat.write(nb, path)
    return path
