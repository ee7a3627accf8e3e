"""The course where students and lecturers meet it, checked in a real browser (headless Chromium).

- **JupyterLab**: started from this environment on a free port (token auth on; ``--allow-root``
  only when running as root, as in a container). Lesson 05 runs top to bottom in the lab under the
  smoke preset; the other lessons are opened as the site build executed them (00) or stripped. Each
  lesson: no error output, every figure rendered, every widget drawn by its front end. The quiz
  reveals an answer and moves on, ``check()`` says "Not yet" and "Right", the latent explorer's
  slider and button change its picture, and RISE's slideshow opens and advances.
- **The course site** (``gan_course.teaching.site``, from nbval's run of lesson 00, served on localhost):
  every page loads, every image shows, every internal link resolves, nothing is requested from
  another host, and the console stays free of errors.
- **Slides offline**: a deck opened as a file with the network off is styled, advances and shows
  maths typeset by MathJax.

Screenshots go to ``build/test-artefacts/browser/``. Deselect with ``-m "not browser"``. Needs
Debian's ``chromium`` (``/usr/bin/chromium``), Playwright from PyPI (it drives that binary; it
downloads no browser) and the npm packages of ``site/package.json`` (``make web-assets``). Without
them the tests are skipped, except under CI (``CI=true``) where that is a failure.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTEFACTS = ROOT / "build" / "test-artefacts" / "browser"
CHROMIUM = os.environ.get("GAN_COURSE_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium's own connections are refused and logged here.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
LESSONS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
RUN_IN_LAB = ["05_experiments"]  # the lesson with the latent explorer; it has a quiz and exercises too
# The site test builds the site from these lessons as nbval ran them (tests/conftest.py keeps this
# file in the worker that ran the first, after it); the lab opens them with those outputs and the
# others without running them. Every lesson runs under nbval in the same CI run (and its executed
# deck is checked by test_slide_fit.py), and the site's pages come from one template: one lesson,
# with figures, maths and flashcards, keeps CI within its time.
SITE_LESSONS = ["00_gan_theory"]


def _require(ok: bool, why: str):
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"{why} (CI must run the browser tests: .ci/run installs these)")
        pytest.skip(why)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# Fixtures: the browser, the site build, JupyterLab.

@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    _require(Path(CHROMIUM).is_file(), f"no Chromium at {CHROMIUM} (apt-get install chromium chromium-driver)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require(False, "Playwright is not installed (pip install -r requirements.txt)")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1400, "height": 900})
        context.set_default_timeout(120_000)  # generous: CI shares 2 cores with the kernel
        try:
            yield context
        finally:
            context.close()


class PageLog:
    """Console errors, uncaught exceptions, failed requests and HTTP errors of one page.

    A request the browser cancels (``net::ERR_ABORTED``: the test moved to the next page while a
    font was still loading) is not a failure; a missing file is, through its 404.
    """

    def __init__(self, page):
        self.errors = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(f"exception: {e}"))
        page.on("requestfailed", lambda r: r.failure != "net::ERR_ABORTED"
                and self.errors.append(f"request failed: {r.url} ({r.failure})"))
        page.on("response", lambda r: r.status >= 400 and self.errors.append(f"HTTP {r.status}: {r.url}"))


@pytest.fixture(scope="module")
def site_build(executed_lesson):
    """The course site, built from the lessons as this test run's nbval executed them (the root
    conftest.py: the gpu preset's shapes, one step per loop, the quiz as text as the site runs it;
    tests/conftest.py runs this file after lesson 00 in the same worker), so no lesson runs twice.
    Running lessons for the site (``site.execute_lesson``) is tested in tests/test_site.py."""
    _require(shutil.which("npm") is not None or (ROOT / "site" / "node_modules").is_dir(),
             "npm is needed for the slides' JavaScript (apt-get install npm; make web-assets)")
    import nbformat

    from gan_course.teaching import site, slides

    _require((slides.web_assets_dir() / "reveal.js").is_dir(), "site/node_modules missing: run `make web-assets`")
    out = ROOT / "build" / "test-artefacts" / "site"
    runs = []
    for name in SITE_LESSONS:
        path = executed_lesson(name)
        ran = nbformat.read(path, as_version=4).metadata["gan_course_executed"]
        assert ran["GAN_COURSE_QUIZ"] == "text", ran  # what the site shows: no widget on a web page
        runs.append({"lesson": name, "path": path, "seconds": ran["seconds"]})
    built = site.build_site(ran["GAN_COURSE_PRESET"], out=out, executed=runs, verbose=True)
    print(f"site built in {built['seconds']:.0f} s: {built['index']}")
    return built


class Lab:
    def __init__(self, url, token, root, process, log):
        self.url, self.token, self.root, self.process, self.log = url, token, root, process, log

    def api(self, path, method="GET"):
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None


@pytest.fixture(scope="module")
def lab(tmp_path_factory, site_build):
    """JupyterLab on a temporary folder: fresh copies of the lessons it runs, the site build's
    executed copies of the others (or the stripped ones), so nothing is written into the repository."""
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "notebooks"
    root.mkdir()
    executed = {run["lesson"]: run["path"] for run in site_build["runs"]}
    for name in LESSONS:
        shutil.copy(executed[name] if name in executed and name not in RUN_IN_LAB else ROOT / "notebooks" / f"{name}.ipynb",
                    root)
    settings = tmp / "settings"
    # Every cell in the page (no virtual scrolling), no news pop-up over the notebook.
    for rel, value in {"@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
                       "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
                           {"fetchNews": "false", "checkForUpdates": False}}.items():
        (settings / rel).parent.mkdir(parents=True, exist_ok=True)
        (settings / rel).write_text(json.dumps(value))
    token, port = secrets.token_urlsafe(24), _free_port()
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.open_browser=False",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}", f"--notebook-dir={root}",
               "--LabApp.expose_app_in_browser=True"]  # window.jupyterapp: to run commands, read cell models
    if os.geteuid() == 0:  # a container's root user; Jupyter refuses root without it
        command.append("--allow-root")
    env = dict(os.environ, GAN_COURSE_PRESET="smoke", GAN_COURSE_OFFLINE="1", JUPYTER_CONFIG_DIR=str(tmp / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"))
    for name in ("MPLBACKEND", "GAN_COURSE_QUIZ", "GAN_COURSE_WIDGETS"):  # the lab's own defaults: inline, widgets
        env.pop(name, None)
    log_path = ARTEFACTS.parent / "jupyterlab.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "w")
    process = subprocess.Popen(command, cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = Lab(f"http://127.0.0.1:{port}", token, root, process, log_path)
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                server.api("/api/status")
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer in 120 s:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.5)
        yield server
    finally:
        try:
            for kernel in server.api("/api/kernels") or []:
                server.api(f"/api/kernels/{kernel['id']}", method="DELETE")
        except OSError:
            pass
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
        log.close()


# ---------------------------------------------------------------------------------------------
# Notebook helpers. `window.jupyterapp` is JupyterLab's application object.

_CURRENT = "const panel = window.jupyterapp.shell.currentWidget;"
_CURRENT_FN = "() => { " + _CURRENT + " "
_IDLE = ("() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
         " const s = w && w.sessionContext && w.sessionContext.session;"
         " return !!(s && s.kernel && s.kernel.status === 'idle' && w.content && w.content.widgets.length); }")
_ALL_RAN = (f"() => {{ {_CURRENT} const k = panel.sessionContext.session.kernel;"
            " return k.status === 'idle' && panel.content.widgets.every("
            "   c => c.model.type !== 'code' || (c.model.executionCount !== null && !c.node.querySelector('.jp-InputPrompt').textContent.includes('*'))); }")
# For the open notebook: error outputs (cell, name, value), images in the model and rendered in the
# page, widget outputs in the model and widgets the front end drew (or the error it drew instead).
_REPORT = f"""() => {{ {_CURRENT}
  const cells = panel.content.widgets;
  const errors = [], wanted = {{images: 0, widgets: 0}};
  cells.forEach((c, i) => {{
    if (c.model.type !== 'code') return;
    for (const o of c.model.outputs.toJSON()) {{
      if (o.output_type === 'error') errors.push([i, o.ename, o.evalue]);
      const data = o.data || {{}};
      if (data['application/vnd.jupyter.widget-view+json']) wanted.widgets += 1;
      else if (data['image/png'] || data['image/jpeg'] || data['image/svg+xml']) wanted.images += 1;
    }}
  }});
  const node = panel.content.node;
  const images = Array.from(node.querySelectorAll('.jp-OutputArea-output.jp-RenderedImage img, .jp-OutputArea-output .jp-RenderedImage img, .jp-RenderedSVG svg'));
  const drawn = images.filter(img => img.tagName.toLowerCase() === 'svg' || (img.complete && img.naturalWidth > 0)).length;
  const widgetOutputs = Array.from(node.querySelectorAll('.jp-OutputArea-output')).filter(
      o => o.querySelector(':scope > .jupyter-widgets, :scope > .jp-RenderedHTMLCommon .jupyter-widgets') || o.classList.contains('jupyter-widgets'));
  // ipywidgets draws a failed widget as an error box; a click on it shows the JavaScript error.
  const widgetErrors = Array.from(node.querySelectorAll('.jupyter-widgets-error-widget')).map(e => {{
      if (e.parentElement && e.parentElement.onclick) e.parentElement.onclick();
      return e.innerText.split(String.fromCharCode(10)).join(' ').slice(0, 300); }}).concat(
    Array.from(node.querySelectorAll('.jp-OutputArea-output')).map(o => o.innerText).filter(
      t => /Error displaying widget|Failed to load model class|Error creating view/i.test(t)).map(t => t.slice(0, 300)));
  return {{errors, wanted, images: images.length, drawn, widgets: node.querySelectorAll('.jp-OutputArea-output .jupyter-widgets.widget-container, .jp-OutputArea-output .jupyter-widgets.widget-inline-hbox, .jp-OutputArea-output .jupyter-widgets.jupyter-button').length,
          widgetOutputs: widgetOutputs.length, widgetErrors, cells: cells.length}};
}}"""


def open_notebook(page, lab, name):
    page.goto(f"{lab.url}/lab/tree/{name}.ipynb?reset&token={lab.token}")  # reset: only this notebook open
    page.wait_for_function(_IDLE, timeout=180_000, polling=500)
    page.wait_for_function(f"() => {{ {_CURRENT} return panel.context.path === '{name}.ipynb'; }}")


def run_all(page, timeout_s=600):
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(_ALL_RAN, timeout=timeout_s * 1000, polling=1000)
    page.wait_for_timeout(1500)  # the last outputs' images decode


def check_what_a_student_sees(page, name, expect_widgets=True):
    report = page.evaluate(_REPORT)
    assert not report["errors"], f"{name}: error outputs in the lab: {report['errors']}"
    assert not report["widgetErrors"], f"{name}: a widget's front end failed: {report['widgetErrors'][:2]}"
    assert report["wanted"]["images"] > 0, f"{name}: no figures at all"
    assert report["drawn"] == report["images"] >= report["wanted"]["images"], (
        f"{name}: {report['wanted']['images']} figure outputs, {report['images']} images in the page, "
        f"{report['drawn']} of them drawn")
    if expect_widgets:
        assert report["wanted"]["widgets"] > 0 and report["widgets"] > 0, f"{name}: no widget drawn ({report})"
    return report


def _output_of(page, cell_text):
    """Locator of the output area of the first code cell whose source contains ``cell_text``."""
    index = page.evaluate(f"""(text) => {{ {_CURRENT}
        return panel.content.widgets.findIndex(c => c.model.type === 'code' && c.model.sharedModel.getSource().includes(text)); }}""",
                          cell_text)
    assert index >= 0, f"no cell containing {cell_text!r}"
    return index, page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(index)


def _run_cell_with(page, index, source):
    """Give cell ``index`` a new source (as a student editing it) and run it with Shift+Enter."""
    page.evaluate(f"""([i, src]) => {{ {_CURRENT}
        panel.content.widgets[i].model.sharedModel.setSource(src); panel.content.activeCellIndex = i;
        panel.content.mode = 'command'; panel.content.node.focus(); }}""", [index, source])
    cell = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(index)
    cell.locator(".jp-InputPrompt").click()
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(_ALL_RAN, timeout=120_000, polling=500)
    return cell.locator(".jp-Cell-outputArea").inner_text()


def _shot(page, name):
    path = ARTEFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


# ---------------------------------------------------------------------------------------------
# JupyterLab.

def test_lesson_05_runs_in_the_lab_with_its_quiz_exercises_and_latent_explorer(chromium, lab):
    from playwright.sync_api import expect

    from gan_course.teaching.exercises import find_exercise

    page = chromium.new_page()
    log = PageLog(page)
    open_notebook(page, lab, "05_experiments")
    start = time.perf_counter()
    run_all(page)
    print(f"lesson 05 ran in the lab in {time.perf_counter() - start:.0f} s")
    check_what_a_student_sees(page, "05_experiments")

    # The latent explorer first, on the freshly run page: a slider moved with the keyboard redraws
    # the picture, so does "new samples".
    _, cell = _output_of(page, "latent_explorer(")
    explorer = cell.locator(".jp-Cell-outputArea")
    explorer.scroll_into_view_if_needed()
    sliders = explorer.locator(".widget-slider")
    if sliders.count() < 2:
        _shot(page, "lab-05-explorer-broken")
        pytest.fail(f"the explorer shows no direction sliders; its output reads: {explorer.inner_text()[:500]!r}")
    picture = explorer.locator(".widget-output img").first

    def src():
        return picture.get_attribute("src")

    before = src()
    assert before and before.startswith("data:image/png")
    _shot(page, "lab-05-explorer-before")
    handle = sliders.first.locator(".noUi-handle")
    handle.focus()
    for _ in range(10):  # the keyboard moves a noUiSlider handle one step (0.1) per press
        page.keyboard.press("ArrowRight")
    page.wait_for_function("([sel, old]) => { const i = document.querySelector(sel); return i && i.src !== old; }",
                           arg=[".jp-NotebookPanel .widget-output img", before], timeout=120_000)
    readout = sliders.first.locator(".widget-readout").inner_text()
    assert float(readout) == pytest.approx(1.0), f"slider readout {readout}"
    moved = src()
    assert moved != before, "moving 'dir 1' redrew the picture"
    _shot(page, "lab-05-explorer-moved")
    # "new samples" draws the figure again (a new picture in the output): at the lab's smoke preset
    # the generator is nearly constant grey, so the new picture's bytes may equal the old one's.
    for _ in range(2):  # the slider's queued redraws have all run: the kernel idle, and still idle a second later
        page.wait_for_function(_IDLE, timeout=120_000, polling=200)
        page.wait_for_timeout(1000)
    page.wait_for_function(_IDLE, timeout=120_000, polling=200)
    page.evaluate("sel => { document.querySelector(sel).dataset.old = '1'; }", ".jp-NotebookPanel .widget-output img")
    explorer.get_by_role("button", name=re.compile("new samples")).click()
    page.wait_for_function("sel => { const i = document.querySelector(sel); return i && !i.dataset.old; }",
                           arg=".jp-NotebookPanel .widget-output img", timeout=120_000)

    # The quiz: reveal the first card's answer, grade it, the next card comes.
    _, cell = _output_of(page, 'quiz("05_experiments")')
    quiz = cell.locator(".jp-Cell-outputArea")
    quiz.scroll_into_view_if_needed()
    assert "Card 1 of" in quiz.inner_text()
    answer = quiz.locator(".widget-html-content").nth(2)
    assert answer.inner_text().strip() == ""
    quiz.get_by_role("button", name="Show answer").click()
    expect(answer).not_to_be_empty()
    _shot(page, "lab-05-quiz-answer")
    quiz.get_by_role("button", name="I knew it").click()
    expect(quiz).to_contain_text("Card 2 of")
    expect(answer).to_be_empty()

    # An exercise: a wrong answer gets "Not yet" and a pointer to the cards, the right one "Right".
    index, _ = _output_of(page, 'check("05-lr-ratio"')
    exercise, _ = find_exercise("05-lr-ratio")
    wrong = _run_cell_with(page, index, f'check("05-lr-ratio", {exercise.answer!r} + 1000)')
    assert "Not yet" in wrong and "review card" in wrong, wrong
    right = _run_cell_with(page, index, f'check("05-lr-ratio", {exercise.answer!r})')
    assert "Right" in right, right
    _shot(page, "lab-05-exercise-right")
    assert not [e for e in log.errors if "request failed" in e], log.errors


@pytest.fixture(scope="module")
def lab_page(chromium, lab):
    """One JupyterLab page for the lessons that are only opened: each test opens its notebook in it
    as a student opens a second one from the file browser (loading the lab's JavaScript once, not
    once per lesson). Every notebook still starts its own kernel and is checked whole."""
    page = chromium.new_page()
    log = PageLog(page)
    page.goto(f"{lab.url}/lab?reset&token={lab.token}")
    # ?reset clears the workspace and then reloads the page without it: wait for the page after that.
    page.wait_for_function("() => !location.search.includes('reset') && !!window.jupyterapp", timeout=180_000, polling=200)
    page.wait_for_load_state()
    page.evaluate("() => window.jupyterapp.started.then(() => window.jupyterapp.restored).then(() => true)")
    yield page, log
    page.close()


def open_in_lab_page(page, name):
    """Open ``name`` in the running lab page (the file browser's "open"), wait for its kernel."""
    page.evaluate("(path) => window.jupyterapp.commands.execute('docmanager:open', {path}).then(() => true)",
                  f"{name}.ipynb")
    page.wait_for_function(f"() => {{ {_CURRENT} return !!panel && !!panel.context && panel.context.path === '{name}.ipynb'; }}",
                           polling=200)
    page.wait_for_function(_IDLE, timeout=180_000, polling=200)


@pytest.mark.parametrize("name", [n for n in LESSONS if n not in RUN_IN_LAB])
def test_other_lessons_open_in_the_lab(lab_page, name):
    page, log = lab_page
    log.errors.clear()
    open_in_lab_page(page, name)
    if name in SITE_LESSONS:  # executed for the site (with the text quiz): its figures show in the lab
        page.wait_for_function(f"() => {{ {_CURRENT} return panel.content.node.querySelectorAll('.jp-RenderedImage img').length > 0; }}")
        page.wait_for_timeout(1000)
        check_what_a_student_sees(page, name, expect_widgets=False)
    else:  # as a student first opens it: every markdown cell rendered, maths typeset
        page.wait_for_function(f"""() => {{ {_CURRENT} const cells = panel.content.widgets;
            return cells.filter(c => c.model.type === 'markdown').every(c => c.rendered)
                   && panel.content.node.querySelectorAll('.jp-RenderedMarkdown mjx-container, .jp-RenderedMarkdown .MathJax').length > 0; }}""")
        raw = page.evaluate(_CURRENT_FN + r"""return Array.from(panel.content.node.querySelectorAll('.jp-RenderedMarkdown'))
            .map(n => n.innerText).filter(t => /\$[^$\s][^$]*\$/.test(t)).map(t => t.slice(0, 120)); }""")
        assert not raw, f"{name}: maths left as raw $...$: {raw[:3]}"
    assert not [e for e in log.errors if "request failed" in e or "HTTP" in e], log.errors
    _shot(page, f"lab-{name}")


def test_rise_slideshow_opens_and_advances(chromium, lab):
    page = chromium.new_page()
    page.goto(f"{lab.url}/rise/00_gan_theory.ipynb?token={lab.token}")
    page.wait_for_selector(".reveal.ready", timeout=120_000)
    present = "() => Array.from(document.querySelectorAll('.reveal .slides > section')).findIndex(s => s.classList.contains('present'))"
    assert page.evaluate(present) == 0
    assert page.locator(".reveal .slides > section").count() > 3
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => ({present})() === 1")
    _shot(page, "lab-rise-00")


# ---------------------------------------------------------------------------------------------
# The course site.

@pytest.fixture(scope="module")
def site_server(site_build):
    handler = functools.partial(_QuietHandler, directory=str(site_build["html"]))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_site_pages_load_with_images_links_and_no_errors(chromium, site_server, site_build):
    page = chromium.new_page()
    log = PageLog(page)
    outside = []

    def only_local(route):
        url = route.request.url
        if url.startswith(site_server) or url.startswith("data:") or url.startswith("blob:"):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page.route("**/*", only_local)
    todo, seen, checked = [f"{site_server}/index.html"], set(), []
    while todo:
        url = todo.pop(0)
        page_url, _, fragment = url.partition("#")
        if page_url in seen:
            continue
        seen.add(page_url)
        response = page.goto(page_url)
        assert response is not None and response.status == 200, f"{page_url}: {response and response.status}"
        page.wait_for_load_state("networkidle")  # fonts and MathJax's files too, before moving on
        if page_url.endswith(".slides.html"):
            page.wait_for_selector(".reveal.ready", timeout=30_000)
        else:
            page.wait_for_function("() => !window.MathJax || !window.MathJax.Hub || window.MathJax.Hub.queue.pending === 0")
        broken = page.evaluate("() => Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 80))")
        assert not broken, f"{page_url}: images that did not load: {broken}"
        links = page.evaluate("() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
        ids = set(page.evaluate("() => Array.from(document.querySelectorAll('[id], a[name]')).map(e => e.id || e.name)"))
        for link in links:
            if not link.startswith(site_server):
                continue
            target, _, anchor = link.partition("#")
            if target == page_url and anchor and not anchor.startswith("/"):  # "#/3": reveal.js's slide routes
                assert anchor in ids or urllib.parse.unquote(anchor) in ids, f"{page_url}: link to a missing anchor #{anchor}"
            elif target not in seen:
                todo.append(link)
        checked.append(page_url)
    assert not log.errors, "\n".join(log.errors)
    assert not outside, f"the site asked other hosts for: {sorted(set(outside))[:10]}"
    rel = {u[len(site_server) + 1:] for u in checked}
    for name in SITE_LESSONS:
        assert f"lessons/{name}.html" in rel and f"flashcards/{name}.html" in rel, f"{name}'s pages are not linked"
        assert f"slides/{name}.slides.html" in rel and f"slides-executed/{name}.slides.html" in rel
    print(f"site: {len(checked)} pages checked")


def test_site_lesson_and_flashcard_pages_show_their_content(chromium, site_server):
    page = chromium.new_page()
    page.goto(f"{site_server}/index.html")
    rows = page.locator("article table tbody tr")
    assert rows.count() == len(SITE_LESSONS)
    assert re.search(r"\d+ s", rows.first.inner_text()), "the home page gives each lesson's run time"
    _shot(page, "site-home")
    page.goto(f"{site_server}/lessons/{SITE_LESSONS[0]}.html")
    page.wait_for_function("() => window.MathJax && window.MathJax.Hub && window.MathJax.Hub.queue.pending === 0")
    assert page.locator(".jp-OutputArea-output img").count() >= 3, f"{SITE_LESSONS[0]} shows its figures"
    assert page.locator(".MathJax_CHTML, .MathJax").count() > 5, "maths typeset"
    assert page.locator("text=Traceback").count() == 0
    _shot(page, "site-lesson")
    page.locator(".jp-OutputArea-output img").nth(2).scroll_into_view_if_needed()
    _shot(page, "site-lesson-figure")
    page.goto(f"{site_server}/flashcards/{SITE_LESSONS[0]}.html")
    cards = page.locator("details.card")
    assert cards.count() >= 5
    first = cards.first
    assert not first.locator("p").first.is_visible(), "answers start folded"
    first.locator("summary").click()
    assert first.locator("p").first.is_visible()
    _shot(page, "site-flashcards")


# ---------------------------------------------------------------------------------------------
# Slides offline.

@pytest.mark.parametrize("deck", [f"slides/{SITE_LESSONS[0]}", f"slides-executed/{SITE_LESSONS[0]}"])
def test_deck_works_offline_from_a_file(chromium, site_build, deck):
    path = site_build["html"] / f"{deck}.slides.html"
    page = chromium.new_page()
    log = PageLog(page)
    chromium.set_offline(True)
    try:
        page.goto(path.as_uri())
        page.wait_for_selector(".reveal.ready", timeout=30_000)
        page.wait_for_function("() => window.MathJax && window.MathJax.Hub && window.MathJax.Hub.queue.pending === 0")
        present = "() => Array.from(document.querySelectorAll('.reveal .slides > section')).findIndex(s => s.classList.contains('present'))"
        layout, font = page.evaluate("() => [getComputedStyle(document.querySelector('.reveal .slides')).pointerEvents,"
                                     " getComputedStyle(document.querySelector('.reveal')).fontFamily]")
        assert layout == "none" and "Source Sans Pro" in font, f"reveal.css and its theme applied: {layout}, {font}"
        for step in range(1, 4):
            page.keyboard.press("ArrowRight")
            page.wait_for_function(f"() => ({present})() === {step}")
        page.wait_for_timeout(500)
        maths = page.locator(".MathJax_CHTML").count()
        assert maths > 0, "MathJax typeset the maths"
        prose = " ".join(page.locator(".reveal .jp-RenderedMarkdown").all_inner_texts())
        assert "$" not in prose, "no raw $...$ left in the slides' text"
        _shot(page, f"deck-offline-{deck.replace('/', '-')}")
    finally:
        chromium.set_offline(False)
    assert not log.errors, "\n".join(log.errors)
