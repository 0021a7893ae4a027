"""The OpenAI-compatible embeddings backend: the real openai client against a local /v1/embeddings server,
then a catalog embedded through it (1024-d vectors, the 1024 HNSW index) and searched."""

import hashlib
import json
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from catalog_resources.resources.catalog import CatalogResource
from catalog_resources.embeddings.errors import EmbedderError
from catalog_resources.embeddings.openai_tokens import count_openai_tokens
from catalog_resources.embeddings.service import EmbeddingService
from catalog_resources.embeddings.openai import OpenAIEncoder
from catalog_resources.search.ranking import search
from tests.relevance_set import CLIPS
from tests.search_seed import seed

DIM = 1024


def hashed_vector(text: str) -> list[float]:
    """Bag of hashed words: texts sharing words point the same way (a stand-in model, real wire format)."""
    vector = np.zeros(DIM)
    for word in re.findall(r"\w+", text.lower()):
        vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % DIM] += 1.0
    return vector.tolist()


class EmbeddingsServer:
    def __init__(self, fail_first: int = 0) -> None:
        self.requests: list[dict] = []
        self.fail_first = fail_first

    def __enter__(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                if server.fail_first > 0:
                    server.fail_first -= 1
                    payload, status, extra = {"error": {"message": "overloaded", "type": "server_error"}}, 503, {"retry-after-ms": "10"}
                else:
                    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                    payload, status, extra = {"object": "list", "model": body["model"], "data": [
                        {"object": "embedding", "index": i, "embedding": hashed_vector(t)} for i, t in enumerate(inputs)],
                        "usage": {"prompt_tokens": 1, "total_tokens": 1}}, 200, {}
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_batches_truncates_normalises_and_retries():
    with EmbeddingsServer(fail_first=1) as server:
        embedder = OpenAIEncoder("BAAI/bge-m3", base_url=server.url, max_attempts=3)
        long_text = "footage " * 10_000
        vectors = embedder.embed_passages([long_text] + [f"clip number {i}" for i in range(69)])
    assert vectors.shape == (70, DIM) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    batches = [r for r in server.requests]
    assert len(batches) == 3  # one 503 retried, then 64 + 6 inputs
    assert [len(b["input"]) for b in batches[1:]] == [64, 6] and batches[1]["model"] == "BAAI/bge-m3"
    assert count_openai_tokens(batches[1]["input"][0]) <= 3500 < count_openai_tokens(long_text)


def test_missing_key_for_a_remote_endpoint(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(EmbedderError, match="OPENAI_API_KEY"):
        OpenAIEncoder("text-embedding-3-small", base_url="https://api.example.invalid/v1")


@pytest.mark.slow
def test_a_catalog_embedded_through_the_endpoint_is_searchable(module_catalog_env):
    store = CatalogResource(database_url=os.environ["VIDEO_CATALOG_DATABASE_URL"])
    with EmbeddingsServer() as server:
        service = EmbeddingService(model="BAAI/bge-m3", backend="openai", base_url=server.url, min_similarity=0.1)
        seed(store, service, CLIPS[:8])
        (dimension,), = [tuple(r.values()) for r in store_rows(store, "SELECT DISTINCT dimension FROM embeddings")]
        assert dimension == DIM
        winemaker = next(c for c in CLIPS[:8] if c["clip_id"] == "int-winemaker-de")
        hits = search(store, service, "Riesling Trauben Spätfrost", mode="semantic").hits
    assert hits[0].clip_id == winemaker["clip_id"]
    assert service.code_version() == "openai/BAAI/bge-m3:texts-v3"


def store_rows(store, sql):
    with store.connect() as conn:
        return conn.execute(sql).fetchall()
