"""Naive fine-tuning: train on each context in turn with nothing against forgetting."""

from benchbed_continual.learner import Learner


class Naive(Learner):
    name = "naive"
