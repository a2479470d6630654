"""Dictionary NER and Schwartz-Hearst abbreviations on hand-made inputs with known answers."""

from __future__ import annotations

from discovery.literature.abbreviations import find_abbreviations
from discovery.literature.documents import Document, Mention
from discovery.literature.ner import DictionaryNER, NERConfig, term_key
from discovery.literature.vocab import Term


def _ner(**cfg) -> DictionaryNER:
    terms = [
        Term("renal failure", "Disease", "MESH:D051437", "mesh"),
        Term("acute renal failure", "Disease", "MESH:D058186", "mesh"),
        Term("Ulcer", "Disease", "MESH:D014456", "mesh"),
        Term("Neuroleptic Malignant Syndrome", "Disease", "MESH:D009459", "mesh"),
        Term("Nitric Oxide", "Chemical", "MESH:D009569", "mesh"),
        Term("NO", "Chemical", "MESH:D009569", "mesh"),
        Term("cisplatin", "Chemical", "MESH:D002945", "mesh"),
        Term("cyclophosphamide", "Chemical", "MESH:D003520", "mesh"),
        Term("drug", "Chemical", "MESH:D004364", "mesh"),          # on the stop-list
        Term("Antidepressive Agents", "Chemical", "MESH:D000928", "mesh", "D27"),  # excluded tree
        Term("BRCA1", "Gene", "HGNC:1100", "hgnc-symbol"),
        Term("anaemia", "Disease", "MESH:D000740", "ctd"),
    ]
    return DictionaryNER.from_terms(terms, NERConfig(**cfg))


def spans(ms):
    return [(m.text, m.type, m.id) for m in ms]


def test_longest_match_plural_and_title_case():
    ner = _ner()
    text = "Cisplatin caused acute renal failure and ulcers; neuroleptic malignant syndrome was rare."
    assert spans(ner.find(text)) == [
        ("Cisplatin", "Chemical", "MESH:D002945"),
        ("acute renal failure", "Disease", "MESH:D058186"),
        ("ulcers", "Disease", "MESH:D014456"),
        ("neuroleptic malignant syndrome", "Disease", "MESH:D009459"),
    ]


def test_case_sensitive_short_terms_stop_list_and_excluded_trees():
    ner = _ner()
    assert spans(ner.find("There was no effect of NO on the drug.")) == [("NO", "Chemical", "MESH:D009569")]
    assert ner.find("antidepressive agents were given") == []
    assert spans(ner.find("BRCA1 but not brca1")) == [("BRCA1", "Gene", "HGNC:1100")]


def test_british_spelling_matches_american_entry():
    assert term_key("anaemia") == term_key("anemia")
    assert spans(_ner().find("Severe anemia developed.")) == [("anemia", "Disease", "MESH:D000740")]


def test_abbreviation_defined_by_entity_is_propagated():
    ner = _ner()
    text = "Nitric oxide (NO) levels rose. Later NO fell, and cyclophosphamide (CPA) was stopped; CPA is toxic."
    got = spans(ner.find(text))
    assert got.count(("NO", "Chemical", "MESH:D009569")) == 2
    assert got.count(("CPA", "Chemical", "MESH:D003520")) == 2
    # a parenthesis that is no Schwartz-Hearst pair propagates nothing
    assert not any(g[0] == "CDDP" for g in spans(ner.find("Cisplatin (CDDP) helps. CDDP.")))


def test_short_form_defined_as_something_else_is_suppressed():
    ner = _ner()
    text = "The normal output (NO) group. NO was high."
    assert ner.find(text) == []
    assert len(_ner(suppress_undefined_short_forms=False).find(text)) == 2


def test_fit_adds_annotated_terms_prunes_unannotated_and_learns_modifiers():
    ner = _ner(min_count=2, min_precision=0.5)
    docs = []
    for i in range(3):
        t = f"Patients on zorbicide had postoperative ulcers. The drug ulcer {i} score."
        d = Document(pmid=str(i), title=t)
        s = t.index("zorbicide")
        u = t.index("postoperative ulcers")
        d.mentions = [Mention(s, s + 9, "zorbicide", "Chemical", "MESH:C000001", "gold"),
                      Mention(u, u + 20, "postoperative ulcers", "Disease", "MESH:D014456", "gold")]
        docs.append(d)
    ner.fit(docs)
    assert ner.stats["terms_added_from_training"] >= 1
    assert "prefix" in ner.modifiers["Disease"] and "postoperative" in ner.modifiers["Disease"]["prefix"]
    # the bare "ulcer" of "The drug ulcer" is never annotated: pruned
    assert term_key("ulcer") in ner.stats["pruned_examples"]
    got = spans(ner.find("zorbicide gave postoperative ulcers"))
    assert got == [("zorbicide", "Chemical", "MESH:C000001"), ("postoperative ulcers", "Disease", "MESH:D014456")]


def test_save_load_roundtrip(tmp_path):
    ner = _ner()
    ner.modifiers = {"Disease": {"prefix": {"postoperative"}, "suffix": set()}}
    p = ner.save(tmp_path / "ner.json.gz")
    back = DictionaryNER.load(p)
    text = "Nitric oxide (NO) and postoperative acute renal failure."
    assert spans(back.find(text)) == spans(ner.find(text))


def test_schwartz_hearst():
    text = "plasma renin activity (PRA) and 5-fluorouracil (5-FU), tumor necrosis factor alpha (TNF-alpha); in 12 (40%)"
    got = [(a.short, a.long) for a in find_abbreviations(text)]
    assert got == [("PRA", "plasma renin activity"), ("5-FU", "5-fluorouracil"),
                   ("TNF-alpha", "tumor necrosis factor alpha")]
    a = find_abbreviations(text)[0]
    assert text[a.long_start:a.long_end] == a.long and text[a.short_start:a.short_end] == a.short
