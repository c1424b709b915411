"""A plugin that cannot even be imported."""

import benchbed_dependency_that_is_not_installed  # noqa: F401
