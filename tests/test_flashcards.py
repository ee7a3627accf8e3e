"""The flashcard deck: schema, links to notebook headings, and the Anki/CSV export round trip.

Every lesson notebook present is checked, so the tests grow with the course.
"""

import csv
import html
import json
import re
import sqlite3
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from gan_course.teaching import flashcards as fc

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
DECK_FILES = sorted((ROOT / "gan_course" / "teaching" / "cards").glob("*.yaml"))


def _ids(paths):
    return [p.stem for p in paths]


@pytest.fixture(scope="module")
def deck():
    return fc.load_deck(ROOT / "gan_course" / "teaching" / "cards")


# --------------------------------------------------------------------------- the committed deck

@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_every_lesson_has_a_flashcard_file(notebook):
    expected = ROOT / "gan_course" / "teaching" / "cards" / f"{notebook.stem}.yaml"
    assert expected.is_file(), (f"notebooks/{notebook.name} has no flashcards: write gan_course/teaching/cards/{notebook.stem}.yaml "
                                "(at least 8 cards, see gan_course/teaching/cards/README.md)")


@pytest.mark.parametrize("path", DECK_FILES, ids=_ids(DECK_FILES))
def test_flashcard_file_follows_the_schema(path):
    lesson = fc.load_lesson(path)  # raises DeckError naming the file and the problem
    assert (ROOT / "notebooks" / f"{lesson.name}.ipynb").is_file(), f"{path.name}: no notebook of that name"
    assert len(lesson.cards) >= fc.MIN_CARDS_PER_LESSON, f"{path.name}: {len(lesson.cards)} cards, need 8"


def test_ids_are_unique_across_lessons(deck):
    ids = [c.id for lesson in deck.values() for c in lesson.cards] + \
          [e.id for lesson in deck.values() for e in lesson.exercises]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


@pytest.mark.parametrize("path", DECK_FILES, ids=_ids(DECK_FILES))
def test_every_card_links_to_a_heading_of_its_notebook(path):
    lesson = fc.load_lesson(path)
    notebook = ROOT / "notebooks" / f"{lesson.name}.ipynb"
    headings = fc.notebook_headings(notebook)
    broken = [f"{c.id}: {c.section!r}" for c in lesson.cards if c.section not in headings]
    assert not broken, f"{path.name}: sections that are not headings of {notebook.name}: {broken}"


@pytest.mark.parametrize("path", DECK_FILES, ids=_ids(DECK_FILES))
def test_every_exercise_cites_existing_cards(path, deck):
    known = {c.id for lesson in deck.values() for c in lesson.cards}
    lesson = deck[path.stem]
    assert lesson.exercises, f"{path.name} has no exercises"
    unknown = [(e.id, c) for e in lesson.exercises for c in e.cards if c not in known]
    assert not unknown, f"{path.name}: exercises cite unknown cards {unknown}"


def test_deck_problems_is_empty_for_the_committed_course():
    problems = fc.deck_problems(ROOT / "gan_course" / "teaching" / "cards", ROOT / "notebooks")
    assert not problems, "\n".join(problems)


# The sources' concepts the deck must cover (the issue's list, made concrete), each found in some
# card's question, answer or tags. A regex per concept keeps the wording free.
CONCEPTS = {
    "architecture: transposed convolution": r"conv2dtranspose|transposed conv",
    "architecture: up-sampling + convolution": r"upsampling2d",
    "architecture: initial-size rule": r"initial size|initial =",
    "architecture: batch norm": r"batch norm",
    "architecture: DCGAN weight init": r"0\.02",
    "losses: minimax": r"minimax",
    "losses: non-saturating": r"non-saturating",
    "losses: binary cross-entropy": r"cross-entropy|\bbce\b",
    "training problems: mode collapse": r"mode collapse",
    "training problems: vanishing gradients": r"vanishing|no gradient|gradient fades",
    "training problems: label smoothing": r"label smoothing",
    "WGAN: Wasserstein distance": r"wasserstein",
    "WGAN: Lipschitz critic": r"lipschitz",
    "WGAN: weight clipping": r"clip",
    "WGAN-GP: gradient penalty": r"gradient penalty",
    "WGAN-GP: uniform alpha": r"U\[0, ?1\]|uniform",
    "WGAN-GP: critic steps": r"n_critic|critic steps|critic updates",
    "evaluation: FID": r"\bfid\b",
    "evaluation: KID": r"\bkid\b",
    "evaluation: memorisation check": r"memoris|copying|copy",
    "evaluation: fixed noise": r"fixed noise",
    "saving: .keras files": r"\.keras\b",
    "saving: never pickle": r"pickle",
    "saving: checkpoints": r"checkpoint|backupandrestore",
    "hyperparameters: learning rate": r"learning rate|learning_rate",
    "hyperparameters: Adam beta_1": r"beta_1",
    "hyperparameters: batch size": r"batch size|bigger batch",
    "hyperparameters: latent size": r"latent",
    "data: augmentation": r"augment",
}
# The GAN zoo of the sources (vanilla to StyleGAN) belongs to lesson 04; checked once it exists.
ZOO_CONCEPTS = {
    "conditional GAN": r"conditional|\bcgan\b",
    "CycleGAN": r"cyclegan|cycle[- ]consistency",
    "LSGAN": r"lsgan|least[- ]squares",
    "hinge loss": r"hinge",
    "InfoGAN": r"infogan",
    "Pix2Pix": r"pix2pix",
    "StyleGAN": r"stylegan",
}
HAS_ZOO = any(p.name.startswith("04_") for p in NOTEBOOKS)


