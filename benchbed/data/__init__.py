"""Shared data loaders that several plugins use: `benchbed.data.images` (MNIST, Fashion-MNIST, digits) and others."""
