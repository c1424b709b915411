"""Shared by the text2sql tests (a unique module name: every plugin has a conftest)."""

import pytest


def need(load, ctx):
    """The benchmark, or a skip that carries the install command."""
    from benchbed.assets import MissingAsset

    try:
        return load(ctx)
    except MissingAsset as exc:
        pytest.skip(str(exc))
