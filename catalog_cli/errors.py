"""What the command line says when something outside the code goes wrong: one line naming the cause and the
fix, never a traceback. The traceback goes to the catalog's error log for whoever wants the details.

Layers below raise the CatalogError family (catalog_resources/errors.py), whose message is already the line
and which carries its exit code; anything else (psycopg, OSError, Dagster wrapping either) is read here,
through the exception's chain, into a message. Nothing here prints: `handles_errors` in catalog_cli.common does.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel

from catalog_resources.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CatalogError

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "CliFault", "Fault", "describe"]
RESUME = "then re-run the same command: it resumes where it stopped"


class CliFault(CatalogError):
    """A usage or environment problem the CLI found itself; the message is the whole line."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = code  # type: ignore[misc]  # per instance: the CLI decides 1 or 2 where it raises


class Fault(BaseModel):
    """One line for the terminal and the exit code."""

    message: str
    code: int = EXIT_USAGE
    log: bool = True  # worth a traceback in the error log (an environment fault); not for a usage mistake


def write_output(path: Path, text: str) -> None:
    """Write an export (`-o`) or say in one line why it cannot be written and what to do."""
    try:
        path.write_text(text, encoding="utf-8")
    except IsADirectoryError:
        raise CliFault(f"cannot write {path}: it is a folder; give a file name, e.g. {path / 'export.txt'}") from None
    except FileNotFoundError:
        raise CliFault(f"cannot write {path}: the folder {path.parent} does not exist; create it "
                       f"(mkdir -p {path.parent}) or choose another --output") from None
    except NotADirectoryError:
        raise CliFault(f"cannot write {path}: part of the folder path is a file, not a folder; choose another --output") from None
    except PermissionError:
        raise CliFault(f"cannot write {path}: permission denied; choose a file in a folder you can write to") from None
    except OSError as exc:
        if exc.filename is None:  # /dev/full and friends say nothing about where
            exc.filename = str(path)
        raise


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, then what caused it (explicitly, implicitly, or wrapped by Dagster or SQLAlchemy)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for attr in ("orig", "user_exception", "__cause__", "__context__"):
            inner = getattr(current, attr, None)
            if isinstance(inner, BaseException):
                todo.append(inner)


def _is(exc: BaseException, module: str, name: str) -> bool:
    loaded = sys.modules.get(module)
    cls = getattr(loaded, name, None) if loaded else None
    return isinstance(cls, type) and isinstance(exc, cls)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def _sqlstate(exc: BaseException) -> str | None:
    return getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)


def _is_database_error(exc: BaseException) -> bool:
    """A DB-API connection-level error from psycopg (catalog) or psycopg2/SQLAlchemy (Dagster's storage)."""
    return any(_is(exc, module, name) for module in ("psycopg", "psycopg2", "sqlalchemy.exc")
               for name in ("OperationalError", "InterfaceError"))


def _database_fault(exc: BaseException) -> Fault | None:
    if not _is_database_error(exc):
        return None
    driver = getattr(exc, "orig", None) or exc  # SQLAlchemy (Dagster's storage) wraps the driver's error
    state, line = _sqlstate(driver), _first_line(driver)
    if state == "53100":  # disk_full: the database's own disk
        return Fault(message=f"the database's disk is full ({line}); free space on the disk that holds the catalog "
                             f"home (or the database server's data), {RESUME}")
    if state is None or state.startswith("08") or state.startswith("57P"):  # connection refused, lost, server shut down
        return Fault(message=f"the database connection was lost or refused ({line}); start the database with "
                             f"`video-catalog db start` (or check VIDEO_CATALOG_DATABASE_URL / "
                             f"VIDEO_CATALOG_DAGSTER_DATABASE_URL), {RESUME}")
    return Fault(message=f"the database failed ({line}); {RESUME}")


def _home() -> Path:
    return Path(os.environ.get("VIDEO_CATALOG_HOME") or "~/.video-catalog").expanduser().absolute()


