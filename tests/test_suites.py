import textwrap

import pytest

from benchbed import BenchbedError
from benchbed.cells import parse_param
from benchbed.suites import load_suite


def write(tmp_path, text):
    path = tmp_path / "s.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_a_suite_expands_into_tasks_models_params_and_seeds(registry, tmp_path):
    path = write(
        tmp_path,
        """
        description = "grid"
        seeds = [0, 1]

        [[grid]]
        tasks = ["toy/*"]
        models = ["uniform"]

        [grid.params.uniform]
        low = [0.0, 0.5]

        [[grid]]
        tasks = ["toy/count"]
        models = ["counter"]
        seeds = [7]
        """,
    )
    # toy/* matches toy/count too, which uniform cannot solve: that must be refused
    with pytest.raises(
        BenchbedError, match="s.toml, line 7: model 'uniform' cannot solve task 'toy/count'"
    ):
        load_suite(registry, path, "cpu")

    path.write_text(
        path.read_text().replace('tasks = ["toy/*"]', 'tasks = ["toy/noisy", "toy/sleepy"]')
    )
    suite = load_suite(registry, path, "cpu")
    assert suite.name == "s"
    labelled = {(c.task, c.model, c.params.get("low"), c.seed) for c in suite.cells}
    assert len(suite.cells) == 2 * 2 * 2 + 1
    assert ("toy/sleepy", "uniform", 0.5, 1) in labelled
    assert ("toy/count", "counter", None, 7) in labelled
    # seed by seed, grid order within a seed: a suite stopped early leaves whole seeds
    assert [c.seed for c in suite.cells] == [0] * 4 + [1] * 4 + [7]
    assert [(c.task, c.params["low"]) for c in suite.cells[:4]] == [
        ("toy/noisy", 0.0), ("toy/noisy", 0.5), ("toy/sleepy", 0.0), ("toy/sleepy", 0.5)
    ]  # fmt: skip
    # parameters not given in the suite take the model's defaults
    assert all(c.params["delay"] == 0.0 for c in suite.cells if c.model == "uniform")


@pytest.mark.parametrize(
    "body, message",
    [
        ('[[grid]]\ntasks = ["toy/noisy"\nmodels = ["uniform"]\n', "not valid TOML.*line 3"),
        (
            '[[grid]]\ntasks = ["toy/noisey"]\nmodels = ["uniform"]\n',
            "line 2: unknown task 'toy/noisey' \\(did you mean 'toy/noisy'\\?\\)",
        ),
        (
            '[[grid]]\ntasks = ["toy/noisy"]\nmodels = ["uniforn"]\n',
            "line 3: unknown model 'uniforn' \\(did you mean 'uniform'\\?\\)",
        ),
        (
            'seed = [1]\n[[grid]]\ntasks = ["toy/noisy"]\nmodels = ["uniform"]\n',
            "line 1: unknown key 'seed' in suite \\(did you mean 'seeds'\\?\\)",
        ),
        (
            '[[grid]]\ntasks = ["toy/noisy"]\nmodels = ["uniform"]\n[grid.params.uniform]\nlowe = 1\n',
            "model 'uniform' has no parameter 'lowe' \\(did you mean 'low'\\?\\)",
        ),
        (
            'seeds = ["a"]\n[[grid]]\ntasks = ["toy/noisy"]\nmodels = ["uniform"]\n',
            "line 1: seeds must be a non-empty list of integers",
        ),
        ('name = "x"\n', "at least one \\[\\[grid\\]\\]"),
    ],
)
def test_malformed_suites_say_where(registry, tmp_path, body, message):
    with pytest.raises(BenchbedError, match=message):
        load_suite(registry, write(tmp_path, body), "cpu")


def test_cell_keys_change_with_anything_that_changes_the_result(registry):
    from benchbed.cells import make_cell

    base = make_cell(registry, "toy/noisy", "uniform", {}, 0, "cpu")
    assert base.key == make_cell(registry, "toy/noisy", "uniform", {"low": 0.0}, 0, "cpu").key
    others = [
        make_cell(registry, "toy/noisy", "uniform", {"low": 0.1}, 0, "cpu"),
        make_cell(registry, "toy/noisy", "uniform", {}, 1, "cpu"),
        make_cell(registry, "toy/noisy", "uniform", {}, 0, "cuda"),
        make_cell(registry, "toy/sleepy", "uniform", {}, 0, "cpu"),
    ]
    assert len({base.key, *(c.key for c in others)}) == 5
    registry.plugins["toy"].version = "9.9"  # a new plugin version invalidates stored results
    assert make_cell(registry, "toy/noisy", "uniform", {}, 0, "cpu").key != base.key


def test_params_parse_as_toml_literals():
    assert parse_param("lr=1e-3") == ("lr", 0.001)
    assert parse_param("k = 5") == ("k", 5)
    assert parse_param("flag=true") == ("flag", True)
    assert parse_param("mode=cl2n") == ("mode", "cl2n")
    with pytest.raises(BenchbedError, match="NAME=VALUE"):
        parse_param("lr")
