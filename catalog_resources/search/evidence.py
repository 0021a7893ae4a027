"""What a person reads about a search hit: a match strength (0-100 %) made from the evidence itself, and why.

Reciprocal rank fusion orders the hits, but its number (1/(60 + rank) summed) says nothing about how good a
match is. The strength is made from the evidence instead: the best cosine similarity of the clip or of one of
its segments, mapped through the model's calibration (bench/relevance.py measures it on the relevance set),
and the query's words found in the clip's text. The reasons say where the evidence is: a transcript line, a
scene's on-screen text, a visual label, a tag, with the time range, and which words matched.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from catalog_resources.models.search import MatchReason

# Where a segment's words come from, by segments.segment_type; an unknown type is shown as it is stored.
SOURCES = {"transcript": "transcript", "scene_change": "scene", "visual": "visual", "screen_text": "on-screen text",
           "speaker_change": "transcript", "manual": "manual segment"}

# Words that describe the search, not the footage: "clips mentioning a bank robbery" is about a bank robbery.
# Left in, they pull every clip's similarity up (measured: "clips mentioning a stock market crash" 0.845 against
# 0.817 without them, above the cut-off) and no full-text document contains "clips mentioning".
_META = re.compile(r"^\s*(?:(?:show|find|give)\s+(?:me\s+)?)?(?:all\s+|any\s+|the\s+)?"
                   r"(?:clips?|videos?|footage|shots?|scenes?|recordings?)\s+"
                   r"(?:that\s+|which\s+)?(?:mentioning|mention|mentions|about|of|showing|show|shows|with|where|containing|featuring)\s+",
                   re.IGNORECASE)

# Words too common to count as evidence that a clip is about the query.
STOP_WORDS = frozenset(
    "a an and are as at be by for from he her his i in into is it its of on or she that the their they this to "
    "up was we with you your about over all one clip clips video videos footage shot shots scene scenes".split())


# A hit this many points (of 100) weaker than the best hit of the same answer is filler, not a match: a broad
# query such as "interview" found four interviews at 88-90 % and then very short transcript lines ("Yes!") at
# 50-58 %. Measured by bench/relevance.py (bench/tail.py) at MIN_SIMILARITY: every expected clip that is found
# sits at most 1 point below its answer's best hit (45 on the spoken set, 10 on the visual set), so no gap from
# 10 to 50 loses one; 25 drops 16 of the 22 other hits on the spoken set and 8 of the 30 on the visual set,
# and keeps hits within a few points of the best, where near duplicates (two interviews, two coastlines) sit.
TAIL_GAP = 25


# Words that say something is NOT in the shot must not answer a search for it. "no people" (a frame's shot type
# without faces, the offline analyzer's scene label and summary) in the full-text document made a search for
# "people" on tests/visual_relevance_set.py return the ten clips without anyone at 75-88 % and neither of the
# two with a person.
_ABSENT = re.compile(r"\bno people\b", re.IGNORECASE)
# What removing it leaves behind in the offline summary's "label: a, b; label: c." list: an empty item, a
# dangling comma.
_TIDY = (
    (re.compile(r"\b\w[\w-]*:\s*(?=[;.]|$)"), ""),  # "framing: ;" -> ";"
    (re.compile(r",\s*(?=[;.,]|$)"), ""),  # "medium, ;" -> "medium;"
    (re.compile(r"(?<=:)\s*,"), ""),  # "framing: , medium" -> "framing: medium"
    (re.compile(r"(?:^|(?<=\bshows))\s*;"), ""),  # "shows ; sound" -> "shows sound"
    (re.compile(r";\s*(?=[.;]|$)"), ""),  # "speech; ." -> "speech."
)
_SAYS_NOTHING = re.compile(r"(?:The clip shows)?\s*\.?", re.IGNORECASE)


class Calibration(BaseModel):
    """Two measured similarities of one model: where a match is as likely as not (the cut-off, 50 %) and where
    nine in ten correct matches already are (100 %)."""

    cutoff: float
    sure: float

    def strength(self, similarity: float) -> float:
        """0..1, linear through (cutoff, 0.5) and (sure, 1.0), clamped."""
        span = max(self.sure - self.cutoff, 1e-6)
        return min(1.0, max(0.0, 0.5 + 0.5 * (similarity - self.cutoff) / span))


def without_absences(text: str | None) -> str | None:
    """A description with its "no people" left out, for the full-text document and the embedded clip text: the
    offline summary's "framing: no people" item goes as a whole ("The clip shows framing: medium, no people;
    sound: speech." -> "The clip shows framing: medium; sound: speech."), and a summary left saying nothing
    goes too (None)."""
    if not text:
        return text
    kept = _ABSENT.sub(" ", text)
    for pattern, replacement in _TIDY:
        kept = pattern.sub(replacement, kept)
    kept = " ".join(kept.split())
    return None if _SAYS_NOTHING.fullmatch(kept) else kept


def search_subject(query: str) -> str:
    """The query without a leading "clips mentioning" / "footage of" / "show me videos with"."""
    subject = _META.sub("", query, count=1).strip()
    return subject or query


def content_words(text: str) -> list[str]:
    """The query's words that can be evidence, lower case, in order, once each."""
    seen: list[str] = []
    for word in re.findall(r"\w+", text.lower()):
        if word not in STOP_WORDS and word not in seen and not word.isdigit():
            seen.append(word)
    return seen


def text_strength(full_text_match: bool, timed: bool, coverage: float) -> float:
    """Words as evidence: every word found (the full-text list matched) in one timed line 0.9, in the clip's
    text 0.75; only some words found 0.5 x the share found, which supports a semantic match but never alone
    admits a clip."""
    if full_text_match:
        return 0.9 if timed else 0.75
    return 0.5 * coverage


def combine(semantic: float, words: float) -> int:
    """Two independent pieces of evidence, as a noisy OR, in whole percent; 100 % is kept for an exact twin."""
    both = 1.0 - (1.0 - semantic) * (1.0 - words)
    return int(round(min(both, 0.99 if words < 1.0 else 1.0) * 100))


def drop_weak_tail(strengths: list[int], gap: int | None = None) -> list[bool]:
    """Which hits to keep: those within `gap` (TAIL_GAP) points of the strongest one."""
    best, gap = max(strengths, default=0), TAIL_GAP if gap is None else gap
    return [s >= best - gap for s in strengths]


def segment_source(segment_type: str | None, text: str | None) -> str:
    """A person's name for where a segment's text comes from."""
    if segment_type == "scene_change" and text and text.lstrip().startswith("On screen:"):
        return "on-screen text"
    return SOURCES.get(segment_type or "", segment_type or "clip")


def reason(source: str, text: str | None, start: float | None = None, end: float | None = None,
           words: list[str] | None = None, similarity: float | None = None) -> MatchReason:
    return MatchReason(source=source, text=text, start_seconds=start, end_seconds=end, words=words or [],
                       similarity=round(similarity, 3) if similarity is not None else None)


def summary_line(reasons: list[MatchReason], limit: int = 160) -> str:
    """The short "why" of the table: the first reason's source and text, and the words that matched."""
    if not reasons:
        return "-"
    first = reasons[0]
    text = " ".join((first.text or "").split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    words = sorted({w for r in reasons for w in r.words})
    tail = f"; words: {', '.join(words)}" if words and first.source != "words" else ""
    return f"{first.source}: {text}{tail}" if text else f"{first.source}{tail}"
