"""Where the catalog lives and how it is reached, read once from the environment.

Every command and every Dagster process (CLI, webserver, daemon) derives its paths from the same
settings, so a `VIDEO_CATALOG_HOME` set in one shell means one catalog everywhere.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class CatalogSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIDEO_CATALOG_", extra="ignore")

    home: Path = Field(default=Path("~/.video-catalog"), description="Catalog home: media store, Dagster instance, embedded database.")
    database_url: str | None = Field(default=None, description="External Postgres with pgvector; unset means the embedded server.")
    dagster_database_url: str | None = Field(default=None, description="Dagster storage URL; defaults to database `dagster` on the catalog's server.")
    watch: str = Field(default="", description="Folders the sensor watches, colon separated.")
    settle_seconds: float = Field(default=10.0, ge=0, description="A watched file must keep its size and mtime this long before ingest.")
    sensor_max_files_per_tick: int = Field(default=200, ge=1)
    batch_size: int = Field(default=16, ge=1, description="Clips per Dagster run in batch mode.")
    run_mode: Literal["batch", "per-clip"] = Field(default="batch", description="One run per batch of clips, or one run per clip.")
    analyzer: Literal["local", "gemini", "openai"] = Field(
        default="local", description="ai_analysis backend: local (offline models), gemini, openai (any compatible endpoint).")
    gemini_api_key: str | None = Field(default=None, description="Else GEMINI_API_KEY / GOOGLE_API_KEY.")
    gemini_model: str = "gemini-2.5-flash"
    gemini_base_url: str | None = Field(default=None, description="Override the API address (proxies, tests).")
    openai_api_key: str | None = Field(default=None, description="Else OPENAI_API_KEY; a localhost server needs none.")
    openai_model: str | None = Field(default=None, description="e.g. gpt-4o-mini, or the model name a vLLM/Ollama server serves.")
    openai_base_url: str | None = Field(default=None, description="e.g. http://localhost:11434/v1 for Ollama.")
    analysis_window_seconds: float = Field(default=1800.0, gt=0, description="Longer clips are analysed in windows of this length.")
    analysis_requests_per_minute: float = Field(default=0.0, ge=0, description="Cloud request rate limit per process; 0: none.")
    analysis_max_attempts: int = Field(default=5, ge=1, description="Tries per cloud request (429/5xx/timeouts, with backoff).")
    analysis_retry_delay: float = Field(default=30.0, ge=0, description="Seconds before Dagster retries a failed cloud analysis (then doubled).")
    auto_refresh_cloud: bool = Field(default=False, description="Let the Dagster daemon redo out-of-date ai_analysis with a paid cloud analyzer on its own (costs money); off: the UI only shows them.")
    analysis_prices: str = Field(default="", description='Extra prices, JSON {"model": [USD per 1M input, per 1M output]}.')
    analysis_language: str | None = Field(default=None, description="Force the transcript language (ISO code, e.g. en); unset detects it.")
    analysis_prompt_file: Path | None = Field(default=None, description="A prompt template to use instead of the packaged one.")
    analysis_ocr_frames: int = Field(default=4, ge=0, description="Thumbnails read for on-screen text (about 1.5 s each on 2 cores).")
    thumbnail_format: Literal["jpeg", "webp"] = Field(default="jpeg", description="jpeg encodes 8x faster and opens everywhere; webp is about half the bytes.")
    thumbnail_count: int = Field(default=30, ge=1, le=200, description="Candidate frames per clip for thumbnails and the contact sheet.")
    faces: bool = Field(default=True, description="Find faces and group them into people (personal data: stored in the catalog only while on); 0 turns the faces step off.")
    image_model_path: Path | None = Field(default=None, description="Optional local CLIP/SigLIP folder (save_pretrained) for zero-shot scene labels.")
    embedding_backend: Literal["local", "openai"] = Field(default="local", description="local (packaged model) or openai (any compatible endpoint).")
    embedding_model: str = Field(default="multilingual-e5-small", description="Local: multilingual-e5-small or all-MiniLM-L6-v2; openai: the served model, e.g. BAAI/bge-m3.")
    embedding_base_url: str | None = Field(default=None, description="OpenAI-compatible embeddings endpoint, e.g. http://localhost:8080/v1.")
    embedding_api_key: str | None = Field(default=None, description="Else OPENAI_API_KEY; a localhost endpoint needs none.")
    search_min_similarity: float | None = Field(default=None, description="Semantic match cut-off; unset: the model's calibrated value.")
    ai_pool_limit: int = Field(default=1, ge=1, description="ai_analysis steps running at once (Dagster pool `ai`), set on first use.")
    model_cache: Path | None = Field(default=None, description="Unpacked model files; default ~/.cache/video-catalog/models.")
    pg_runtime_root: Path = Field(
        default=Path("/var/lib/video-catalog"),
        description="As root only: where the embedded server's data and binaries live, so no folder we did not create is chmod-ed.",
    )

    @field_validator("home", "pg_runtime_root", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().absolute()

    @property
    def media_dir(self) -> Path:
        return self.home / "media"

    @property
    def models_dir(self) -> Path:
        """Where packaged models are unpacked once (joined Whisper halves, YAMNet ONNX): per machine, not
        per catalog, so several catalogs (and test runs) share one copy."""
        if self.model_cache is not None:
            return self.model_cache
        cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(cache).expanduser() / "video-catalog" / "models"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def pg_dir(self) -> Path:
        return self.home / "pg"

    @property
    def watch_folders(self) -> list[Path]:
        return [Path(p).expanduser() for p in self.watch.split(":") if p.strip()]

    def clip_media_dir(self, clip_id: str) -> Path:
        return self.media_dir / clip_id


def load_settings() -> CatalogSettings:
    return CatalogSettings()


PRIVATE_UMASK = 0o077


def open_private_home(home: Path) -> Path:
    """Make everything this process (and every child: ffmpeg, the server, Dagster's run workers) creates
    private to its owner, and narrow the home itself to 0700 if it is ours and wider.

    Footage can be private (interviews, medical, legal), and proxies, 16 kHz audio, thumbnails and contact
    sheets show it. A process umask of 077 covers every writer at once (PIL, ffmpeg, Dagster's storage,
    PostgreSQL's log) where chmod-ing file by file would miss some. Nothing is ever widened; files of an older
    catalog keep their modes, behind a home only its owner can enter. The home is created on first write
    (parents included) with mode 0700 by the same umask.
    """
    os.umask(PRIVATE_UMASK)
    with contextlib.suppress(OSError):  # missing (made later, 0700 by the umask), or not ours to change
        info = home.stat()
        mode = stat.S_IMODE(info.st_mode)
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and mode & 0o077:
            home.chmod(mode & 0o700)
    return home