def _deck_text(deck):
    return " ".join(f"{c.question} {c.answer} {' '.join(c.tags)}" for lesson in deck.values() for c in lesson.cards)


@pytest.mark.parametrize("concept", CONCEPTS)
def test_the_deck_covers_the_sources_concepts(concept, deck):
    assert re.search(CONCEPTS[concept], _deck_text(deck), re.IGNORECASE), f"no flashcard covers {concept}"


@pytest.mark.skipif(not HAS_ZOO, reason="lesson 04 (GAN zoo) is not in notebooks/ yet")
@pytest.mark.parametrize("concept", ZOO_CONCEPTS)
def test_the_deck_covers_the_gan_zoo(concept, deck):
    assert re.search(ZOO_CONCEPTS[concept], _deck_text(deck), re.IGNORECASE), f"no flashcard covers {concept}"


# --------------------------------------------------------------------------- one fact, one home card
#
# Two cards that state the same fact drift apart when one is fixed and the other is not. A pair's
# similarity is the mean of
#   (a) the TF-IDF cosine of the two cards' question + answer words (IDF over the whole course, so a term
#       that few cards use, such as 'lsgan' or 'run_sweep', weighs more than 'generator' or 'loss'), and
#   (b) the share of the shorter card's word trigrams (question + answer) that the other card also has:
#       a phrase or formula copied from card to card.
# The threshold comes from the data. On the decks as they were at fa8a2a2 it flagged 9 pairs, scoring
# 0.29-0.52, all stating one fact twice (theory-saturation / non-saturating-loss / zoo-minimax-saturates,
# theory-lsgan-loss / zoo-lsgan-loss, theory-hinge-loss / zoo-hinge-loss, zoo-sweep-cache /
# exp-resumable-sweep, exp-ttur / ttur-ratio, safe-model-saving / pickle-unsafe, theory-optimal-d /
# optimal-discriminator), and no pair of different cards: those scored at most 0.28 then
# (theory-lsgan-loss / theory-hinge-loss, two bare formulas) and 0.24 after the merge
# (forward-closed-form / ddpm-ancestral-step, which share alpha_bar_t's notation). Reworded duplicates
# that share few words (gan-two-players / theory-players scored 0.03) are beyond a lexical test:
# reviewers catch those.
DUPLICATE_THRESHOLD = 0.29

_STOPWORDS = frozenset(
    "the a an of and or to in is it its for on with by as at be that this what which why how does do from are not "
    "than when one each so but if you your they their them there then these those was were has have had can will "
    "would should into onto out about over under more most less very only also all any some".split())


def _words(text):
    return [w for w in re.findall(r"[a-z][a-z0-9_'-]*|\d+(?:\.\d+)?", text.lower())
            if w not in _STOPWORDS and len(w) > 1]


def _trigrams(text):
    tokens = re.findall(r"[a-z0-9_]+", text.lower())
    return {tuple(tokens[i:i + 3]) for i in range(len(tokens) - 2)}


