"""Where the catalog lives and how it is reached, read once from the environment and `<home>/config.toml`.

Every command and every Dagster process (CLI, webserver, daemon) derives its paths from the same
settings, so a `VIDEO_CATALOG_HOME` set in one shell means one catalog everywhere. Priority: arguments,
then `VIDEO_CATALOG_*` environment variables, then the home's `config.toml` (written by `video-catalog
config set`), then the defaults below. The home itself is never read from the file: the file lives in it.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from catalog_resources.errors import SetupError

CONFIG_FILE_NAME = "config.toml"
NOT_IN_FILE = frozenset({"home"})  # the file lives in the home, so the home cannot come from it
DEFAULT_HOME = Path("~/.video-catalog")


class ConfigFileError(SetupError):
    """The home's config.toml cannot be read or holds a bad value; the message names the file, the key and the fix."""


def config_file_path(home: Path) -> Path:
    return Path(home).expanduser().absolute() / CONFIG_FILE_NAME


class ConfigFileSource(TomlConfigSettingsSource):
    """`<home>/config.toml` as a settings source: a file that does not parse is one line naming it and the fix,
    and keys that may not come from the file (the home) are left out."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        self.path = path
        super().__init__(settings_cls, toml_file=path)

    def _read_file(self, file_path) -> dict:
        import tomllib

        try:
            with file_path.open("rb") as handle:
                data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigFileError(f"{file_path} is not valid TOML ({exc}); fix it, or restore a backup with "
                                  f"`video-catalog config restore FILE`") from None
        except OSError as exc:
            raise ConfigFileError(f"cannot read {file_path} ({exc.strerror}); make it readable by you") from None
        return {k: v for k, v in data.items() if k not in NOT_IN_FILE}


def _home_from(init_settings: PydanticBaseSettingsSource, env_settings: PydanticBaseSettingsSource) -> Path:
    """The home this load will end with (argument, else environment, else the default), to find its file."""
    given = getattr(init_settings, "init_kwargs", {}).get("home")
    if given is None:
        env = getattr(env_settings, "env_vars", {})
        given = env.get("video_catalog_home") or DEFAULT_HOME
    return Path(given)


class CatalogSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIDEO_CATALOG_", extra="ignore")

    home: Path = Field(default=DEFAULT_HOME, description="Catalog home: media store, Dagster instance, embedded database.")
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
    clip_workers: int = Field(default=0, ge=0, le=64, description="Clips a batch step works on at once; 0 = the cores this process may use (1 = one after another).")
    proxy_fps: float = Field(default=5.0, gt=0, le=120, description="Proxy frame rate (ingest --compression-fps overrides it for one run).")
    proxy_max_bitrate: str = Field(default="1000k", pattern=r"^\d+(\.\d+)?[kKmM]?$",
                                   description="Proxy maximum video bitrate, e.g. 1000k or 2M (ingest --compression-bitrate overrides it).")
    faces: bool = Field(default=True, description="Find faces and group them into people (personal data: stored in the catalog only while on); 0 turns the faces step off.")
    speakers: bool = Field(default=True, description="Find who speaks when and the same voice across clips (personal data: stored in the catalog only while on); 0 turns the speakers step off.")
    image_model_path: Path | None = Field(default=None, description="Optional local CLIP/SigLIP folder (save_pretrained) for zero-shot scene labels.")
    embedding_backend: Literal["local", "openai"] = Field(default="local", description="local (packaged model) or openai (any compatible endpoint).")
    embedding_model: str = Field(default="multilingual-e5-small", description="Local: multilingual-e5-small or all-MiniLM-L6-v2; openai: the served model, e.g. BAAI/bge-m3.")
    embedding_base_url: str | None = Field(default=None, description="OpenAI-compatible embeddings endpoint, e.g. http://localhost:8080/v1.")
    embedding_api_key: str | None = Field(default=None, description="Else OPENAI_API_KEY; a localhost endpoint needs none.")
    search_min_similarity: float | None = Field(default=None, description="Semantic match cut-off; unset: the model's calibrated value.")
    ai_pool_limit: int = Field(default=1, ge=1, description="ai_analysis steps running at once (Dagster pool `ai`), set on first use.")
    model_cache: Path | None = Field(default=None, description="Unpacked model files; default ~/.cache/video-catalog/models.")
    db_listen: str | None = Field(default=None, description="Team mode: the embedded server also listens on this TCP ADDRESS[:PORT] with password (SCRAM) logins, e.g. 0.0.0.0:5433 (`db start --listen`).")
    executor: Literal["in_process", "celery"] = Field(
        default="in_process", description="in_process: every step in the run's own process (one machine); celery: steps "
        "on `video-catalog worker` processes on any machine, through the broker.")
    broker_url: str = Field(default="redis://127.0.0.1:6379/0", description="The Celery broker (and result store) the "
                            "celery executor and every worker use, e.g. redis://host:6379/0.")
    celery_runs: int = Field(default=4, ge=1, description="With the celery executor: batch runs in progress at once (CLI "
                             "ingest and the daemon), so every worker has steps to take.")
    worker_redeliver_seconds: float = Field(default=3600.0, ge=5, description="A step taken by a worker that then died "
                                            "is given to another worker after this long (the broker's visibility "
                                            "timeout); a step running longer than this is started a second time.")
    pg_runtime_root: Path = Field(
        default=Path("/var/lib/video-catalog"),
        description="As root only: where the embedded server's data and binaries live, so no folder we did not create is chmod-ed.",
    )

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment variables win over the home's config.toml, which wins over the defaults."""
        home = _home_from(init_settings, env_settings)
        return init_settings, env_settings, ConfigFileSource(settings_cls, config_file_path(home)), dotenv_settings, \
            file_secret_settings

    @property
    def config_file(self) -> Path:
        return config_file_path(self.home)

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
    """The settings every command, the definitions and the sensor use. A bad value that came from config.toml
    (and not from the environment, whose errors stay a ValidationError the CLI names by variable) is one line
    naming the file, the key and how to fix it."""
    try:
        return CatalogSettings()
    except ValidationError as exc:
        home = _home_from(_NoInit(), _EnvNames())
        path = config_file_path(home)
        env = _EnvNames().env_vars
        from_file = [e for e in exc.errors() if e["loc"] and f"video_catalog_{e['loc'][0]}" not in env]
        if from_file and path.is_file():
            problems = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in from_file)
            raise ConfigFileError(f"bad setting in {path}: {problems}; fix it with `video-catalog config set KEY VALUE` "
                                  f"or `video-catalog config unset KEY`") from None
        raise


class _NoInit:
    init_kwargs: dict = {}


class _EnvNames:
    """The environment as pydantic-settings reads it (names lower-cased)."""

    @property
    def env_vars(self) -> dict[str, str]:
        return {k.lower(): v for k, v in os.environ.items()}


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
