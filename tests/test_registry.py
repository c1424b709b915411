import pytest
import raising_hook
import rule_breaker
import toy_plugin

from benchbed import BenchbedError
from benchbed.plugins import load_registry
from benchbed.specs import search_space_problem


def test_plugins_register_tasks_models_metrics(registry):
    assert "toy/noisy" in registry.tasks
    assert registry.model("uniform").kinds == ("toy-scorer",)
    assert registry.metric("toy_score").direction == "higher"
    assert registry.owner("task", "toy/noisy").name == "toy"
    assert registry.problems() == []


def test_rule_breaking_registrations_are_refused_with_the_plugin_named():
    registry = load_registry(
        extra=[("toy", toy_plugin), ("rules", rule_breaker)], entry_point_plugins=False
    )
    problems = "\n".join(registry.problems())
    assert "plugin 'rules': task 'toy/noisy' is already registered by plugin 'toy'" in problems
    assert "plugin 'rules': metric 'directionless' has direction 'sideways'" in problems
    assert "plugin 'rules': model 'orphan-model' is for kind(s) orphan-kind" in problems
    assert "model 'shapeless-space': search space 'mode': ('a', 'b') is not a range" in problems
    # what was valid in the same plugin still counts; the refused items do not
    assert "fine_metric" in registry.metrics
    assert "directionless" not in registry.metrics
    assert "orphan-model" not in registry.models
    assert "shapeless-space" not in registry.models
    assert registry.owner("task", "toy/noisy").name == "toy"


@pytest.mark.parametrize(
    "space, problem",
    [
        (("int", 1, 20), None),
        (("log", 1e-4, 1e-1), None),
        (("choice", ["a", "b"]), None),
        (("categorical", ["a", "b"]), "is not a range"),
        (("choice", []), "a choice is ('choice', [value, ...])"),
        (("choice", "a", "b"), "a choice is ('choice', [value, ...])"),
        (("float", 1.0, 0.5), "low < high"),
        (("log", 0.0, 1.0), "low < high"),
        (("int", 1), "low < high"),
        ([("int", 1, 2)], "is not a range"),
    ],
)
def test_malformed_search_spaces_are_named(space, problem):
    found = search_space_problem("x", space, {"x": 1})
    assert found is None if problem is None else problem in found


def test_a_search_space_over_an_unknown_parameter_is_named():
    found = search_space_problem("lr", ("log", 1e-4, 1e-2), {"k": 3})
    assert found == "'lr' is not one of the model's parameters (k)"


def test_the_plugins_installed_here_register_without_problems():
    registry = load_registry()
    ours = [p for p in registry.plugins.values() if p.distribution.startswith("benchbed-")]
    if not ours:
        pytest.skip("no benchbed-* plugin is installed")
    assert [p for p in ours if p.broken] == []
    assert registry.problems() == []


def test_a_raising_hook_breaks_only_its_plugin():
    registry = load_registry(
        extra=[("toy", toy_plugin), ("raising", raising_hook)], entry_point_plugins=False
    )
    assert registry.plugins["raising"].broken
    assert "ValueError: the data file is corrupt" in registry.plugins["raising"].error
    assert "toy/noisy" in registry.tasks


def test_strict_turns_problems_into_an_error():
    with pytest.raises(BenchbedError, match="the data file is corrupt"):
        load_registry(strict=True, extra=[("raising", raising_hook)], entry_point_plugins=False)


def test_unknown_names_suggest_the_near_match(registry):
    with pytest.raises(
        BenchbedError, match="unknown model 'unifrm' \\(did you mean 'uniform'\\?\\)"
    ):
        registry.model("unifrm")
    with pytest.raises(BenchbedError, match="see `benchbed list tasks`"):
        registry.task("zzzzzz")


def test_a_failing_reporter_does_not_stop_the_others(registry, caplog):
    class Reporter:
        seen = []

        @staticmethod
        def benchbed_run_finished(run_id, summary):
            Reporter.seen.append(run_id)

    class BadReporter:
        @staticmethod
        def benchbed_run_finished(run_id, summary):
            raise OSError("disk full")

    from benchbed import hookimpl

    hookimpl(Reporter.benchbed_run_finished)
    hookimpl(BadReporter.benchbed_run_finished)
    registry.manager.register(BadReporter, name="bad")
    registry.manager.register(Reporter, name="good")
    registry.plugins["bad"] = registry.plugins["good"] = registry.plugins["toy"]
    registry.notify("benchbed_run_finished", run_id="r1", summary={})
    assert Reporter.seen == ["r1"]
    assert "disk full" in caplog.text
