"""No run number typed by hand into a lesson's markdown (issue 36; the rule is docs/CONTRIBUTING-numbers.md).

A number that a lesson states about its own run (a score, a time, a share) changes when the code, the
preset or the seed changes; typed into markdown it goes stale silently. So the cell that measured it
prints it (a formatted sentence, a table) and the markdown refers to "the table above"; or the
markdown states an expectation as a range and a code cell of the same section checks it with
``gan_course.expectations.expect``.

The rule, as this test applies it to every markdown cell of every notebook in notebooks/:

* What is scanned: the cell's text with code (```...``` blocks and `spans`) and LaTeX ($...$,
  $$...$$) taken out: digits there are formulas and code, not claims.
* A **run number** is one of
  - a number right after a measured quantity's name, at most a few words and no digit in between:
    ``FID 40``, ``FID of 35.2``, ``FID **128.4**``, ``KID 0.12``, ``coverage 0.96``, ``entropy 0.79``,
    ``precision 0.8``, ``recall``, ``scored 0.031``, ``accuracy``, ``slope 3.12``, ``D(x) 0.58``;
  - a share: ``91 %``, ``38.9%``, ``91 per cent``;
  - a duration: ``192 s``, ``6.6 min``, ``18.5 minutes``, ``32.7 CPU-minutes``, ``2 hours``;
  - a mean with its spread: ``128.4 ± 5.7``.
* It is **allowed** when
  - its sentence cites a paper: ``et al.``, ``arXiv``, ``Table N``, ``paper``, or a year in
    parentheses such as ``(2017)``: the papers' numbers with their citation;
  - it is a range, i.e. preceded closely by *between, below, under, above, over, at most, at least,
    less than, more than, up to, within, from ... to*, **and** a code cell later in the same section
    (before the next ``#``/``##`` heading) calls ``expect(``, which prints the run's value next to
    that range;
  - it is the rounded budget of the lesson's ``**Time**`` line, or an exercise's cost estimate in the
    Exercises section (*about*, *under*, *at most*, *up to*, *well under* a whole number of minutes or
    seconds, or a range ``6–15 minutes``), which tells a student what to plan for; a measured time
    there (``ours: 688 s``, ``18.5 minutes``) is still a run number;
  - it is a setting of the setup rather than a result: a share of the data or a dropout rate
    (``dropout 30 %``, ``10 % of the data``), a number of seconds or minutes that is a budget
    (``a 5-minute budget``, ``for 60 s``, ``budget of``);
  - it is listed in ``ALLOWED`` below with its reason.
* Hyper-parameters and sizes (``learning rate 2e-4``, ``batch 64``, ``28x28``, ``gamma 10``,
  ``1,000 test digits``, ``10 epochs``) are not run numbers: no pattern above matches them.

A ranking typed by hand ("the best row was X") is also a run claim. A test cannot read every ranking, but it
catches the clearest pattern (``typed_rankings``): a sentence that names the lesson's own run (*our run*, *our
runs*, *our `cpu` runs*, *our short runs*, *this run*) and ranks (*better, worse, best, worst, beat, won, ahead,
behind, lower, higher, more than, level with, collapsed, the most, nearer, ...*), unless it cites the record the
ranking comes from (``docs/<name>.md``, ``results/cpu/``). Such a ranking belongs in the cell that measured it, as a
printed sentence that says which way it went, or in an expectation that a cell checks; reviewers check the rest.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

# (notebook, a piece of the cell's text that the hit's sentence contains, why it is not a run number)
# ("*" for every notebook)
ALLOWED: list[tuple[str, str, str]] = [
    ("*", "make up at least 5%", "coverage's definition: the threshold a digit's share must reach, a setting"),
    ("00_gan_theory.ipynb", "hovers around 0.5", "the theory's optimal discriminator, D* = 1/2 when p_g = p_data"),
    ("02_dcgan_image_folder.ipynb", "answers within 3 seconds", "the download's timeout, a setting"),
    ("02_dcgan_image_folder.ipynb", "once it is 90% sure", "what a target of 0.9 means, arithmetic"),
    ("03_wgan_gp_celeba.ipynb", "within 3% of", "JS of two Gaussians computed from the formula, not a run"),
    ("03_wgan_gp_celeba.ipynb", "the FIDs 150, 160, 170", "an exercise's given numbers for a calculation by hand"),
    ("04_gan_zoo.ipynb", "the FIDs 150, 160, 170", "an exercise's given numbers for a calculation by hand"),
    ("04_gan_zoo.ipynb", "A purity of 10%", "what the two extreme purities would mean, arithmetic"),
    ("05_experiments.ipynb", "score FID 100, 110", "an exercise's given numbers for a calculation by hand"),
    ("06_beyond_dcgan.ipynb", "90% of the samples switch", "style mixing's probability, a setting"),
]

# Lessons whose markdown still types run numbers: the test is expected to fail on them (strict, so
# it fails loudly once a lesson is clean and must be taken off this list).
NOT_YET_CLEAN: dict[str, str] = {}  # every lesson is clean now (issue 36)

NUMBER = r"(?<![\w.#/^±§×-])(?!0\d)\d[\d,]*(?:\.\d+)?(?![\w.]*\d)"
METRIC = (r"(?:\bFID|\bKID|\bIS\b|\bcoverage|\bentropy|\bprecision|\brecall|\bscor(?:ed?|es|ing)\b|"
          r"\baccuracy|\bslope|\bD\(x\)|\bD\(G\(z\)\))")
FILLER = r"(?:[^\d.;:|)\n]|\.(?=\w)){0,25}?"  # a few words, no digit, no sentence end, no closing bracket
# a number after a measured quantity's name that is a size or a reference, not a value: "FID on 1,000 samples",
# "FID after 3,750 steps", "the FID of section 7", "cross-entropy with labels 1 and 0", "LeakyReLU slope 0.2"
COUNT_NOUN = re.compile(r"^\s?(?:=|(?:test |training |held-out |real |generated )?(?:samples?|recipe|steps?|epochs?|features?|updates?|images?|digits?|seeds?|dimensions?|renders?|"
                        r"faces?|bricks?|classes|shapes?|attributes?|modes?|passes|runs?|rows?|layers?|trials?|per\b))")
REFERENCE = re.compile(r"(?:section|lesson|exercise|cell|labels?|step|Q|with|like|can exceed|ln|log)\W{0,3}$")
PATTERNS = {
    "metric": re.compile(rf"{METRIC}{FILLER}(?:\*\*)?(?P<n>{NUMBER})"),
    "share": re.compile(rf"(?P<n>{NUMBER})\s?(?:%|per ?cent\b)"),
    "time": re.compile(rf"(?P<n>{NUMBER})(?:\s(?:s|sec|h)|\s?(?:seconds?|min|minutes?|CPU[- ]minutes?|CPU[- ]seconds?|hours?))\b"
                       r"(?![-\w])"),
    "spread": re.compile(rf"(?P<n>{NUMBER})\s?(?:\*\*)?\s?±\s?{NUMBER}"),
}
CITATION = re.compile(r"et al\.|arXiv|\bTable \d|\bpapers?\b|paper's|\((?:[^()]*\D)?(?:19|20)\d\d[a-z]?\)")
RANGE_WORDS = re.compile(r"\b(?:between|below|under|above|over|at most|at least|less than|more than|up to|within|from|"
                         r"to|and|or|than)\W{0,4}(?:\w+\W{1,3}){0,3}$")
APPROXIMATE = re.compile(r"(?:about|around|roughly|under|at most|up to|well under|below|\d+\s?(?:–|-|to))\s*(?:\w+\s+)?$")
SETUP = re.compile(r"(?:dropout|of the (?:data|training|images|digits)|budget|for)\W{0,3}(?:\w+\W{1,3}){0,2}$|"
                   r"^\W{0,3}(?:of the (?:data|training|images|digits)|budget)")


def _mask(text: str) -> str:
    """Code and LaTeX spans with their digits replaced by '#', so formulas and code never match."""
    def hide(match):
        return re.sub(r"\d", "#", match.group(0))
    for pattern in (r"```.*?```", r"\$\$.*?\$\$", r"\$[^$\n]+\$", r"`[^`\n]+`"):
        text = re.sub(pattern, hide, text, flags=re.S)
    return text


def _sentences(text: str):
    """(start, end) of each sentence; a table row, list item, quote line or blank line starts one."""
    cuts = {0, len(text)}
    for m in re.finditer(r"\n(?=\s*(?:\||[-*] |\d+\. |>|#|\n))|\n\s*\n", text):
        cuts.add(m.start())
    for m in re.finditer(r"(?<!\bal)(?<!e\.g)(?<!i\.e)(?<!\bvs)(?<!\bcf)[.!?](?=\s+[A-Z*(\"`$])", text):
        cuts.add(m.end())
    cuts = sorted(cuts)
    return list(zip(cuts, cuts[1:]))


def _section_has_expect(cells, index: int) -> bool:
    for cell in cells[index + 1:]:
        if cell.cell_type == "markdown" and re.search(r"^#{1,2} ", cell.source, re.M):
            return False
        if cell.cell_type == "code" and "expect(" in cell.source:
            return True
    return False


def typed_numbers(path: Path):
    """Every run number typed into a markdown cell: (cell index, kind, the matched text, its sentence)."""
    cells = nbformat.read(path, as_version=4).cells
    exercises = next((i for i, c in enumerate(cells) if c.cell_type == "markdown"
                      and re.match(r"#{1,2} Exercises", c.source.lstrip())), len(cells))
    hits = []
    for index, cell in enumerate(cells):
        if cell.cell_type != "markdown":
            continue
        text = _mask(cell.source)
        for start, end in _sentences(text):
            sentence = text[start:end]
            if CITATION.search(sentence):
                continue
            if any(name in ("*", path.name) and piece in " ".join(sentence.split()) for name, piece, _ in ALLOWED):
                continue
            time_line = (sentence.lstrip().startswith("**Time**") or "**Time**" in text[:start + 1][-400:] and
                         sentence.lstrip().startswith("(") or index > exercises)
            for kind, pattern in PATTERNS.items():
                for m in pattern.finditer(sentence):
                    before = sentence[:m.start("n")]
                    after = sentence[m.end("n"):]
                    if RANGE_WORDS.search(before[-40:]) and _section_has_expect(cells, index):
                        continue
                    if kind == "metric" and (m.group("n") in ("0", "1") or COUNT_NOUN.search(after)
                                             or REFERENCE.search(before) or re.search(r"LeakyReLU|leaky", sentence, re.I)):
                        continue
                    if kind == "share" and re.match(r"\s?(?:%|per ?cent)\s+per step", after):
                        continue
                    if kind in ("share", "time") and (SETUP.search(before[-30:]) or SETUP.search(after[:30])):
                        continue
                    if kind == "time" and time_line and APPROXIMATE.search(before[-25:]) and "." not in m.group("n"):
                        continue
                    hits.append((index, kind, m.group(0).strip(), " ".join(sentence.split())[:160]))
    # one hit per matched text per cell (the same number can match two patterns)
    unique = {}
    for hit in hits:
        unique.setdefault((hit[0], hit[3], hit[2][-8:]), hit)
    return list(unique.values())


OWN_RUN = re.compile(r"\bour\s+(?:`?cpu`?\s+|short\s+|first\s+|last\s+|own\s+)?runs?\b|\bthis\s+run\b(?!'s)", re.I)
RANKING = re.compile(r"\b(?:better|worse|best|worst|beat|beats|won|wins|lost|ahead|behind|lower|higher|fewer|more than|"
                     r"less than|level with|outperform\w*|collapsed|spread more|the most|the least|faster|slower|cleaner|"
                     r"stronger|weaker|nearer|closer|farther)\b", re.I)
RECORD = re.compile(r"docs/[\w-]+\.md|results/cpu/")


def typed_rankings(path: Path):
    """Every sentence of a markdown cell that ranks the lesson's own run by hand: (cell index, the sentence)."""
    hits = []
    for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type != "markdown":
            continue
        text = _mask(cell.source)
        for start, end in _sentences(text):
            sentence = text[start:end]
            if OWN_RUN.search(sentence) and RANKING.search(sentence) and not RECORD.search(sentence):
                hits.append((index, " ".join(sentence.split())[:200]))
    return hits


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_ranking_of_the_own_run_typed_into_markdown(notebook):
    hits = typed_rankings(notebook)
    report = "\n".join(f"  cell [{i}]: {sentence}" for i, sentence in hits)
    assert not hits, (f"{notebook.name}: {len(hits)} ranking(s) of the lesson's own run typed into markdown; print it from "
                      f"the cell that measured it (a sentence that says which way it went), state it as an expectation "
                      f"that a cell checks, or cite the record it comes from (docs/CONTRIBUTING-numbers.md):\n{report}")


