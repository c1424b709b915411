"""Compute a continual task's joint reference (Chaudhry's a*_j, for intransigence) ahead of
its cells.

Cells of one protocol and seed share the reference: the first to finish training computes it
while the others of that seed wait under its cache lock. When many cells run side by side
(e.g. on one GPU), computing each seed's reference up front, one process per seed, lets no
cell wait:

    for s in 1 2 3 4; do
        python -m benchbed_continual.joint_reference continual/permuted-mnist/domain-il \\
            --device cuda --seed $s &
    done
    benchbed run suite continual-full --device cuda --executor process --workers 10 --threads 1

It fills the same cache ($BENCHBED_CACHE) that the cells read, under the same key.
"""

from __future__ import annotations

import sys


def fill(task_name: str, device: str, seed: int) -> list[float]:
    """The reference of `task_name` for `seed` on `device` (as `benchbed run --device` takes
    it), computed unless it is cached."""
    from benchbed.context import Context
    from benchbed.errors import BenchbedError
    from benchbed.hardware import resolve_device
    from benchbed.plugins import load_registry
    from benchbed_continual.benchmarks import ContinualTask
    from benchbed_continual.methods.naive import Naive

    registry = load_registry()
    task = registry.task(task_name)
    if not isinstance(task, ContinualTask):
        raise BenchbedError(
            f"task '{task_name}' is not a continual task: it has no joint reference"
        )
    # Resolved as the runner resolves it: the device is part of the cache key.
    device = resolve_device(device)
    ctx = Context(
        seed=seed, device=device, plugin=registry.owners[("task", task_name)], show_progress=False
    )
    stream = task.build(ctx)
    # Any method at its defaults prepares the task's own protocol, which keys the cache.
    return task.reference(stream, Naive().prepare(stream.setting), ctx)


def main(argv=None) -> int:
    import argparse

    from benchbed.errors import BenchbedError

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", help="a continual task, e.g. continual/permuted-mnist/domain-il")
    parser.add_argument(
        "--device", default="auto", help="auto, cpu or cuda: as the cells will run (`benchbed run`)"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        reference = fill(args.task, args.device, args.seed)
    except BenchbedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"{args.task} seed {args.seed} ({args.device}): " + " ".join(f"{a:.4f}" for a in reference)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
