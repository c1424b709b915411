"""benchbed-fewshot: N-way K-shot episodic classification with inductive and transductive methods."""

__version__ = "0.1.0"
