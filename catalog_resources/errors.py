"""The catalog's own exceptions: a problem the user can act on, whose message is already the whole line to print
(what failed, which file or setting, what to do).

Every layer raises these (or a subclass named for its concern); the CLI maps the family to exit codes in one place
(`catalog_cli.errors`), and Dagster shows the same message on the failed step. Anything else that escapes is a
defect in the code, reported with a traceback. This module imports nothing heavy, so a read-only command can
recognise the family without loading Dagster or a model runtime.
"""

from __future__ import annotations

from typing import ClassVar

# The exit codes of every command: 0 done, 1 some work failed (or nothing found), 2 usage or environment.
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class CatalogError(Exception):
    """Base of the family. `exit_code` is what a command exits with when this ends it."""

    exit_code: ClassVar[int] = EXIT_USAGE


class UsageError(CatalogError, ValueError):
    """The user's own input is wrong: a filter, a step name, a prompt file. Fixed by changing the command."""


class SetupError(CatalogError):
    """The machine or configuration is missing something: a binary, a model, a key, a reachable database."""


class MediaError(CatalogError):
    """One file cannot be read or transcoded; fails that clip's step, never the batch."""


class AnalysisError(CatalogError):
    """An analyzer (local model or cloud API) could not produce an answer for one clip."""
