"""The library page's last page at scale, offset against keyset paging: N bare clips rows (no vectors, no media:
the library page reads clips and clip_facts only) in a throwaway embedded PostgreSQL, pages requested in-process
through starlette's TestClient, server time from the app's Server-Timing header. Quicker to seed than
bench/web.py at 100k (which builds the search index too), for the paging figure alone.

    .venv/bin/python bench/web_library.py --clips 100000
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stats import percentile  # noqa: E402


def seed(url: str, clips: int) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            """INSERT INTO clips (clip_id, file_name, path, size_bytes, md5, fast_hash, fingerprint, duration_seconds,
                                  video_codec, width, height, frame_rate, cataloged_at)
               SELECT format('c%%s', lpad(i::text, 9, '0')), format('clip_%%s.mp4', (i::bigint * 7919) %% %(n)s),
                      format('/footage/clip_%%s.mp4', i), 1000000 + (i::bigint * 104729) %% 5000000, 'm', 'f', 'p',
                      CASE WHEN i %% 17 = 0 THEN NULL ELSE (i * 31) %% 3600 END, 'h264', 1920,
                      CASE WHEN i %% 5 = 0 THEN 2160 ELSE 1080 END, 25, now() - (i || ' seconds')::interval
               FROM generate_series(1, %(n)s) AS i""", {"n": clips})
        conn.execute("ANALYZE")


def server_ms(response) -> float:
    return float(re.search(r"app;dur=([\d.]+)", response.headers["server-timing"]).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    from starlette.testclient import TestClient

    from catalog_cli.web.app import create_app
    from catalog_resources.store.catalog import CatalogDB
    from catalog_resources.store.embedded_server import EmbeddedPostgres

    root = Path(tempfile.mkdtemp(prefix="vc-bench-library-"))
    runtime = Path("/var/lib/video-catalog") if os.geteuid() == 0 else root / "runtime"  # as tests/conftest.py: /tmp may be noexec
    server = EmbeddedPostgres(root / "pg", runtime)
    server.ensure_running()
    try:
        import psycopg

        with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
            conn.execute('CREATE DATABASE "bench"')
        url = server.url("bench")
        CatalogDB(url).migrate()
        started = time.perf_counter()
        seed(url, args.clips)
        print(f"  seeded {args.clips:,} clips in {time.perf_counter() - started:.1f} s")
        (root / "media").mkdir()
        app = create_app(url, root / "media", None, root / "web.secret")
        last = max(1, args.clips // 24 - 1)
        cases = {f"{kind} {sort}": params for sort in ("cataloged", "name", "duration", "size")
                 for kind, params in (("first page", {"sort": sort}), ("last page by key", {"sort": sort, "at": "end"}),
                                      ("last page by offset", {"sort": sort, "page": last}))}
        with TestClient(app) as client:
            for params in cases.values():
                client.get("/library", params=params)
            for name, params in cases.items():
                times = [server_ms(client.get("/library", params=params)) for _ in range(args.repeat)]
                print(f"  {name:<32} p50 {statistics.median(times):6.1f} ms   p95 {percentile(times, 0.95):6.1f} ms")
            page = client.get("/library", params={"sort": "duration", "at": "end"})
            back = re.search(r'rel="prev" href="\?([^"]+)"', page.text).group(1).replace("&amp;", "&")
            before = client.get("/library?" + back)
            last_ids = set(re.findall(r'href="/clip/(\w+)"', page.text))
            before_ids = set(re.findall(r'href="/clip/(\w+)"', before.text))
            assert before.status_code == 200, (back, re.findall(r"<p class=.error[^<]*", before.text))
            assert len(before_ids) == 24 and not before_ids & last_ids, before.status_code
            times = [server_ms(client.get("/library?" + back)) for _ in range(args.repeat)]
            print(f"  {'page before the last, by key':<32} p50 {statistics.median(times):6.1f} ms   "
                  f"p95 {percentile(times, 0.95):6.1f} ms")
    finally:
        server.remove()


if __name__ == "__main__":
    main()
