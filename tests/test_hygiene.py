"""Project hygiene: notebooks committed clean and in course order; imports without side effects."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


def test_notebooks_have_no_outputs():
    dirty = []
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count")):
                dirty.append(path.name)
                break
    assert not dirty, f"strip outputs before committing (make strip): {dirty}"


def test_notebooks_are_numbered_in_course_order():
    numbers = []
    for path in NOTEBOOKS:
        match = re.fullmatch(r"(\d\d)_[a-z0-9_]+\.ipynb", path.name)
        assert match, f"{path.name}: name lessons NN_topic.ipynb"
        numbers.append(int(match.group(1)))
    assert numbers == sorted(set(numbers)), "duplicate lesson numbers"
    assert numbers[0] <= 1 and numbers == list(range(numbers[0], numbers[0] + len(numbers))), "gaps in numbering"


def test_every_notebook_reads_the_preset_and_ends_with_exercises():
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text())
        sources = ["".join(c["source"]) for c in nb["cells"]]
        assert any("get_preset(" in s for s in sources if s), f"{path.name} ignores the preset"
        headings = [
            line for c, s in zip(nb["cells"], sources) if c["cell_type"] == "markdown"
            for line in s.splitlines() if line.startswith("#")
        ]
        assert "Exercises" in headings[-1], f"{path.name} should end with exercises"


MAX_CELL_LINES = 40  # a cell a student reads in one go, and a slide holds (CONTRIBUTING: code cells under 40 lines)


def test_every_cell_stays_within_40_lines():
    """A longer code cell does several things (split it); a longer markdown cell is a results paragraph
    that belongs in a printed table plus a few sentences (issue 36)."""
    long = [f"{path.name} cell {i} ({cell['cell_type']}, {len(''.join(cell['source']).splitlines())} lines)"
            for path in NOTEBOOKS for i, cell in enumerate(json.loads(path.read_text())["cells"])
            if len("".join(cell["source"]).splitlines()) > MAX_CELL_LINES]
    assert not long, f"cells over {MAX_CELL_LINES} lines: {long}"


WRITES = {"write_text", "write_bytes", "write", "writelines"}


def _ends_in_a_write(source: str) -> bool:
    """Whether a code cell's last statement is a bare call of a file write, whose return value (the
    number of characters or bytes written) Jupyter would print under the cell."""
    import ast

    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    if source.rstrip().endswith(";"):
        return False  # the trailing ";" hides the value, as IPython does
    try:
        body = ast.parse(code).body
    except SyntaxError:
        return False
    last = body[-1] if body else None
    return (isinstance(last, ast.Expr) and isinstance(last.value, ast.Call)
            and isinstance(last.value.func, ast.Attribute) and last.value.func.attr in WRITES)


def test_no_code_cell_shows_the_size_of_a_file_it_wrote():
    """A cell ending in ``path.write_text(...)`` shows a bare number (the characters written) that a
    student reads as a result to understand (issue 36: six such numbers in lesson 04)."""
    assert _ends_in_a_write("(OUT / 'a.md').write_text(table)")
    assert not _ends_in_a_write("_ = (OUT / 'a.md').write_text(table)")
    assert not _ends_in_a_write("(OUT / 'a.md').write_text(table);")
    stray = [f"{path.name} cell {i}" for path in NOTEBOOKS
             for i, cell in enumerate(json.loads(path.read_text())["cells"])
             if cell["cell_type"] == "code" and _ends_in_a_write("".join(cell["source"]))]
    assert not stray, f"cells whose last line is a file write (assign it to _ or end it with ';'): {stray}"


TF_KERAS = re.compile(r"(from|import)\s+tensorflow\.keras|\btf\.keras\b")


def test_code_uses_keras_3_not_tf_keras():
    """Code cells and package modules use `import keras`; markdown may still warn about tf.keras."""
    code = {str(p.relative_to(ROOT)): p.read_text() for p in (ROOT / "gan_course").rglob("*.py")}
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        code[path.name] = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    offenders = [name for name, text in code.items() if TF_KERAS.search(text)]
    assert not offenders, f"use `import keras` (Keras 3), not tensorflow.keras: {offenders}"


IMPORT_EVERYTHING = """
import os, random, socket, sys, threading
import numpy as np
calls = []
def refuse(*args, **kwargs):
    calls.append(args)
    raise OSError("network disabled by the test")
socket.create_connection = refuse
socket.socket.connect = refuse
seed_calls = []
random.seed = lambda *a, **k: seed_calls.append("random.seed")
np.random.seed = lambda *a, **k: seed_calls.append("np.random.seed")
np_state = np.random.get_state()[1].copy()

def streams():  # what descriptors 0-2 point to, every open descriptor, and Python's threads
    return ([tuple(os.fstat(fd))[:3] for fd in (0, 1, 2)], sorted(os.listdir("/proc/self/fd")),
            sorted(t.name for t in threading.enumerate()))

before = streams()
import gan_course
print("tensorflow loaded by the bare import:", "tensorflow" in sys.modules)
print("bare import changed streams or threads:", streams() != before)
import keras, tensorflow  # the libraries' own import-time work is theirs: compare after it
changed = []
import pkgutil, importlib
names = [m.name for m in pkgutil.walk_packages(gan_course.__path__, "gan_course.")]
for name in names:
    if name.rsplit(".", 1)[-1] != "__main__":
        before = streams()
        importlib.import_module(name)
        if streams() != before:
            changed.append(name)
print("modules:", " ".join(names))
print("modules that changed streams or threads:", changed)
print("network calls:", len(calls))
print("numpy seeded:", not (np.random.get_state()[1] == np_state).all())
print("seed calls:", seed_calls)
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads /proc/self/fd (Linux)")
def test_importing_the_package_has_no_side_effects(tmp_path):
    """Every module of every subpackage: no network, no seeding, no files, no thread, no rewired descriptor."""
    env = {"GAN_COURSE_OUTPUTS": str(tmp_path / "out"), "GAN_COURSE_CACHE": str(tmp_path / "cache"),
           "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "tensorflow loaded by the bare import: False" in result.stdout
    assert "bare import changed streams or threads: False" in result.stdout
    modules = result.stdout.split("modules: ", 1)[1].splitlines()[0].split()
    package_files = [p for p in (ROOT / "gan_course").rglob("*.py") if p.name != "__init__.py"]
    assert len(modules) >= len(package_files)  # every module of every subpackage was imported ...
    assert {"gan_course.speed.precision", "gan_course.teaching.slides", "gan_course.zoo.stylegan",
            "gan_course.bench.quality", "gan_course.data.mnist"} <= set(modules)  # ... the nested ones too
    assert "modules that changed streams or threads: []" in result.stdout
    assert "network calls: 0" in result.stdout
    assert "numpy seeded: False" in result.stdout and "seed calls: []" in result.stdout
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache").exists()
    assert not (tmp_path / ".keras" / "datasets").exists()
