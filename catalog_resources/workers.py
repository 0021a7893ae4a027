"""Steps on Celery workers: which queue each step goes to, the one Celery configuration the executor and every
worker share, and the checks a worker makes before it takes work (broker reachable, media store present).

Plain Python (no Dagster): the executor (catalog_assets/executors.py) and `video-catalog worker` both build their
Celery app from `celery_executor_config`, so the client that sends a step and the worker that takes it can never
disagree on the broker, the result store or the acknowledgement rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from catalog_resources.errors import SetupError, UsageError
from catalog_resources.settings import CatalogSettings

QUEUE_TAG = "dagster-celery/queue"  # the op tag dagster-celery reads to pick a step's queue (dagster_celery/tags.py)
QUEUES = ("ingest", "processing", "ai")
# The spec's three queues: reading the file (cheap, near the footage), media work (ffmpeg, frames, faces: CPU),
# models (Whisper, YAMNet, OCR, embeddings: memory and, with a cloud analyzer, money).
STEP_QUEUES = {
    "clip_source": "ingest",
    "technical_metadata": "ingest",
    "proxy": "processing",
    "thumbnails": "processing",
    "frame_analysis": "processing",
    "faces": "processing",
    "speakers": "processing",
    "catalog_record": "processing",
    "ai_analysis": "ai",
    "embeddings": "ai",
}


class BrokerUnavailable(SetupError):
    """The Celery broker does not answer: nothing was sent, so nothing is lost."""


class MediaStoreMissing(SetupError):
    """A worker on a machine that does not see the shared media store."""


def queue_of(step: str) -> str:
    """The queue a step's tasks go to; a step not listed is media work."""
    return STEP_QUEUES.get(step, "processing")


def parse_queues(text: str) -> list[str]:
    """`ingest,processing` -> ["ingest", "processing"], or a UsageError naming the known queues."""
    names = [q.strip() for q in text.split(",") if q.strip()]
    unknown = [q for q in names if q not in QUEUES]
    if not names or unknown:
        raise UsageError(f"--queues {text!r}: give one or more of {', '.join(QUEUES)}, comma separated")
    return list(dict.fromkeys(names))


def celery_executor_config(settings: CatalogSettings) -> dict:
    """The dagster-celery executor config (its `broker`, `backend`, `config_source`), shared by sender and worker.

    - task_acks_late + task_reject_on_worker_lost: a step is acknowledged when it has finished, so a worker that
      dies mid-step leaves it on the broker; with Redis it goes back to the queue after the visibility timeout.
    - prefetch 1: a worker holds only the step it runs; the rest wait on the broker for whichever worker is free.
    - the result store is the broker's Redis: the run's process polls each step's result there.
    """
    redeliver = settings.worker_redeliver_seconds
    transport = {"visibility_timeout": redeliver,
                 # kombu sweeps for abandoned steps every interval x throttle seconds (100 s by default): a fifth of
                 # the visibility timeout, at most 10 s, so a dead worker's step waits about the timeout, not more
                 "unacked_restore_interval": max(1.0, min(10.0, redeliver / 5)), "unacked_restore_throttle": 1,
                 "socket_connect_timeout": 5,
                 # dagster_celery.defaults: a few quick tries, so a down broker fails the send in about a second
                 "max_retries": 3, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
    return {
        "broker": settings.broker_url,
        "backend": settings.broker_url,
        "config_source": {
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "broker_transport_options": transport,
            "result_backend_transport_options": transport,
            "broker_connection_retry_on_startup": False,
        },
    }


@contextmanager
def step_task_lock(database_url: str, task_id: str) -> Iterator[None]:
    """Held while a step task runs. Redis hands a task out again when it is not acknowledged within the visibility
    timeout, whether its worker died or its step is merely long: the copy waits here until the first one has
    finished (its result stored) or its worker has died (its connection, and so the lock, gone with it)."""
    from catalog_resources.store.connection import own_connection

    conn = own_connection(database_url)
    try:
        conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (f"video-catalog step task {task_id}",))
        yield
    finally:
        conn.close()


def broker_fix(url: str) -> str:
    return (f"start the broker (Debian: `apt-get install redis-server`, then `redis-server` or "
            f"`systemctl start redis-server`) or set VIDEO_CATALOG_BROKER_URL to one that runs (now {masked_url(url)})")


def check_broker(url: str, timeout: float = 3.0) -> None:
    """Raise BrokerUnavailable, one line naming the URL and the fix, unless the broker answers now."""
    scheme = urlsplit(url).scheme
    if scheme not in ("redis", "rediss"):
        raise UsageError(f"broker {masked_url(url)}: only Redis brokers are supported (redis://host:6379/0)")
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        client.ping()
        client.close()
    except redis.exceptions.RedisError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BrokerUnavailable(f"the Celery broker at {masked_url(url)} does not answer ({reason}); "
                                f"{broker_fix(url)}") from None


def check_media_store(settings: CatalogSettings) -> Path:
    """The media store a worker reads and writes, or MediaStoreMissing naming the path (a worker machine must
    mount the catalog home's media folder at the same path as every other machine)."""
    media = settings.media_dir
    if not media.is_dir():
        raise MediaStoreMissing(
            f"the media store {media} is missing on this machine; mount the shared catalog home's media folder "
            f"there (the same path on every machine, e.g. over NFS) or set VIDEO_CATALOG_HOME to where it is")
    return media


def masked_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url
