"""Methods on Split-Digits (seconds): each must beat the baseline it exists to beat."""

import pytest

from benchbed import BenchbedError


def run(tasks, ctx, build, task, method, **params):
    result = tasks[f"continual/split-digits/{task}"].evaluate(build(method, **params), ctx)
    return result, result.metrics["average_accuracy"].value


@pytest.fixture(scope="module")
def class_il(tasks, build, tmp_path_factory):
    """Final average accuracy of each method on class-incremental Split-Digits, seed 0."""
    from benchbed import Context, seed_everything

    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BENCHBED_CACHE", str(tmp_path_factory.mktemp("cache")))
        for method in ("naive", "joint", "replay", "icarl", "derpp", "agem"):
            seed_everything(0)
            ctx = Context(seed=0, show_progress=False, plugin="continual")
            out[method] = tasks["continual/split-digits/class-il"].evaluate(build(method), ctx)
    return out


def accuracy(result):
    return result.metrics["average_accuracy"].value


def test_naive_forgets_everything_but_the_last_context_in_class_il(class_il):
    R = class_il["naive"].artifacts["accuracy_matrix"]["R"]
    assert accuracy(class_il["naive"]) < 0.25
    assert R[-1][-1] > 0.8 and max(R[-1][:-1]) < 0.2
    assert class_il["naive"].metrics["forgetting"].value > 0.8


@pytest.mark.parametrize("method", ["joint", "replay", "icarl", "derpp"])
def test_rehearsal_and_joint_beat_naive_in_class_il(class_il, method):
    assert accuracy(class_il[method]) > accuracy(class_il["naive"]) + 0.4


def test_agem_beats_naive_in_class_il(class_il):
    assert accuracy(class_il["agem"]) > accuracy(class_il["naive"]) + 0.1


def test_joint_is_the_upper_bound_of_replay(class_il):
    assert accuracy(class_il["joint"]) >= accuracy(class_il["replay"]) - 0.02
    assert class_il["joint"].metrics["intransigence"].value == pytest.approx(0.0, abs=1e-9)


def test_the_accuracy_matrix_artifact(class_il):
    matrix = class_il["replay"].artifacts["accuracy_matrix"]
    assert len(matrix["R"]) == 5 and all(len(row) == 5 for row in matrix["R"])
    assert len(matrix["b"]) == 5 and len(matrix["reference"]) == 5
    assert matrix["protocol"]["memory"] == 100 and matrix["protocol"]["scenario"] == "class"
    # Before context j is trained a class-IL learner cannot name its classes.
    assert all(matrix["R"][i][j] == 0 for i in range(5) for j in range(i + 1, 5))


@pytest.mark.parametrize("method", ["ewc", "online-ewc", "si", "lwf"])
def test_regularisation_methods_forget_less_than_naive_in_domain_il(tasks, ctx, build, method):
    naive, _ = run(tasks, ctx, build, "domain-il", "naive")
    other, _ = run(tasks, ctx, build, "domain-il", method)
    assert other.metrics["forgetting"].value < naive.metrics["forgetting"].value


def test_task_il_is_easy(tasks, ctx, build):
    _, acc = run(tasks, ctx, build, "task-il", "naive")
    assert acc > 0.85


def test_same_seed_same_numbers(tasks, ctx, build):
    first, _ = run(tasks, ctx, build, "task-il", "replay")
    second, _ = run(tasks, ctx, build, "task-il", "replay")
    assert first.artifacts["accuracy_matrix"]["R"] == second.artifacts["accuracy_matrix"]["R"]


def test_icarl_refuses_domain_il(tasks, ctx, build):
    with pytest.raises(BenchbedError, match="domain-incremental"):
        run(tasks, ctx, build, "domain-il", "icarl")


def test_model_parameters_override_the_protocol(tasks, ctx, build):
    result, _ = run(tasks, ctx, build, "class-il", "replay", iters=10, memory=20)
    protocol = result.artifacts["accuracy_matrix"]["protocol"]
    assert protocol["iters"] == 10 and protocol["memory"] == 20


def test_online_variant_reports_the_curve_and_replay_beats_naive(tasks, ctx, build):
    task = tasks["continual/split-digits-online/class-il"]
    naive = task.evaluate(build("naive"), ctx)
    replay = task.evaluate(build("replay"), ctx)
    curve = naive.artifacts["accuracy_curve"]
    # One evaluation every 5 steps of 10 images: about 270 // 10 // 5 = 5 per context.
    assert curve["every"] == 5 and 20 <= len(curve["accuracy"]) <= 30
    assert naive.metrics["a_auc"].value == pytest.approx(
        sum(curve["accuracy"]) / len(curve["accuracy"])
    )
    assert naive.metrics["a_last"].value == pytest.approx(
        naive.metrics["average_accuracy"].value, abs=0.02
    )
    assert replay.metrics["a_auc"].value > naive.metrics["a_auc"].value
    assert replay.metrics["a_last"].value > naive.metrics["a_last"].value + 0.1
    assert naive.artifacts["accuracy_matrix"]["protocol"]["single_pass"] is True


def test_agem_beats_naive_under_its_own_protocol(ctx, build):
    """A-GEM's Permuted-MNIST protocol (plain SGD, one pass in batches of 10, a memory that
    grows by a fixed share per context), on permuted digits."""
    from benchbed_continual.benchmarks import ContinualTask, Protocol, permuted_stream

    from benchbed.data.images import load_digits

    protocol = Protocol(
        hidden=100, lr=0.1, batch_size=10, single_pass=True, optimizer="sgd", memory_per_context=50
    )
    task = ContinualTask(
        "permuted-digits",
        "5 permutations of the digits",
        lambda ctx: permuted_stream(load_digits, protocol, ctx, contexts=5, standardize=(0.3, 0.4)),
    )
    naive = accuracy(task.evaluate(build("naive"), ctx))
    agem = task.evaluate(build("agem"), ctx)
    assert agem.artifacts["accuracy_matrix"]["protocol"]["optimizer"] == "sgd"
    assert accuracy(agem) > naive + 0.08
