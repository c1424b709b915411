"""benchbed-pooling: pooling and attention designs for (LLM-based) embedding models."""

__version__ = "0.1.0"
