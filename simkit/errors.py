"""User-facing errors: each one becomes a single clear line on the command line.

`UsageError` (bad config, missing file, unknown plugin) exits with code 2; `SimkitError`
(a dead endpoint, a replay miss, a corrupt model) exits with code 1. Neither prints a
traceback unless `--debug` is given.
"""


class SimkitError(Exception):
    """Something went wrong that the user can fix; the message says what and where."""

    exit_code = 1


class UsageError(SimkitError):
    """The user's input (file, flag, key) is wrong."""

    exit_code = 2


class ConfigError(UsageError):
    """A scenario file or override does not validate."""


class LLMUnavailable(SimkitError):
    """The LLM backend cannot answer at all (server down, model file missing or corrupt)."""


class ModelFileMissing(UsageError, LLMUnavailable):
    """The model file the user named does not exist (a usage error: exit code 2)."""


class ReplayMiss(SimkitError):
    """Cache mode `replay` met a request that is not in the database."""