def _os_fault(exc: BaseException) -> Fault | None:
    if not isinstance(exc, OSError):
        return None
    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return Fault(message=f"disk full{where}: {exc.strerror or 'no space left on device'}; free space there, {RESUME}")
    if exc.errno == errno.EROFS:
        return Fault(message=f"read-only file system{where}; remount it writable or set VIDEO_CATALOG_HOME to a "
                             f"writable folder, {RESUME}")
    if isinstance(exc, PermissionError):
        home = _home()
        path = Path(str(exc.filename)) if exc.filename else None
        if path is None or path == home or home in path.parents or path in home.parents:
            return Fault(message=f"permission denied{where}: the catalog home {home} must be yours and writable "
                                 "(chown/chmod u+rwX it) or set VIDEO_CATALOG_HOME to a folder you own")
        return Fault(message=f"permission denied{where}: make it readable (and writable, if written) by you, "
                             "or leave it out")
    return None


def describe(exc: BaseException) -> Fault | None:
    """The one line for a known problem anywhere in the exception's chain, or None for a defect in the code."""
    for current in _chain(exc):
        if isinstance(current, CatalogError):
            return Fault(message=str(current), code=current.exit_code, log=False)
    for current in _chain(exc):
        fault = _database_fault(current) or _os_fault(current)
        if fault is not None:
            return fault
    return None


def check_home_writable(home: Path) -> None:
    """Before a command that writes into the catalog home: fail now, once, rather than in every clip's step.
    A probe file is written because permission bits say nothing for root or a read-only mount."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    probe = home / f".write-probe-{os.getpid()}"
    try:
        probe.write_bytes(b"")
    except PermissionError as exc:
        raise PermissionError(exc.errno, exc.strerror, str(home)) from None
    probe.unlink()


def _append_to_log(text: str) -> Path | None:
    """Append to <home>/logs/errors.log (private to the owner); None when that cannot be written (a full disk
    or an unwritable home is often why we are here)."""
    log = _home() / "logs" / "errors.log"
    try:
        log.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError:
        return None
    return log


def log_details(exc: BaseException) -> Path | None:
    """The traceback, in the error log."""
    return _append_to_log(f"--- {datetime.now(timezone.utc).isoformat()} {' '.join(sys.argv)}\n"
                          + "".join(traceback.format_exception(exc)))


def unexpected(exc: BaseException, log: Path | None) -> str:
    """One line for a defect in the code: what it was, where the traceback is, and to report it."""
    line = _first_line(exc)
    line = line if len(line) <= 300 else line[:299] + "…"
    where = f"the traceback is in {log}" if log else "set VIDEO_CATALOG_DEBUG=1 to see the traceback"
    return f"unexpected {type(exc).__name__}: {line} ({where}; please report it)"


class _ErrorLogHandler(logging.Handler):
    """Library warnings (Dagster's "Retrying failed database connection", SQLAlchemy's) go to the error log,
    not the terminal: a lost database printed a dozen of them before the one line that says what to do."""

    def emit(self, record: logging.LogRecord) -> None:
        _append_to_log(f"{datetime.now(timezone.utc).isoformat()} {record.levelname} {record.name}: "
                       f"{record.getMessage()}\n")


def route_library_logs() -> None:
    """Give the root logger a handler of ours, so `logging.warning()` in a library never falls back to stderr."""
    root = logging.getLogger()
    if not any(isinstance(h, _ErrorLogHandler) for h in root.handlers):
        root.addHandler(_ErrorLogHandler(level=logging.WARNING))


class _LibraryStderr(io.TextIOBase):
    """sys.stderr while a command runs: what a library writes there goes to the error log, line by line."""

    def __init__(self) -> None:
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            complete, self._pending = self._pending.rsplit("\n", 1)
            _append_to_log(f"{datetime.now(timezone.utc).isoformat()} stderr: {complete}\n")
        return len(text)

    def flush(self) -> None:
        if self._pending:
            _append_to_log(f"{datetime.now(timezone.utc).isoformat()} stderr: {self._pending}\n")
            self._pending = ""


@contextmanager
def library_stderr_to_log() -> Iterator[None]:
    """Dagster writes some failures straight to sys.stderr, not through logging: a database stopped mid-run
    printed "Exception while writing logger call to event log" and the SQL it failed on before the one line
    that says what to do. While a command runs those writes go to the error log; the CLI's own console keeps
    the real stderr."""
    from catalog_cli.render import err

    real = sys.stderr
    err.file = real
    sys.stderr = _LibraryStderr()
    try:
        yield
    finally:
        sys.stderr.flush()
        sys.stderr = real
        err.file = None  # type: ignore[assignment]  # back to following sys.stderr