@pytest.mark.parametrize("text, flagged", [
    ("In our runs the hinge loss beat LSGAN.", True),
    ("Its seeds spread more than the other rows' in our runs.", True),
    ("In our `cpu` run\nDDPM's full chain gave the best FID.", True),
    ("With lambda = 1, in our runs its faces were the most saturated of the three.", True),
    ("In this run the hinge loss was the best row.", True),
    ("The cell below says whether the hinge loss beat LSGAN.", False),
    ("The line under the table says which row won. In our runs the grid showed round digits.", False),
    ("Hinge beat LSGAN in the course's last record (`results/cpu/lesson07_ablation_mnist.jsonl`), in our runs.", False),
    ("In our runs, R1 did better (`docs/recipes_log.md`).", False),
    ("Expect the hinge row to be at most 1.2 times LSGAN's FID; the table gives this run's numbers.", False),
])
def test_the_ranking_rule_on_examples(tmp_path, text, flagged):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
    path = tmp_path / "99_example.ipynb"
    nbformat.write(nb, path)
    assert bool(typed_rankings(path)) is flagged, typed_rankings(path)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_run_number_typed_into_markdown(notebook, request):
    if notebook.name in NOT_YET_CLEAN:
        request.applymarker(pytest.mark.xfail(strict=True, reason=NOT_YET_CLEAN[notebook.name]))
    hits = typed_numbers(notebook)
    report = "\n".join(f"  cell [{i}] {kind} '{found}': {sentence}" for i, kind, found, sentence in hits)
    assert not hits, (f"{notebook.name}: {len(hits)} run number(s) typed into markdown; print them from the cell "
                      f"that measured them, or state a range that a later cell of the section checks with "
                      f"expect() (docs/CONTRIBUTING-numbers.md):\n{report}")


