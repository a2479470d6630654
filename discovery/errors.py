"""Error hierarchy.

Every error a user can cause carries enough context to fix it: the file, the
row (1-based, as a spreadsheet shows it, header = row 1), the column and the
offending value, plus a hint. The CLI prints ``str(err)`` and exits with
``err.exit_code`` (2 for bad input, 3 for integrity failures).
"""

from __future__ import annotations

from typing import Any


class DiscoveryError(Exception):
    """Base class of every error this package raises on purpose."""

    exit_code: int = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: Any = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.row = row
        self.column = column
        self.value = value
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        if self.value is not None:
            where.append(f"value {self.value!r}")
        text = (": ".join([", ".join(where), self.message]) if where else self.message)
        if self.hint:
            text += f" (fix: {self.hint})"
        return text


class InputError(DiscoveryError):
    """The user's input (file, column, value, option) is unusable."""


class ConfigError(DiscoveryError):
    """A configuration value or option is invalid."""


class DatasetNotFoundError(InputError):
    """A dataset name is not in the registry and is not an existing path."""


class DataIntegrityError(DiscoveryError):
    """A file's content does not match its recorded sha256."""

    exit_code = 3


class ModelFormatError(DiscoveryError):
    """A saved model bundle cannot be read by this version."""


class AllRowsInvalidError(InputError):
    """Every record of an input was rejected; nothing is left to work on."""
