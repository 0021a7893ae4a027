"""WordNet 3.0 noun hypernyms, read straight from the database files Debian's `wordnet-base` installs.

ImageNet-1k classes are WordNet 3.0 noun synsets (wnid ``n`` + the 8-digit byte offset of the synset's line in
``data.noun``), so a class's broader terms are its hypernym chain. The files' format is wndb(5WN): each line of
``data.noun`` starts at its own byte offset, ``offset lex_filenum ss_type w_cnt (word lex_id)* p_cnt (ptr)* | gloss``
with ``w_cnt`` in hex and each pointer ``symbol offset pos source/target``; ``@`` is a hypernym, ``@i`` an
instance hypernym. Reading that takes a seek and a split, so no WordNet library is used: nltk 3.10's reader
wants a ``lexnames`` file the Debian package does not ship and refuses paths outside its data sandbox, and PyPI
`wn` loads only its own downloaded LMF packages.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from catalog_resources.errors import SetupError

WORDNET_DIR = Path(os.environ.get("VIDEO_CATALOG_WORDNET_DIR", "/usr/share/wordnet"))
_HYPERNYM = {"@", "@i"}


class WordNetMissingError(SetupError, RuntimeError):
    """The WordNet database files are not installed; the message names the package that has them."""


class Synset:
    """One noun synset: its words (spaces for underscores) and the offsets of its direct hypernyms."""

    __slots__ = ("offset", "words", "hypernyms")

    def __init__(self, offset: int, words: tuple[str, ...], hypernyms: tuple[int, ...]) -> None:
        self.offset, self.words, self.hypernyms = offset, words, hypernyms


def parse_line(line: str) -> Synset:
    """One data.noun line (wndb(5WN)) as a Synset."""
    fields = line.split(" | ", 1)[0].split()
    count = int(fields[3], 16)
    words = tuple(fields[4 + 2 * i].replace("_", " ") for i in range(count))
    at = 4 + 2 * count
    pointers = int(fields[at])
    hypernyms = tuple(
        int(fields[at + 1 + 4 * i + 1]) for i in range(pointers) if fields[at + 1 + 4 * i] in _HYPERNYM
    )
    return Synset(int(fields[0]), words, hypernyms)


class NounNet:
    """Random access to data.noun by synset offset, each synset parsed once."""

    def __init__(self, folder: Path = WORDNET_DIR) -> None:
        path = Path(folder) / "data.noun"
        if not path.is_file():
            raise WordNetMissingError(
                f"WordNet 3.0 database not found at {path}: apt-get install wordnet-base"
                " (or set VIDEO_CATALOG_WORDNET_DIR to a folder holding data.noun)"
            )
        self._data = path.read_bytes()  # 15 MB; one read beats thousands of seeks
        self._parsed: dict[int, Synset] = {}

    def synset(self, offset: int) -> Synset:
        found = self._parsed.get(offset)
        if found is None:
            end = self._data.index(b"\n", offset)
            found = parse_line(self._data[offset:end].decode("utf-8"))
            if found.offset != offset:
                raise WordNetMissingError(f"data.noun at {offset} holds synset {found.offset}: not WordNet 3.0?")
            self._parsed[offset] = found
        return found

    def ancestors(self, offset: int) -> list[int]:
        """The synset and all its hypernyms, nearest first (breadth first over every hypernym path)."""
        seen, order, frontier = {offset}, [offset], [offset]
        while frontier:
            nxt: list[int] = []
            for current in frontier:
                for parent in self.synset(current).hypernyms:
                    if parent not in seen:
                        seen.add(parent)
                        order.append(parent)
                        nxt.append(parent)
            frontier = nxt
        return order


@lru_cache(maxsize=2)
def noun_net(folder: Path = WORDNET_DIR) -> NounNet:
    return NounNet(folder)


def wnid_offset(wnid: str) -> int:
    """``n02085620`` -> 2085620."""
    if not (len(wnid) == 9 and wnid[0] == "n" and wnid[1:].isdigit()):
        raise ValueError(f"not a WordNet noun id: {wnid!r}")
    return int(wnid[1:])
