"""The core's own plugin: metrics that many areas share, and the suites of the working directory."""

from pathlib import Path

from benchbed import HIGHER, Metric, hookimpl


@hookimpl
def benchbed_metrics():
    return [
        Metric("accuracy", HIGHER, "fraction of items predicted correctly"),
        Metric("macro_f1", HIGHER, "F1 averaged over classes, each class weighted equally"),
    ]


@hookimpl
def benchbed_suites():
    """Suite files in ./suites/ of the directory benchbed runs in (a project's own suites)."""
    return sorted((Path.cwd() / "suites").glob("*.toml"))
