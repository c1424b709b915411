"""A plugin whose task hook raises; its other hooks are fine."""

import benchbed
from benchbed import LOWER, Metric


@benchbed.hookimpl
def benchbed_tasks():
    raise ValueError("the data file is corrupt")


@benchbed.hookimpl
def benchbed_metrics():
    return [Metric("raising_metric", LOWER)]
