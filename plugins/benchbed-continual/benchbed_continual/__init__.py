"""benchbed-continual: continual-learning benchmarks and methods on one shared training loop."""
