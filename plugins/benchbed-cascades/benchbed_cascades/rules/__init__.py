"""Deferral rules: each is fitted on a training split and scores items (higher = defer first).

rule.fit(train, rng)        # a CascadeData of the training split; rng from the cell's seed
rule.score(test) -> array   # one deferral score per item
rule.extra_cost             # "" or "large-mid": model work the rule needs before deciding
"""

from benchbed_cascades.rules.base import CascadeData, token_quantiles
from benchbed_cascades.rules.chow import ChowAverage, ChowQuantile, ChowSum
from benchbed_cascades.rules.posthoc import PostHoc
from benchbed_cascades.rules.reference import Oracle, Random

__all__ = [
    "CascadeData",
    "ChowAverage",
    "ChowQuantile",
    "ChowSum",
    "Oracle",
    "PostHoc",
    "Random",
    "token_quantiles",
]
