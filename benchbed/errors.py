"""The one error type for user mistakes, and the near-match suggestion it usually carries."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class BenchbedError(Exception):
    """A mistake the user can fix: the CLI prints the message (no traceback) and exits with 2."""


def suggest(name: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest of `choices`, or '' when nothing is close."""
    match = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


def unknown(what: str, name: str, choices: Iterable[str]) -> BenchbedError:
    """The error for a name that is not registered, with the near match and where to look."""
    choices = sorted(choices)
    hint = (suggest(name, choices) or f"; see `benchbed list {what}s`") if choices else ""
    return BenchbedError(f"unknown {what} '{name}'{hint}")
