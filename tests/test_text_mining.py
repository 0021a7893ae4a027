"""Text mining with the real spaCy small English model and YAKE, on made-up text."""

from __future__ import annotations

import pytest

from catalog_resources.analysis.local import text_mining as tm
from catalog_resources.analysis.local.text_mining import (
    TextMiningError,
    extract_entities,
    extract_keywords,
    extractive_summary,
    split_sentences,
)
from catalog_resources.models.analysis import Entities

PARAGRAPH = (
    "The city council approved a new solar energy plan on Monday. The solar energy plan will install solar "
    "panels on schools, libraries and other public buildings. Council members said renewable energy will cut "
    "the city's electricity costs. Construction of the solar panels starts next spring."
)

TRANSCRIPT = [
    "Welcome everyone to the quarterly review of our solar energy business.",
    "Solar panel sales grew by twenty percent this quarter across Europe.",
    "My cat knocked over a plant this morning, sorry for being late.",
    "Our solar energy installations in Europe now power forty thousand homes.",
    "Next quarter we expect solar panel demand in Europe to keep growing.",
    "Thanks for joining the review.",
]


def test_entities_person_org_location() -> None:
    found = extract_entities(["Angela Merkel met engineers from Siemens in Munich on Tuesday."])
    assert "Angela Merkel" in found.people
    assert "Siemens" in found.organizations
    assert "Munich" in found.locations


def test_entities_deduplicated_in_order() -> None:
    found = extract_entities([
        "Angela Merkel met engineers from Siemens in Munich on Tuesday.",
        "On Wednesday Angela Merkel visited Siemens again, then flew from Munich to Paris.",
    ])
    assert found.people.count("Angela Merkel") == 1
    assert found.organizations.count("Siemens") == 1
    assert found.locations[:2] == ["Munich", "Paris"]


def test_entities_of_nothing() -> None:
    assert extract_entities([]) == Entities()
    assert extract_entities(["", "   "]) == Entities()


def test_missing_spacy_model_names_the_pip_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tm, "SPACY_MODELS", (("no_such_model_xyz", "no-such-model-xyz"), ("nor_this", "nor-this")))
    with pytest.raises(TextMiningError, match="pip install no-such-model-xyz"):
        extract_entities(["Angela Merkel"])


def test_keywords_contain_expected_terms() -> None:
    keywords = extract_keywords(PARAGRAPH, top=8)
    assert 0 < len(keywords) <= 8
    joined = " | ".join(keywords).casefold()
    assert "solar energy" in joined and "council" in joined and "solar panels" in joined, keywords
    assert len({k.casefold() for k in keywords}) == len(keywords)
    assert all(1 <= len(k.split()) <= 3 for k in keywords)


def test_keywords_of_empty_or_tiny_text() -> None:
    assert extract_keywords("") == []
    assert extract_keywords("   ") == []
    assert extract_keywords("hello there") == []
    assert extract_keywords(PARAGRAPH, top=0) == []


def test_summary_picks_central_sentences_in_order() -> None:
    summary = extractive_summary(TRANSCRIPT, max_sentences=3)
    assert len(summary) == 3
    assert TRANSCRIPT[2] not in summary  # the cat is off topic
    assert summary == [s for s in TRANSCRIPT if s in summary]  # original order
    assert sum("solar" in s.casefold() for s in summary) == 3


def test_summary_small_inputs() -> None:
    assert extractive_summary([]) == []
    assert extractive_summary(["Only one."]) == ["Only one."]
    assert extractive_summary(["First one.", "Second one."]) == ["First one.", "Second one."]
    assert extractive_summary(["First one.", "", "Second one."], max_sentences=3) == ["First one.", "Second one."]
    assert extractive_summary(TRANSCRIPT, max_sentences=0) == []
    assert len(extractive_summary(["a b", "c d", "e f"], max_sentences=2)) == 2  # nothing shared: still picks


def test_split_sentences() -> None:
    text = "Dr. Smith arrived in the U.S. on Monday. He said hi!  Then he left? Yes"
    assert split_sentences(text) == ["Dr. Smith arrived in the U.S. on Monday.", "He said hi!", "Then he left?", "Yes"]
    assert split_sentences("") == []
    assert split_sentences("  \n ") == []


def test_spacy_loads_without_torch_and_torch_still_imports_after():
    """thinc imports torch whenever it is installed (2.2 s, ~250 MB); the NER pipeline needs none of it."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from catalog_resources.analysis.local.text_mining import ner_pipeline\n"
        "doc = ner_pipeline()('Anna Schmidt flew from Berlin to Paris on Monday.')\n"
        "print(sorted(e.label_ for e in doc.ents))\n"
        "print('torch' in sys.modules)\n"
        "import torch\n"
        "print(torch.tensor([1, 2]).sum().item())\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split("\n")
    assert "GPE" in out[0] and "PERSON" in out[0]
    assert out[1] == "False"  # NER ran without torch in the process
    assert out[2] == "3"  # and torch imports normally afterwards
