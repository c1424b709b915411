"""Fast/slow weights with two-step consolidation on Split-Digits: the two updates follow
their definition, and the method forgets less than naive fine-tuning."""

import pytest

from benchbed import BenchbedError


def stream(ctx, scenario):
    from benchbed_continual.benchmarks import DIGITS, split_stream

    from benchbed.data.images import load_digits

    return split_stream(load_digits, scenario, DIGITS, ctx)


def snapshot(learner):
    return {n: p.detach().clone() for n, p in learner.parameters().items()}


def test_the_two_consolidation_steps(ctx, build):
    import torch

    data = stream(ctx, "domain")
    model = build("fast-slow", slow_rate=0.3, fast_lambda=50.0)
    model.prepare(data.setting)
    start = snapshot(model)
    model.learn(data.train(0))
    fast0 = snapshot(model)
    # Step two after context 0: slow = start + beta (fast - start).
    for n in start:
        torch.testing.assert_close(model.slow[n], start[n] + 0.3 * (fast0[n] - start[n]))
    slow0 = {n: s.clone() for n, s in model.slow.items()}
    # The next context's fast learning starts from the slow weights ...
    model.before_context(data.train(1))
    for n, p in model.parameters().items():
        torch.testing.assert_close(p.detach(), slow0[n])
    # ... under the penalty (lambda/2) sum F (theta - theta*_fast)^2, zero at the anchor.
    expected = 25.0 * sum((model.fisher[n] * (slow0[n] - fast0[n]) ** 2).sum() for n in fast0)
    assert float(model.penalty().detach()) == pytest.approx(float(expected), rel=1e-5)
    assert float(expected) > 0
    model.learn(data.train(1))
    fast1 = snapshot(model)
    for n in start:
        torch.testing.assert_close(model.slow[n], slow0[n] + 0.3 * (fast1[n] - slow0[n]))
        torch.testing.assert_close(model.anchor[n], fast1[n])


@pytest.mark.parametrize("scenario", ["domain-il", "task-il"])
def test_fast_slow_forgets_less_than_naive(tasks, ctx, build, scenario):
    task = tasks[f"continual/split-digits/{scenario}"]
    naive = task.evaluate(build("naive"), ctx).metrics["forgetting"].value
    fast_slow = task.evaluate(build("fast-slow"), ctx).metrics["forgetting"].value
    assert fast_slow < naive - 0.02


@pytest.mark.parametrize(
    "params, message",
    [
        ({"fast_lambda": -1.0}, "fast_lambda must be >= 0"),
        ({"slow_rate": 0.0}, r"slow_rate \(beta\) must be in \(0, 1\]"),
        ({"slow_rate": 1.5}, r"slow_rate \(beta\) must be in \(0, 1\]"),
    ],
)
def test_bad_parameters_are_refused_with_a_clear_error(build, params, message):
    with pytest.raises(BenchbedError, match=message):
        build("fast-slow", **params)
