"""Test set-up: every test uses the smoke preset, offline (the notebooks nbval runs get the gpu
preset's shapes under a one-step cap instead: the root ``conftest.py``).

``make test`` runs the suite in two worker processes (pytest-xdist, ``-n 2 --dist loadfile``):
each test file, and each notebook, runs whole in one worker, so a module-scoped fixture is still
built once and a notebook's cells still run in order in one kernel. The hooks at the end of this
file keep files that fill the same folder in one worker and start the long files first.
"""

import os
import tempfile

# Before anything imports gan_course/keras, and inherited by nbval's notebook kernels (which the
# root conftest.py then sets to the gpu preset, capped).
os.environ.setdefault("GAN_COURSE_PRESET", "smoke")
os.environ.setdefault("GAN_COURSE_OFFLINE", "1")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
# Smoke runs write their pictures and models elsewhere, so a test run never overwrites what a
# student's cpu-preset run left in outputs/.
os.environ.setdefault("GAN_COURSE_OUTPUTS", tempfile.mkdtemp(prefix="gan-course-test-outputs-"))
WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1" in a worker of `pytest -n 2`; None otherwise
if WORKER:
    # A worker inherits the folder above from the process that started it: each takes its own part.
    os.environ["GAN_COURSE_OUTPUTS"] = os.path.join(os.environ["GAN_COURSE_OUTPUTS"], WORKER)
    os.makedirs(os.environ["GAN_COURSE_OUTPUTS"], exist_ok=True)
    # TensorFlow sizes its thread pools to every core; two workers (and their notebook kernels)
    # would then run twice as many threads as cores. Each worker gets its share of the cores
    # (on 2 cores: one thread each, which spent less CPU time on the same tests than two).
    _cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    _threads = str(max(1, _cores // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))))
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", _threads)
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", _threads)

import pytest  # noqa: E402


@pytest.fixture
def seeded():
    import keras

    keras.utils.set_random_seed(1234)


# --------------------------------------------------------------------------- two workers (xdist)

# Files that fill one folder on first use and read it back run in one worker, one after the
# other: the second then finds the first one's work instead of writing the same files at once.
SHARED_SCOPES: dict[str, str] = {}
# The executed-deck test of a lesson runs in the worker that runs the lesson under nbval, after it:
# it builds the deck from what that run printed and drew (the root conftest.py keeps it). So does
# the browser test file, whose course site is built from lesson 00's run.
EXECUTED_DECK = "tests/test_slide_fit.py::test_every_slide_fits_1280x720[slides-executed/"
AFTER_LESSON = {"tests/test_browser.py": "notebooks/00_gan_theory.ipynb"}
# Files whose tests share nothing (each its own tmp_path, fresh kernel): every test is a unit.
SPLIT_FILES: set[str] = set()
# Marks of tests that run for a minute or more; their files, and the notebooks, are handed out first.
LONG_MARKS = ("slow", "browser")


def _scope(nodeid: str) -> str:
    if nodeid.startswith(EXECUTED_DECK):
        return f"notebooks/{nodeid[len(EXECUTED_DECK):].rstrip(']')}.ipynb"
    path = nodeid.split("::", 1)[0]
    if path in AFTER_LESSON:
        return AFTER_LESSON[path]
    return nodeid if path in SPLIT_FILES else SHARED_SCOPES.get(path, path)


def _after_a_lesson(nodeid: str) -> bool:
    return nodeid.startswith(EXECUTED_DECK) or nodeid.split("::", 1)[0] in AFTER_LESSON


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile`` with the units above, handed out in the order the workers collected."""
    if config.getvalue("dist") != "loadfile":
        return None  # another --dist asked for on the command line: xdist's own
    from xdist.scheduler import LoadFileScheduling

    class SharedFolderScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid):
            return _scope(nodeid)

    config.option.loadscopereorder = False  # keep the long-first order of pytest_collection_modifyitems
    return SharedFolderScheduling(config, log)


def pytest_collection_modifyitems(config, items):
    """In a worker: the long units first (notebooks, and files with a long mark), so that the last
    unit handed out is a short one and neither worker waits long for the other at the end.
    Without workers the order is pytest's own. Either way an executed-deck test comes after the
    notebooks (tests/ is collected first), so it finds the lesson's run of this session; so do the
    browser tests (AFTER_LESSON)."""
    items.sort(key=lambda item: _after_a_lesson(item.nodeid))  # stable
    if not WORKER:
        return
    long_scopes = {_scope(item.nodeid) for item in items
                   if item.nodeid.startswith("notebooks/") or any(item.get_closest_marker(m) for m in LONG_MARKS)}
    items.sort(key=lambda item: (_scope(item.nodeid) not in long_scopes, _after_a_lesson(item.nodeid)))