@pytest.mark.parametrize("text, flagged", [
    ("The run reached FID 40 after ten epochs.", True),
    ("It scored an FID of 35.2 here.", True),
    ("coverage 0.96 and 91 % of samples read", True),
    ("The sweep took 6.6 min; the first run finished in 192 s.", True),
    ("Baseline: FID **128.4 ± 5.7** over three seeds.", True),
    ("DCGAN (Radford et al. 2015) reported FID 37 on LSUN (paper, Table 2).", False),
    ("Adam with learning rate 2e-4, batch 64, images 28x28, gamma 10, 1,000 test digits, 10 epochs.", False),
    ("The loss is $\\log(1 - D(G(z)))$ with $\\lambda = 10$ and `fid = 40`.", False),
    ("Dropout 30 % in D, a 5-minute budget.", False),
])
def test_the_rule_on_examples(tmp_path, text, flagged):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
    path = tmp_path / "99_example.ipynb"
    nbformat.write(nb, path)
    assert bool(typed_numbers(path)) is flagged, typed_numbers(path)


def test_a_range_counts_only_when_a_cell_of_its_section_checks_it(tmp_path):
    text = "**What to expect at the `cpu` preset**: FID between 25 and 60, coverage above 0.9."
    for code, flagged in [("print(fid)", True), ("expect('FID', fid, 25, 60)", False)]:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text), nbformat.v4.new_code_cell(code)])
        path = tmp_path / "99_example.ipynb"
        nbformat.write(nb, path)
        assert bool(typed_numbers(path)) is flagged


def test_a_range_word_must_be_a_whole_word(tmp_path):
    """'or' inside 'score' is no range word, even in a section whose cell calls expect()."""
    text = "The fast recipe should land below FID 15; the real digits score FID 2.5."
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text),
                                         nbformat.v4.new_code_cell("expect('FID', fid, 0, 15)")])
    path = tmp_path / "99_example.ipynb"
    nbformat.write(nb, path)
    assert [found for _, _, found, _ in typed_numbers(path)] == ["score FID 2.5"]
