"""Cost measurement: wall time, throughput and latency percentiles of a task's phases.

    with ctx.timer.phase("inference", items=len(x), batch_size=256) as phase:
        for batch in batches:
            with phase.step(items=len(batch)):
                model.predict(batch)

Steps are what latency percentiles are taken over (per batch or per item, as the task
chooses); the first `warmup` steps are excluded from throughput and latency. On CUDA the
timer synchronises the device at every boundary so the clock sees finished GPU work.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from benchbed.hardware import device_name


@dataclass
class TimingRecord:
    phase: str
    device: str
    device_name: str
    seconds: float  # wall time of the whole phase, warm-up included
    items: int | None
    throughput: float | None  # items per second over the measured (non-warm-up) part
    steps: int  # measured steps behind the latency percentiles
    latency_p50_ms: float | None
    latency_p90_ms: float | None
    latency_p99_ms: float | None
    batch_size: int | None
    dtype: str | None

    def as_row(self) -> dict:
        return asdict(self)


class Phase:
    def __init__(self, sync: Callable[[], None], warmup: int):
        self._sync = sync
        self._warmup = warmup
        self.step_seconds: list[float] = []
        self.step_items: list[int] = []

    @contextmanager
    def step(self, items: int = 1) -> Iterator[None]:
        self._sync()
        start = time.perf_counter()
        yield
        self._sync()
        self.step_seconds.append(time.perf_counter() - start)
        self.step_items.append(items)

    def measured(self) -> tuple[list[float], list[int]]:
        return self.step_seconds[self._warmup :], self.step_items[self._warmup :]


class Timer:
    """Collects one TimingRecord per phase of a cell."""

    def __init__(self, device: str = "cpu"):
        self.device = device
        self.device_name = device_name(device)
        self.records: list[TimingRecord] = []
        if device.startswith("cuda"):
            import torch

            self._sync = torch.cuda.synchronize
        else:
            self._sync = lambda: None

    @contextmanager
    def phase(
        self,
        name: str,
        items: int | None = None,
        batch_size: int | None = None,
        dtype: str | None = None,
        warmup: int = 0,
    ) -> Iterator[Phase]:
        phase = Phase(self._sync, warmup)
        self._sync()
        start = time.perf_counter()
        yield phase
        self._sync()
        seconds = time.perf_counter() - start
        self.records.append(self._record(name, phase, seconds, items, batch_size, dtype))

    def _record(self, name, phase, seconds, items, batch_size, dtype) -> TimingRecord:
        import numpy as np

        step_seconds, step_items = phase.measured()
        latencies = np.asarray(step_seconds) * 1000.0
        if step_seconds:
            p50, p90, p99 = (float(v) for v in np.percentile(latencies, [50, 90, 99]))
            throughput = sum(step_items) / sum(step_seconds) if sum(step_seconds) > 0 else None
            items = items if items is not None else sum(phase.step_items)
        else:
            p50 = p90 = p99 = None
            throughput = items / seconds if items and seconds > 0 else None
        return TimingRecord(
            phase=name,
            device=self.device,
            device_name=self.device_name,
            seconds=seconds,
            items=items,
            throughput=throughput,
            steps=len(step_seconds),
            latency_p50_ms=p50,
            latency_p90_ms=p90,
            latency_p99_ms=p99,
            batch_size=batch_size,
            dtype=dtype,
        )