def card_similarities(cards):
    """Every pair of cards with its similarity in [0, 1], highest first: (score, card, card)."""
    import collections
    import itertools
    import math

    cards = list(cards)
    texts = {c.id: f"{c.question} {c.answer}" for c in cards}
    words = {cid: _words(t) for cid, t in texts.items()}
    df = collections.Counter(w for ws in words.values() for w in set(ws))
    vectors = {}
    for cid, ws in words.items():
        v = {w: (1 + math.log(n)) * math.log(len(cards) / df[w]) for w, n in collections.Counter(ws).items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        vectors[cid] = {w: x / norm for w, x in v.items()}
    trigrams = {cid: _trigrams(t) for cid, t in texts.items()}
    pairs = []
    for a, b in itertools.combinations(cards, 2):
        cosine = sum(x * vectors[b.id].get(w, 0.0) for w, x in vectors[a.id].items())
        shared = len(trigrams[a.id] & trigrams[b.id]) / max(1, min(len(trigrams[a.id]), len(trigrams[b.id])))
        pairs.append(((cosine + shared) / 2, a, b))
    return sorted(pairs, key=lambda p: -p[0])


def near_duplicate_cards(lessons, threshold=DUPLICATE_THRESHOLD):
    """The pairs of cards, anywhere in the course, similar enough to state the same fact."""
    cards = [c for lesson in lessons.values() for c in lesson.cards]
    return [p for p in card_similarities(cards) if p[0] >= threshold]


def test_no_two_cards_state_the_same_fact(deck):
    pairs = near_duplicate_cards(deck)
    assert not pairs, (
        "cards that state the same fact (similarity >= {:.2f}):\n".format(DUPLICATE_THRESHOLD)
        + "\n".join(f"  {a.id} ({a.lesson}) and {b.id} ({b.lesson}): {s:.2f}" for s, a, b in pairs)
        + "\nA fact has one home: keep one home card (normally in the earliest lesson that teaches it; merge any "
          "extra correct detail into it) and delete the other; link the exercises whose `cards:` name it, and the "
          "notebooks' and docs' mentions of it, to the home card. If the two cards ask different things, make the "
          "later one ask its lesson's own angle and drop the restated fact from its answer.")


def test_the_duplicate_check_flags_a_restated_fact_and_passes_different_ones():
    Card = SimpleNamespace
    cards = [
        Card(id="early-lsgan", lesson="00_a", question="Write the LSGAN losses with targets a = 0, b = c = 1.",
             answer="L_D = 1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2]; L_G = 1/2 E[(D(G(z)) - 1)^2], raw scores."),
        Card(id="late-lsgan", lesson="04_b", question="Write the LSGAN losses with the usual targets.",
             answer="L_D = 1/2 E_x[(D(x) - 1)^2] + 1/2 E_z[D(G(z))^2], L_G = 1/2 E_z[(D(G(z)) - 1)^2]."),
        Card(id="hinge", lesson="00_a", question="Write the hinge losses used by SAGAN and BigGAN.",
             answer="L_D = E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]; L_G = -E[D(G(z))]."),
        Card(id="pickle", lesson="01_c", question="Why never load a pickle file from someone else?",
             answer="Unpickling runs whatever code the file contains, so it can take over your machine."),
        Card(id="adam", lesson="01_c", question="Which optimizer settings does DCGAN use?",
             answer="Adam with learning rate 2e-4 and beta_1 = 0.5 for both players."),
    ]
    lessons = {"all": SimpleNamespace(cards=cards)}
    flagged = [{a.id, b.id} for _, a, b in near_duplicate_cards(lessons)]
    assert flagged == [{"early-lsgan", "late-lsgan"}], flagged


# --------------------------------------------------------------------------- the validator itself

GOOD_CARD = {"question": "Q?", "answer": "A.", "tags": ["t"], "section": "Part one"}


def _write_lesson(folder, stem, n_cards=8, section="Part one", exercises=None, prefix="c", extra=None):
    import yaml

    cards = [dict(GOOD_CARD, id=f"{prefix}{i}", section=section) for i in range(n_cards)]
    data = {"lesson": stem, "cards": cards, "exercises": exercises if exercises is not None else
            [{"id": f"{stem[:2]}-ex", "prompt": "Do it.", "cards": [f"{prefix}0"], "answer": 3}]}
    data.update(extra or {})
    (folder / f"{stem}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def _write_notebook(folder, stem, headings=("Lesson", "Part one", "Exercises")):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"## {h}\n\ntext") for h in headings]
    nb.cells.insert(1, nbformat.v4.new_markdown_cell("```python\n# Not a heading\n```"))
    nbformat.write(nb, folder / f"{stem}.ipynb")


@pytest.fixture
def course(tmp_path):
    cards, notebooks = tmp_path / "flashcards", tmp_path / "notebooks"
    cards.mkdir(), notebooks.mkdir()
    _write_lesson(cards, "01_one")
    _write_notebook(notebooks, "01_one")
    return cards, notebooks


def test_a_valid_toy_course_has_no_problems(course):
    assert fc.deck_problems(*course) == []
    lessons = fc.validate_deck(*course)
    assert [c.id for c in lessons["01_one"].cards] == [f"c{i}" for i in range(8)]


def test_headings_skip_code_fences(course):
    headings = fc.notebook_headings(course[1] / "01_one.ipynb")
    assert headings == ["Lesson", "Part one", "Exercises"]


def test_a_notebook_without_cards_is_named(course):
    _write_notebook(course[1], "02_two")
    problems = fc.deck_problems(*course)
    assert any("cards/02_two.yaml" in p for p in problems), problems


def test_duplicate_ids_across_lessons_are_refused(course):
    _write_notebook(course[1], "02_two")
    _write_lesson(course[0], "02_two")  # same card ids c0..c7
    with pytest.raises(fc.DeckError, match="used twice.*01_one.yaml.*02_two.yaml"):
        fc.load_deck(course[0])


def test_a_section_that_is_not_a_heading_is_reported(course):
    _write_lesson(course[0], "01_one", section="Part 1")
    problems = fc.deck_problems(*course)
    assert len(problems) == 8 and "'Part 1' is not a heading" in problems[0]


def test_too_few_cards_and_unknown_exercise_cards_are_reported(course):
    _write_lesson(course[0], "01_one", n_cards=3,
                  exercises=[{"id": "01-x", "prompt": "p", "cards": ["nope"]}])
    problems = " ".join(fc.deck_problems(*course))
    assert "has 3 cards" in problems and "unknown card 'nope'" in problems


@pytest.mark.parametrize("change, message", [
    ({"lesson": "01_other"}, "must equal the file stem"),
    ({"colour": "red"}, "unknown top-level keys"),
    ({"cards": [dict(GOOD_CARD, id="Bad_ID")]}, "kebab-case"),
    ({"cards": [dict(GOOD_CARD, id="ok", sectoin="x")]}, "unknown keys \\['sectoin'\\]"),
    ({"cards": [dict(GOOD_CARD, id="ok", tags="one")]}, "tags must be a non-empty YAML list"),
    ({"exercises": [{"id": "ex1", "prompt": "p", "cards": ["c0"]}]}, "must look like '01-short-name'"),
    ({"exercises": [{"id": "01-a", "prompt": "p", "cards": ["c0"], "answer": True}]}, "YAML boolean"),
    ({"exercises": [{"id": "01-a", "prompt": "p", "cards": ["c0"], "answer": "x", "tolerance": 0.1}]},
     "no numeric answer"),
])
def test_schema_errors_name_the_problem(course, change, message):
    _write_lesson(course[0], "01_one", extra=change)
    with pytest.raises(fc.DeckError, match=message):
        fc.load_lesson(course[0] / "01_one.yaml")


# --------------------------------------------------------------------------- export round trip

def _read_apkg(path):
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        assert "collection.anki2" in names, names
        data = z.read("collection.anki2")
    db = path.parent / "collection.anki2"
    db.write_bytes(data)
    con = sqlite3.connect(db)
    try:
        notes = con.execute("select guid, mid, tags, flds from notes").fetchall()
        n_cards = con.execute("select count(*) from cards").fetchone()[0]
        models = json.loads(con.execute("select models from col").fetchone()[0])
        decks = json.loads(con.execute("select decks from col").fetchone()[0])
    finally:
        con.close()
    return notes, n_cards, models, decks


def _unhtml(text):
    return html.unescape(text.replace("<br>", "\n"))


def test_anki_export_reads_back_equal_to_the_yaml(tmp_path, deck):
    pytest.importorskip("genanki")
    path = fc.export_apkg(deck, tmp_path / "deck.apkg")
    notes, n_cards, models, decks = _read_apkg(path)
    cards = {c.id: c for lesson in deck.values() for c in lesson.cards}
    assert len(notes) == n_cards == len(cards)
    assert str(fc.ANKI_MODEL_ID) in models
    deck_names = {d["name"] for d in decks.values()}
    assert {f"gan-course::{name}" for name in deck} <= deck_names
    seen = set()
    for guid, mid, tags, flds in notes:
        card_id, question, answer, lesson, section = flds.split("\x1f")
        card = cards[card_id]
        seen.add(card_id)
        assert mid == fc.ANKI_MODEL_ID
        assert guid == fc.card_guid(card_id)
        assert _unhtml(question) == card.question and _unhtml(answer) == card.answer
        assert lesson == card.lesson and _unhtml(section) == card.section
        assert set(tags.split()) == {t.replace(" ", "_") for t in card.tags} | {card.lesson}
    assert seen == set(cards)


def test_anki_ids_are_stable_between_builds(tmp_path, deck):
    pytest.importorskip("genanki")
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    first = _read_apkg(fc.export_apkg(deck, tmp_path / "a" / "deck.apkg"))[0]
    second = _read_apkg(fc.export_apkg(deck, tmp_path / "b" / "deck.apkg"))[0]
    assert sorted(n[0] for n in first) == sorted(n[0] for n in second)
    assert fc.card_guid("initial-size-rule") == fc.card_guid("initial-size-rule") != fc.card_guid("other")


def test_csv_export_reads_back_equal_to_the_yaml(tmp_path, deck):
    path = fc.export_csv(deck, tmp_path / "cards.csv")
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    cards = [c for lesson in deck.values() for c in lesson.cards]
    assert [r["id"] for r in rows] == [c.id for c in cards]
    for row, card in zip(rows, cards):
        assert (row["question"], row["answer"], row["lesson"], row["section"]) == \
               (card.question, card.answer, card.lesson, card.section)
        assert row["tags"].split() == [t.replace(" ", "_") for t in card.tags]
