"""benchbed plugin: language-model cascades and their deferral rules (Gupta et al., ICLR 2024)."""
