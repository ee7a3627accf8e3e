"""Every slide of every lesson deck fits a 1280x720 screen: opened offline in headless Chromium.

What a lecturer sees when presenting: each deck is opened as a file with the network off, at a
1280x720 window, with reveal.js' own scaling on (the slide is laid out at the deck's configured
size, 1280x720 in slides.SLIDE_SIZE, and scaled to the window). The test goes to every slide
(``Reveal.slide(h, v)``, sub-slides included; a fragment takes its place before it is shown, so
it is measured too) and checks, for the present slide:

- its content height (the section's ``scrollHeight``, what reveal.js centres) is within the
  configured slide height: nothing runs off the bottom;
- nothing is clipped at the right: the section's ``scrollWidth``, every ``<pre>`` (code, printed
  output) and every element's right edge stay within the slide's width;
- MathJax typeset the maths: no raw ``$...$``, ``$$``, ``\\(`` or ``\\[`` in the visible
  markdown, every formula drawn, no TeX error and no undefined macro.

``test_the_measure_catches_what_does_not_fit`` checks the measure itself on a toy deck.

A failure names the deck, the slide number (as reveal.js shows it, and its h/v indices) and its
heading. Two kinds of deck, for every lesson: **code-only** (as ``make materials`` builds them) and
**executed**: built from the outputs of this test run's nbval execution of the lesson (the gpu
preset's shapes under the step cap: every figure, table and printed line at its full-size shape;
the root conftest.py keeps them, ``executed_lesson``), so a deck with figures costs no second run.
tests/conftest.py runs each executed-deck test in the worker that ran its lesson, after it; a test
run on its own executes the lesson first. Each deck's numbers (slides, too tall, tallest) go to
``build/test-artefacts/slides/fit.json``, and a screenshot of each deck's tallest slide beside it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTEFACTS = ROOT / "build" / "test-artefacts" / "slides"
CHROMIUM = os.environ.get("GAN_COURSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
WINDOW = {"width": 1280, "height": 720}
LESSONS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
DECKS = [f"slides/{n}" for n in LESSONS] + [f"slides-executed/{n}" for n in LESSONS]
TOLERANCE = 1  # px: sub-pixel rounding of scrollHeight/scrollWidth
# MathJax has started (its first typesetting of the page is done) and has nothing queued.
_MATHJAX_DONE = "() => window.MathJax && MathJax.isReady && MathJax.Hub.queue.pending === 0 && !MathJax.Hub.queue.running"


def _require(ok: bool, why: str):
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"{why} (CI must run the browser tests: .ci/run installs these)")
        pytest.skip(why)


# Session-scoped: the executed-deck tests run between a lesson's notebook cells and the next
# lesson's (tests/conftest.py), where a module's fixtures are set up again for each. Chromium stays
# module-scoped: test_browser.py starts its own Playwright, and two cannot run at once in a process.
@pytest.fixture(scope="session")
def decks(tmp_path_factory, executed_lesson):
    """``decks(deck)``: the path of one deck, built on first use, offline (JavaScript in ``vendor/``):
    ``slides/NN`` from the lesson's notebook, ``slides-executed/NN`` from this run's executed copy."""
    from gan_course.teaching import slides

    _require((slides.web_assets_dir() / "reveal.js" / "package.json").is_file(),
             "site/node_modules missing: run `make web-assets`")
    out = tmp_path_factory.mktemp("decks")
    slides.copy_web_assets(out / "vendor")  # once, for both kinds

    def build(deck: str) -> Path:
        kind, name = deck.split("/")
        source = ROOT / "notebooks" / f"{name}.ipynb" if kind == "slides" else executed_lesson(name)
        return slides.build_slides(out / kind, [source], assets="../vendor", verbose=False)[0]

    return build


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    _require(Path(CHROMIUM).is_file(), f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require(False, "Playwright is not installed (pip install -r requirements.txt)")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_FLAGS, viewport=WINDOW)
        context.set_default_timeout(60_000)
        context.set_offline(True)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def summary():
    found = {}
    yield found
    if found:
        path = ARTEFACTS / "fit.json"
        old = json.loads(path.read_text()) if path.is_file() else {}
        path.write_text(json.dumps({**old, **found}, indent=1) + "\n")


# The deck loads reveal.js through RequireJS (no global `Reveal`): asking RequireJS for the same
# module again returns the deck's instance. Then every slide in turn: go there, wait until MathJax
# has re-rendered it (the deck's own `slidechanged` handler starts that, outside MathJax's queue:
# measured before it ends, a maths slide read up to 140 px shorter or taller from run to run),
# measure. Slide transitions are turned off first, so the slide shown is already where it stays
# and nothing waits for animation frames: reading a size lays the page out there and then. (With
# the deck's own transition and two frames' wait before each reading, all 18 decks measured the
# same to the pixel, in three times the time.)
_MEASURE = r"""async (targets) => {
  const script = Array.from(document.scripts).map(s => s.textContent).find(t => t.includes('/dist/reveal.js'));
  const url = script.match(/"([^"]*\/dist\/reveal\.js)"/)[1];
  const Reveal = await new Promise(resolve => require([url], resolve));
  const idle = () => new Promise(resolve => MathJax.Hub.Queue(resolve));
  const frame = () => new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  // Formulas MathJax did not draw: each one's TeX stays in a <script type="math/tex"> whose drawing
  // is the element "<id>-Frame" (MathJax draws a slide's formulas in chunks, so the test waits up
  // to 5 s for them); a TeX error shows the source instead (noErrors) or an error box, an
  // undefined macro its name (noUndefined).
  const frames = slide => Array.from(slide.querySelectorAll('script[type^="math/tex"]'))
      .filter(s => !s.closest('aside.notes')).map(s => s.id && document.getElementById(s.id + '-Frame'));
  const undrawn = slide => frames(slide).filter(f => !f || f.getClientRects().length === 0).length;
  const mathProblems = slide => undrawn(slide)
      + slide.querySelectorAll('.MathJax_Error, .merror, .mjx-merror, .mjx-noError').length
      + frames(slide).filter(f => f && f.querySelector('.mjx-math') && f.querySelector('.mjx-math').textContent.includes('\\')).length;
  const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
  // The deck re-renders a slide's maths when it is shown (its `slidechanged` handler calls
  // MathJax.Hub.Rerender, outside MathJax's main queue): keep a promise of that re-rendering.
  if (!MathJax.Hub.__measure) {
    const rerender = MathJax.Hub.Rerender;
    MathJax.Hub.__measure = true;
    // Typeset each slide in one go: MathJax's chunking pauses (for a page that shows progress
    // while it loads) change when a slide is drawn, not how.
    if (MathJax.OutputJax.CommonHTML && MathJax.OutputJax.CommonHTML.config)
      Object.assign(MathJax.OutputJax.CommonHTML.config, {EqnChunk: 1e6, EqnChunkDelay: 0});
    Object.assign(MathJax.Hub, {processUpdateTime: 1e6, processUpdateDelay: 0, processSectionDelay: 0});
    MathJax.Hub.Rerender = function (element, callback) {
      return window.__rerendered = new Promise(resolve => rerender.call(MathJax.Hub, element, () => {
        if (callback) MathJax.Callback(callback)();
        resolve();
      }));
    };
  }
  Reveal.configure({transition: 'none', backgroundTransition: 'none'});
  const config = Reveal.getConfig();
  const width = Number(config.width), height = Number(config.height);
  const rows = [];
  const horizontal = Reveal.getHorizontalSlides();
  const all = [];
  horizontal.forEach((s, h) => { for (let v = 0; v < Math.max(s.querySelectorAll(':scope > section').length, 1); v++) all.push([h, v]); });
  for (const [h, v] of (targets || all)) {
    window.__rerendered = null;
    Reveal.slide(h, v);
    if (window.__rerendered) await window.__rerendered;
    await idle();
    for (let i = 0; i < 50 && undrawn(Reveal.getCurrentSlide()) > 0; i++) await sleep(100);
    await document.fonts.ready;  // the fonts this slide asked for (MathJax's among them)
    if (targets) {  // a second look: typeset the slide again, let fonts settle
      await MathJax.Hub.Rerender(Reveal.getCurrentSlide());
      await sleep(500); await frame();
    }
    const slide = Reveal.getCurrentSlide();
    const box = slide.getBoundingClientRect();
    const scale = Reveal.getScale();
    // what the room sees: not the speaker notes, not MathJax's hidden MathML copy (for screen readers)
    const visible = el => !el.closest('aside.notes, .MJX_Assistive_MathML') && el.getClientRects().length > 0;
    const right = Array.from(slide.querySelectorAll('*')).filter(visible)
        .map(el => (el.getBoundingClientRect().right - box.left) / scale);
    const pres = Array.from(slide.querySelectorAll('pre')).filter(visible)
        .filter(p => p.scrollWidth > p.clientWidth + 1)
        .map(p => [p.scrollWidth, p.clientWidth, p.innerText.split('\n').find(l => l.length > 60) || p.innerText.slice(0, 60)]);
    const markdown = Array.from(slide.querySelectorAll('.jp-RenderedMarkdown')).filter(visible)
        .map(n => n.innerText).join('\n');
    const raw = markdown.match(/\$\$|\\\(|\\\[|\$[^$\s][^$\n]*\$/g) || [];
    const heading = slide.querySelector('h1, h2, h3, h4');
    const firstText = (slide.innerText || '').trim().split('\n')[0] || '';
    rows.push({
      h, v, number: Reveal.getSlidePastCount(slide) + 1,
      heading: (heading ? heading.textContent : firstText).replace(/\s*¶\s*$/, '').slice(0, 80),
      scrollHeight: slide.scrollHeight, scrollWidth: slide.scrollWidth,
      rightmost: Math.round(Math.max(0, ...right)), pres, raw: raw.slice(0, 3),
      mathErrors: mathProblems(slide),
      notes: !!slide.querySelector('aside.notes'),
    });
  }
  return {width, height, scale: Reveal.getScale(), total: Reveal.getTotalSlides(), rows};
}"""


def _problems(row: dict, width: int, height: int) -> list[str]:
    found = []
    if row["scrollHeight"] > height + TOLERANCE:
        found.append(f"{row['scrollHeight']} px tall (the slide is {height})")
    if row["scrollWidth"] > width + TOLERANCE or row["rightmost"] > width + TOLERANCE:
        found.append(f"content reaches {max(row['scrollWidth'], row['rightmost'])} px (the slide is {width} wide)")
    for scroll, client, line in row["pres"]:
        found.append(f"a code/output block cut at the right ({scroll} px of text in {client} px: {line.strip()[:60]!r})")
    if row["raw"]:
        found.append(f"raw TeX left for MathJax: {row['raw']}")
    if row["mathErrors"]:
        found.append(f"{row['mathErrors']} MathJax error(s)")
    return found


@pytest.mark.parametrize("deck", DECKS)
def test_every_slide_fits_1280x720(chromium, decks, summary, deck):
    path = decks(deck)
    assert path.is_file(), f"{path} was not built"
    page = chromium.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(path.as_uri())
        page.wait_for_selector(".reveal.ready", timeout=30_000)
        page.wait_for_function(_MATHJAX_DONE)
        page.evaluate("() => document.fonts.ready.then(() => true)")
        result = page.evaluate(_MEASURE, None)
        rows, width, height = result["rows"], result["width"], result["height"]
        if any(_problems(row, width, height) for row in rows):
            # Measure the failing slides once more: under load, MathJax's web fonts can arrive after
            # the first typesetting, which leaves a slide taller for a moment. A slide that does
            # not fit stays too tall.
            again = page.evaluate(_MEASURE, [[r["h"], r["v"]] for r in rows if _problems(r, width, height)])["rows"]
            fresh = {(r["h"], r["v"]): r for r in again}
            rows = [fresh.get((r["h"], r["v"]), r) for r in rows]
        bad = [(row, _problems(row, width, height)) for row in rows]
        bad = [(row, p) for row, p in bad if p]
        tallest = max(rows, key=lambda r: r["scrollHeight"])
        summary[deck] = {"slides": len(rows), "too_tall": sum(r["scrollHeight"] > height + TOLERANCE for r in rows),
                         "failing": len(bad), "tallest": tallest["scrollHeight"], "tallest_slide": tallest["number"],
                         "layout": f"{width}x{height}", "with_notes": sum(r["notes"] for r in rows)}
        page.goto(f"{path.as_uri()}#/{tallest['h']}/{tallest['v']}")  # no transition since the measure
        page.wait_for_timeout(100)
        page.screenshot(path=str(ARTEFACTS / f"tallest-{deck.replace('/', '-')}.png"))
    finally:
        page.close()
    assert not errors, f"{deck}: page errors {errors[:3]}"
    print(f"{deck}: {summary[deck]}")
    assert not bad, f"{deck}: {len(bad)} of {len(rows)} slides do not fit {WINDOW['width']}x{WINDOW['height']} " \
                    f"(layout {width}x{height}):\n" + "\n".join(
        f"  slide {row['number']} (#/{row['h']}/{row['v']}) {row['heading']!r}: " + "; ".join(p) for row, p in bad)


def test_the_measure_catches_what_does_not_fit(chromium, tmp_path):
    """The measure itself, on a toy deck: a slide that fits, one too tall, one with a line cut at
    the right, one with a formula MathJax cannot typeset."""
    import nbformat

    from gan_course.teaching import slides

    _require((slides.web_assets_dir() / "reveal.js" / "package.json").is_file(), "site/node_modules missing")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Fits\n\nOne line, and $G(z)$."),
                nbformat.v4.new_markdown_cell("## Too tall\n\n" + "\n\n".join(f"Paragraph {i}." for i in range(40))),
                nbformat.v4.new_markdown_cell('## Too wide\n\n<pre style="white-space: pre">' + "x" * 400 + "</pre>"),
                nbformat.v4.new_markdown_cell("## Bad maths\n\n$\\notamacro{x}$ and $x^{2$")]
    for cell in nb.cells[1:]:
        cell.metadata["slideshow"] = {"slide_type": "slide"}
    nbformat.write(nb, tmp_path / "01_toy.ipynb")
    deck = slides.build_slides(tmp_path / "decks", [tmp_path / "01_toy.ipynb"], assets="vendor", verbose=False)[0]
    page = chromium.new_page()
    try:
        page.goto(deck.as_uri())
        page.wait_for_selector(".reveal.ready", timeout=30_000)
        page.wait_for_function(_MATHJAX_DONE)
        result = page.evaluate(_MEASURE, None)
    finally:
        page.close()
    found = {row["heading"]: _problems(row, result["width"], result["height"]) for row in result["rows"]}
    assert found["Fits"] == [], found
    assert any("px tall" in p for p in found["Too tall"]), found
    assert any("cut at the right" in p for p in found["Too wide"]), found
    assert any("MathJax" in p for p in found["Bad maths"]), found
