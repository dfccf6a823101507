"""Exceptions that carry a message meant for the user, printed without a traceback by the CLI."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
    """The configuration cannot work (bad value, model and data that do not fit, missing file)."""


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is not on disk and could not be downloaded."""


class StorageError(OSError):
    """A file could not be written (disk full, no permission); what was written before is intact."""


#: the exit status of the commands for each error meant for the user (a diverged training: 3)
EXIT_STATUS: dict[type[Exception], int] = {
    ConfigError: 2,
    DatasetNotFoundError: 2,
    FloatingPointError: 3,
    StorageError: 4,
}


def exit_on_user_error(task: Callable[..., T], *args: Any) -> T:
    """``task(*args)``; an error meant for the user ends the command with ``Error: <message>`` on
    stderr (no traceback) and its :data:`EXIT_STATUS`. Other errors propagate as they are."""
    try:
        return task(*args)
    except tuple(EXIT_STATUS) as err:
        print(f"Error: {err}", file=sys.stderr)
        status = next(code for kind, code in EXIT_STATUS.items() if isinstance(err, kind))
        raise SystemExit(status) from None
