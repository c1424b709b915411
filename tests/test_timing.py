import pytest

from benchbed import timing
from benchbed.timing import Timer


def test_throughput_and_latency_come_from_the_measured_steps(monkeypatch):
    # a fake clock: each step takes 10, 20, ..., 100 ms; the first two are warm-up
    ticks = iter([0.0] + [x for i in range(10) for x in (i, i + 0.01 * (i + 1))] + [20.0])
    monkeypatch.setattr(timing.time, "perf_counter", lambda: next(ticks))
    timer = Timer("cpu")
    with timer.phase("inference", items=80, batch_size=8, warmup=2) as phase:
        for _ in range(10):
            with phase.step(items=8):
                pass
    record = timer.records[0]
    measured_ms = [10.0 * (i + 1) for i in range(2, 10)]  # 30..100 ms
    assert record.seconds == pytest.approx(20.0)
    assert record.steps == 8
    assert record.throughput == pytest.approx(64 / (sum(measured_ms) / 1000))
    assert record.latency_p50_ms == pytest.approx(65.0)
    assert record.latency_p99_ms == pytest.approx(99.3)
    assert record.batch_size == 8 and record.device == "cpu" and record.device_name


def test_a_phase_without_steps_reports_items_over_wall_time(monkeypatch):
    ticks = iter([1.0, 3.0])
    monkeypatch.setattr(timing.time, "perf_counter", lambda: next(ticks))
    timer = Timer("cpu")
    with timer.phase("train", items=500):
        pass
    record = timer.records[0]
    assert record.throughput == pytest.approx(250.0)
    assert record.latency_p50_ms is None and record.steps == 0
