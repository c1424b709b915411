"""Plugin discovery and the validated registry of what plugins provide.

Plugins come from the `benchbed` entry-point group. A plugin that fails to import, or whose
hook raises, is recorded as broken and skipped; a registration that breaks a rule (a name
taken twice, a metric without a direction, a model for a kind no task has) is refused with
a message naming the plugin. `strict=True` turns any of these into a BenchbedError.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from benchbed import hookspecs
from benchbed.errors import BenchbedError, unknown
from benchbed.specs import HIGHER, LOWER, Kind, Metric, ModelSpec, Task, search_space_problem

log = logging.getLogger("benchbed.plugins")

ENTRY_POINT_GROUP = "benchbed"


@dataclass
class PluginInfo:
    name: str
    distribution: str
    version: str
    error: str | None = None  # why the plugin was skipped as a whole
    problems: list[str] = field(default_factory=list)  # registrations that were refused

    @property
    def broken(self) -> bool:
        return self.error is not None


@dataclass
class Registry:
    """Everything the installed plugins provide, by name, with the plugin behind each."""

    plugins: dict[str, PluginInfo] = field(default_factory=dict)
    kinds: dict[str, Kind] = field(default_factory=dict)
    tasks: dict[str, Task] = field(default_factory=dict)
    models: dict[str, ModelSpec] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)
    suites: dict[str, Path] = field(default_factory=dict)
    owners: dict[tuple[str, str], str] = field(default_factory=dict)  # (what, name) -> plugin
    manager: pluggy.PluginManager = field(default_factory=lambda: _new_manager())
    extra_modules: list[tuple[str, str]] = field(default_factory=list)  # for worker processes

    def task(self, name: str) -> Task:
        return self._get("task", self.tasks, name)

    def model(self, name: str) -> ModelSpec:
        return self._get("model", self.models, name)

    def metric(self, name: str) -> Metric:
        return self._get("metric", self.metrics, name)

    def owner(self, what: str, name: str) -> PluginInfo:
        return self.plugins[self.owners[(what, name)]]

    def problems(self) -> list[str]:
        out = []
        for info in self.plugins.values():
            if info.error:
                out.append(f"plugin '{info.name}' ({info.distribution}) is broken: {info.error}")
            out.extend(f"plugin '{info.name}': {p}" for p in info.problems)
        return out

    def notify(self, hook: str, **kwargs: Any) -> None:
        """Send a run event to every plugin; a reporter that raises is logged, never fatal."""
        for _ in self.call_each(hook, **kwargs):
            pass

    def call_each(self, hook: str, **kwargs: Any) -> Iterator[tuple[str, Any]]:
        """Call one hook plugin by plugin, isolating failures: yields (plugin, result)."""
        for impl in getattr(self.manager.hook, hook).get_hookimpls():
            try:
                result = impl.function(**{k: kwargs[k] for k in impl.argnames})
            except Exception as exc:  # a plugin's bug must not stop the others
                message = f"{hook} raised {type(exc).__name__}: {exc}"
                log.warning("plugin '%s': %s", impl.plugin_name, message)
                info = self.plugins.get(impl.plugin_name)
                if info is not None:
                    info.problems.append(message)
                continue
            yield impl.plugin_name, result

    def _get(self, what: str, table: dict, name: str):
        if name not in table:
            raise unknown(what, name, table)
        return table[name]


def _new_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager("benchbed")
    manager.add_hookspecs(hookspecs)
    return manager


def load_registry(
    strict: bool = False, extra: Iterable[tuple[str, Any]] = (), entry_point_plugins: bool = True
) -> Registry:
    """Discover plugins and collect what they register.

    `extra` adds (name, module-or-object) plugins directly, as tests and embedding hosts do.
    """
    from benchbed import __version__, builtin

    registry = Registry()
    _register(registry, "benchbed", builtin, "benchbed", __version__)
    if entry_point_plugins:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in registry.plugins:
                continue  # the same distribution seen twice on sys.path
            dist = ep.dist.name if ep.dist else "?"
            version = ep.dist.version if ep.dist else "?"
            try:
                plugin = ep.load()
            except Exception as exc:
                registry.plugins[ep.name] = PluginInfo(ep.name, dist, version, error=_describe(exc))
                continue
            _register(registry, ep.name, plugin, dist, version)
    for name, plugin in extra:
        _register(registry, name, plugin, name, "0")
        if isinstance(plugin, ModuleType):
            registry.extra_modules.append((name, plugin.__name__))
    _collect(registry)
    if strict and registry.problems():
        raise BenchbedError("plugin problems (--strict):\n  " + "\n  ".join(registry.problems()))
    for problem in registry.problems():
        log.warning("%s", problem)
    return registry


def _describe(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" ({Path(last[0].filename).name}:{last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _register(registry: Registry, name: str, plugin: Any, dist: str, version: str) -> None:
    try:
        registry.manager.register(plugin, name=name)
    except Exception as exc:  # e.g. a hook with a misspelt name or wrong arguments
        registry.plugins[name] = PluginInfo(name, dist, version, error=_describe(exc))
        return
    registry.plugins[name] = PluginInfo(name, dist, version)


def _collect(registry: Registry) -> None:
    """Ask every plugin for its registrations, in dependency order, validating each."""
    for plugin, items in _gather(registry, "benchbed_metrics"):
        for metric in items:
            _add_metric(registry, plugin, metric)
    for plugin, items in _gather(registry, "benchbed_tasks"):
        for task in items:
            _add_task(registry, plugin, task)
    for plugin, items in _gather(registry, "benchbed_models"):
        for model in items:
            _add_model(registry, plugin, model)
    for plugin, items in _gather(registry, "benchbed_suites"):
        for path in items:
            _add_suite(registry, plugin, Path(path))


def _gather(registry: Registry, hook: str) -> Iterator[tuple[str, list]]:
    for impl in getattr(registry.manager.hook, hook).get_hookimpls():
        info = registry.plugins[impl.plugin_name]
        try:
            items = list(impl.function() or [])
        except Exception as exc:
            info.error = f"{hook}() raised {_describe(exc)}"
            continue
        yield impl.plugin_name, items


def _claim(registry: Registry, plugin: str, what: str, name: str) -> bool:
    """Record `plugin` as the owner of a name; refuse (with a message) a name already taken."""
    key = (what, name)
    if key in registry.owners:
        first = registry.owners[key]
        registry.plugins[plugin].problems.append(
            f"{what} '{name}' is already registered by plugin '{first}'; this one is ignored"
        )
        return False
    registry.owners[key] = plugin
    return True


def _refuse(registry: Registry, plugin: str, message: str) -> None:
    registry.plugins[plugin].problems.append(message)


def _add_metric(registry: Registry, plugin: str, metric: Any) -> None:
    if not isinstance(metric, Metric):
        return _refuse(registry, plugin, f"benchbed_metrics returned {metric!r}, not a Metric")
    if metric.direction not in (HIGHER, LOWER):
        return _refuse(
            registry,
            plugin,
            f"metric '{metric.name}' has direction {metric.direction!r}; "
            f"it must say whether '{HIGHER}' or '{LOWER}' is better",
        )
    if _claim(registry, plugin, "metric", metric.name):
        registry.metrics[metric.name] = metric


def _add_task(registry: Registry, plugin: str, task: Any) -> None:
    if not isinstance(task, Task):
        return _refuse(registry, plugin, f"benchbed_tasks returned {task!r}, not a Task")
    name = getattr(task, "name", None)
    kind = getattr(task, "kind", None)
    if not name or not isinstance(kind, Kind) or not task.metrics:
        return _refuse(
            registry, plugin, f"task {name or task!r} needs a name, a Kind and at least one metric"
        )
    missing = [m for m in task.metrics if m not in registry.metrics]
    if missing:
        return _refuse(
            registry, plugin, f"task '{name}' reports unregistered metric(s): {', '.join(missing)}"
        )
    if task.primary_metric not in task.metrics:
        return _refuse(registry, plugin, f"task '{name}': main metric is not among its metrics")
    known = registry.kinds.get(kind.name)
    if known is not None and known != kind:
        return _refuse(
            registry, plugin, f"task '{name}' redefines kind '{kind.name}' with other methods"
        )
    if _claim(registry, plugin, "task", name):
        registry.tasks[name] = task
        registry.kinds[kind.name] = kind


def _add_model(registry: Registry, plugin: str, model: Any) -> None:
    if not isinstance(model, ModelSpec):
        return _refuse(registry, plugin, f"benchbed_models returned {model!r}, not a ModelSpec")
    orphan = [k for k in model.kinds if k not in registry.kinds]
    if orphan or not model.kinds:
        return _refuse(
            registry,
            plugin,
            f"model '{model.name}' is for kind(s) {', '.join(orphan) or '(none)'} "
            "that no installed task has",
        )
    for name, space in model.search_space.items():
        problem = search_space_problem(name, space, model.defaults)
        if problem:
            return _refuse(registry, plugin, f"model '{model.name}': search space {problem}")
    if _claim(registry, plugin, "model", model.name):
        registry.models[model.name] = model


def _add_suite(registry: Registry, plugin: str, path: Path) -> None:
    if not path.is_file():
        return _refuse(registry, plugin, f"suite file {path} does not exist")
    if _claim(registry, plugin, "suite", path.stem):
        registry.suites[path.stem] = path
