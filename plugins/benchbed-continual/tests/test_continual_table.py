"""The Markdown tables that the README's result sections are generated with."""

import json

import pytest
from benchbed_continual import table

TASK = "continual/permuted-mnist/domain-il"


def row(model, seed, device, metric, value, params='{"lr": null}', task=TASK, status="ok"):
    return dict(
        task=task, model=model, params=params, seed=seed, device=device, status=status,
        metric=metric, value=value,
    )  # fmt: skip


def cell(model, seed, device, accuracy, forgetting, params='{"lr": null}'):
    return [
        row(model, seed, device, "average_accuracy", accuracy, params),
        row(model, seed, device, "forgetting", forgetting, params),
        row(model, seed, device, "intransigence", 0.01, params),
    ]


def test_summary_pools_seeds_across_devices_best_first():
    rows = (
        cell("naive", 0, "cuda", 0.70, 0.30)
        + cell("naive", 2, "cpu", 0.80, 0.20)
        + cell("naive", 1, "cuda", 0.75, 0.25)
        + cell("joint", 0, "cpu", 0.97, 0.0)
        + [row("naive", 3, "cpu", "average_accuracy", 0.1, status="failed")]
        + [row("naive", 4, "cpu", "average_accuracy", 0.1, task="continual/other")]
    )
    lines = table.summary(rows, TASK).splitlines()
    assert lines[2] == "| joint | - | 0 (cpu) | 97.00 | 0.000 | 0.010 |"
    # mean 75, sample s.d. 5 (hand-computed); the failed and other-task rows are left out
    assert lines[3] == "| naive | - | 2 (cpu); 0, 1 (cuda) | 75.00 ± 5.00 | 0.250 ± 0.050 | 0.010 ± 0.000 |"  # fmt: skip
    assert len(lines) == 4


def test_summary_names_only_the_parameters_that_differ():
    default = '{"ewc_lambda": null, "lr": null}'
    hsu = '{"ewc_lambda": 200.0, "lr": null}'
    rows = cell("ewc", 0, "cpu", 0.9, 0.06, default) + cell("ewc", 0, "cuda", 0.8, 0.07, hsu)
    lines = table.summary(rows, TASK).splitlines()
    assert lines[2].startswith("| ewc | ewc_lambda=default | 0 (cpu) | 90.00 |")
    assert lines[3].startswith("| ewc | ewc_lambda=200.0 | 0 (cuda) | 80.00 |")


def test_summary_of_a_task_with_nothing_stored_says_so():
    with pytest.raises(SystemExit, match="no stored results for continual/nope"):
        table.summary(cell("naive", 0, "cpu", 0.7, 0.3), "continual/nope")


def test_hsu_table_sets_our_mean_beside_theirs():
    rows = [
        row("replay", s, "cuda", "average_accuracy", v, task="continual/split-mnist/class-il")
        for s, v in ((0, 0.90), (1, 0.92))
    ]
    replay = next(
        line for line in table.markdown(table.collect(rows)).splitlines() if "rehearsal" in line
    )
    assert "| 90.78 | 91.00 ± 1.41 (2) |" in replay
    assert "| 99.40 | - |" in replay  # no task-IL cell stored


def test_cli_reads_several_stores(tmp_path, capsys):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(cell("naive", 0, "cpu", 0.7, 0.3)))
    b.write_text(json.dumps(cell("naive", 1, "cuda", 0.8, 0.2)))
    assert table.main(["--task", TASK, str(a), str(b)]) == 0
    assert "| naive | - | 0 (cpu); 1 (cuda) | 75.00 ± 7.07 |" in capsys.readouterr().out
