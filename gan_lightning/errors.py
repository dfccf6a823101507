"""Exceptions that carry a message meant for the user, printed without a traceback by the CLI."""


class ConfigError(ValueError):
    """The configuration cannot work (bad value, model and data that do not fit, missing file)."""


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is not on disk and could not be downloaded."""


class StorageError(OSError):
    """A file could not be written (disk full, no permission); what was written before is intact."""
