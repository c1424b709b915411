"""The benchmarks: how each one splits a data set into contexts, its protocol, and the task
that trains a learner context by context and fills the accuracy matrix."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass

from benchbed import Kind, Result, Score, Task
from benchbed.data.images import load_digits, load_fashion_mnist, load_mnist
from benchbed_continual import metrics as M
from benchbed_continual.learner import Experience, Setting, epochs_to_iters

LEARNER = Kind(
    "continual-learner",
    "prepare(setting) -> setting it follows; learn(experience, monitor=None, every=0) once per "
    "context, in order, calling monitor() every `every` steps; predict(x, context) -> labels "
    "(context is used only in task-incremental learning); optionally report() -> a JSON-able "
    "dict of what the learner did, stored as the cell's `learner` artifact",
    methods=("prepare", "learn", "predict"),
)

METRICS = (
    "average_accuracy",
    "average_incremental_accuracy",
    "forgetting",
    "backward_transfer",
    "forward_transfer",
    "intransigence",
)

ONLINE_METRICS = (*METRICS, "a_auc", "a_last")

MNIST_MEAN_STD = (0.1307, 0.3081)  # torchvision's MNIST normalisation, which Avalanche uses
SPLIT_PAIRS = ((0, 1), (2, 3), (4, 5), (6, 7), (8, 9))
SCENARIO_NAMES = {"task": "task-il", "domain": "domain-il", "class": "class-il"}


@dataclass(frozen=True)
class Protocol:
    """Network and training budget of a benchmark; `epochs` (per context) wins over `iters`."""

    hidden: int = 400
    lr: float = 1e-3
    batch_size: int = 128
    iters: int | None = None
    epochs: float | None = None
    memory: int = 1100
    single_pass: bool = False
    backbone: str = "mlp"
    image_shape: tuple[int, int, int] | None = None  # (channels, height, width) for the ViT
    vit: dict | None = None  # other ViTConfig fields; None: its defaults
    strengths: str = "hsu"  # whose regularisation strengths the methods default to
    optimizer: str = "adam"  # or "sgd" (plain, no momentum)
    memory_per_context: int | None = None  # A-GEM's growing memory; None: `memory` in all


# Hsu et al. 2018 (the source of the reference table): 4 epochs per context, batch 128,
# Adam 1e-3, 2x400 MLP, 1100 stored examples for replay.
HSU = Protocol(epochs=4)
# van de Ven et al. (2020, 2022): 2000 iterations per context for Split-MNIST.
VAN_DE_VEN = Protocol(iters=2000, strengths="van-de-ven-split-mnist")
# van de Ven et al. for Permuted-MNIST: 2x1000 MLP, 5000 iterations per context, lr 1e-4.
PERMUTED = Protocol(hidden=1000, lr=1e-4, iters=5000, strengths="van-de-ven-permuted-mnist")
# A-GEM's Permuted-MNIST protocol (Chaudhry et al. 2019) as Avalanche's reproduction runs it
# (continual-learning-baselines, target 0.81 average accuracy): 17 permutations, 2x256 MLP,
# plain SGD 0.1, one pass in batches of 10, 250 stored examples per context; the other replay
# methods get the final memory size, 16 x 250.
AGEM_PERMUTED = Protocol(
    hidden=256,
    lr=0.1,
    batch_size=10,
    single_pass=True,
    optimizer="sgd",
    memory=4000,
    memory_per_context=250,
    strengths="van-de-ven-permuted-mnist",
)
# Online (Koh et al. 2022; Mai et al. 2022): each context seen once, in batches of 10.
ONLINE = Protocol(batch_size=10, single_pass=True)
DIGITS_ONLINE = Protocol(hidden=100, batch_size=10, single_pass=True, memory=100)
# Split-Digits is for fast tests: 270 training images per context, so a small memory.
DIGITS = Protocol(hidden=100, batch_size=32, iters=100, memory=100)


@dataclass
class Stream:
    setting: Setting
    train: Callable[[int], Experience]  # on demand: one permuted MNIST copy at a time
    test: Callable[[int], tuple]  # context -> (x, y)


def split_stream(load, scenario: str, protocol: Protocol, ctx) -> Stream:
    """Five contexts of two classes each: (0,1), (2,3), ... of a 10-class data set."""
    import torch

    device = torch.device(ctx.device)
    data = {
        split: [torch.as_tensor(a).to(device) for a in load(split)] for split in ("train", "test")
    }
    n_outputs = 2 if scenario == "domain" else 10
    masks = torch.ones(len(SPLIT_PAIRS), n_outputs, dtype=torch.bool)
    if scenario == "task":
        masks[:] = False
        for t, pair in enumerate(SPLIT_PAIRS):
            masks[t, list(pair)] = True

    def part(split, t):
        x, y = data[split]
        pair = SPLIT_PAIRS[t]
        keep = (y == pair[0]) | (y == pair[1])
        labels = (y[keep] == pair[1]).long() if scenario == "domain" else y[keep]
        return x[keep], labels

    sizes = [len(part("train", t)[0]) for t in range(len(SPLIT_PAIRS))]
    setting = make_setting(
        protocol, scenario, data["train"][0].shape[1], n_outputs, masks, sizes, ctx
    )

    def train(t):
        x, y = part("train", t)
        return Experience(t, x, y, (0, 1) if scenario == "domain" else SPLIT_PAIRS[t])

    return Stream(setting, train, lambda t: part("test", t))


def permuted_stream(
    load, protocol: Protocol, ctx, contexts: int = 10, standardize: tuple | None = None
) -> Stream:
    """Each context is the whole data set under its own fixed pixel permutation (domain-IL).
    `standardize` = (mean, std) maps pixels to (x - mean) / std first."""
    import torch

    device = torch.device(ctx.device)
    data = {
        split: [torch.as_tensor(a).to(device) for a in load(split)] for split in ("train", "test")
    }
    if standardize is not None:
        mean, std = standardize
        for split in data:
            data[split][0] = (data[split][0] - mean) / std
    n_inputs = data["train"][0].shape[1]
    rng = ctx.rng(stream=7)
    perms = [torch.as_tensor(rng.permutation(n_inputs)).to(device) for _ in range(contexts)]
    masks = torch.ones(contexts, 10, dtype=torch.bool)
    setting = make_setting(
        protocol, "domain", n_inputs, 10, masks, [len(data["train"][0])] * contexts, ctx
    )

    def part(split, t):
        x, y = data[split]
        return x[:, perms[t]], y

    return Stream(
        setting,
        lambda t: Experience(t, *part("train", t), tuple(range(10))),
        lambda t: part("test", t),
    )


def make_setting(protocol, scenario, n_inputs, n_outputs, masks, sizes, ctx) -> Setting:
    iters = protocol.iters
    if protocol.single_pass:
        iters = int(sum(sizes) / len(sizes)) // protocol.batch_size  # informative: n // batch
    elif protocol.epochs is not None:
        iters = epochs_to_iters(protocol.epochs, int(sum(sizes) / len(sizes)), protocol.batch_size)
    return Setting(
        scenario=scenario,
        n_inputs=n_inputs,
        n_outputs=n_outputs,
        n_contexts=len(masks),
        masks=masks,
        hidden=protocol.hidden,
        lr=protocol.lr,
        iters=iters,
        batch_size=protocol.batch_size,
        memory=protocol.memory,
        single_pass=protocol.single_pass,
        device=ctx.device,
        seed=ctx.seed,
        backbone=protocol.backbone,
        image_shape=protocol.image_shape,
        vit=protocol.vit,
        strengths=protocol.strengths,
        optimizer=protocol.optimizer,
        memory_per_context=protocol.memory_per_context,
    )


class ContinualTask(Task):
    """Trains a learner on the contexts in order; after each one, tests it on every context.

    Reports the metrics of `metrics.py` and stores the accuracy matrix as an artifact.
    Forward transfer uses the learner's own network at initialisation as the random
    baseline; intransigence compares with a joint learner trained under the same protocol
    and seed (computed once per protocol and cached).
    """

    kind = LEARNER
    metrics = METRICS
    main_metric = "average_accuracy"

    def __init__(self, name: str, description: str, build: Callable, every: int = 0):
        self.name = name
        self.description = description
        self.build = build  # ctx -> Stream
        # Online tasks evaluate along the stream every `every` steps, for A_auc and A_last.
        self.every = every
        if every:
            self.metrics = ONLINE_METRICS

    def evaluate(self, model, ctx) -> Result:
        stream = self.build(ctx)
        setting = model.prepare(stream.setting)
        T = setting.n_contexts
        tests = [stream.test(j) for j in range(T)]
        b = self.accuracies(model, tests)
        R, curve = [], []
        with ctx.timer.phase("train", batch_size=setting.batch_size) as train:
            for t in ctx.progress(range(T), desc=self.name, total=T):
                experience = stream.train(t)
                steps = (
                    len(experience.x) // setting.batch_size
                    if setting.single_pass
                    else setting.iters
                )
                with train.step(items=steps * setting.batch_size):
                    if self.every:

                        def monitor(seen=tests[: t + 1]):
                            curve.append(self.pooled(model, seen))

                        model.learn(experience, monitor=monitor, every=self.every)
                    else:
                        model.learn(experience)
                if t < T - 1:
                    R.append(self.accuracies(model, tests))
        n_test = sum(len(y) for _, y in tests)
        hits = [[] for _ in tests]
        with ctx.timer.phase("inference", items=n_test, batch_size=1000) as inference:
            R.append(self.accuracies(model, tests, inference, hits=hits))
        reference = self.reference(stream, setting, ctx)
        online = {}
        if self.every:
            online = {
                "a_auc": Score(M.area_under_accuracy(curve), samples=curve, unit="evaluation"),
                "a_last": self.pooled(model, tests),
            }
        return Result(
            metrics={
                **online,
                "average_accuracy": Score.mean_of(_item_scores(hits), unit="test item"),
                "average_incremental_accuracy": Score.mean_of(
                    M.incremental_accuracies(R), unit="context"
                ),
                "forgetting": _score(M.forgetting_per_context(R)),
                "backward_transfer": _score(M.backward_transfer_per_context(R)),
                "forward_transfer": _score(M.forward_transfer_per_context(R, b)),
                "intransigence": Score.mean_of(
                    M.intransigence_per_context(R, reference), unit="context"
                ),
            },
            artifacts={
                "accuracy_matrix": {
                    "R": [[round(float(a), 6) for a in row] for row in R],
                    "b": [round(float(a), 6) for a in b],
                    "reference": [round(float(a), 6) for a in reference],
                    "protocol": protocol_record(setting),
                },
                **(
                    {"accuracy_curve": {"every": self.every, "accuracy": curve}}
                    if self.every
                    else {}
                ),
                **learner_report(model),
            },
        )

    @staticmethod
    def pooled(model, tests) -> float:
        """Accuracy over the union of the test sets (A_auc and A_last pool the seen data)."""
        correct = sum(int((model.predict(x, j) == y).sum()) for j, (x, y) in enumerate(tests))
        return correct / sum(len(y) for _, y in tests)

    @staticmethod
    def accuracies(model, tests, phase=None, batch: int = 1000, hits=None) -> list[float]:
        """Accuracy on each context's test set; `hits[j]` collects context j's per-item
        correctness when given."""
        out = []
        for j, (x, y) in enumerate(tests):
            correct = 0
            for start in range(0, len(x), batch):
                xb, yb = x[start : start + batch], y[start : start + batch]
                if phase is None:
                    ok = model.predict(xb, j) == yb
                else:
                    with phase.step(items=len(xb)):
                        ok = model.predict(xb, j) == yb
                correct += int(ok.sum())
                if hits is not None:
                    hits[j].append(ok.cpu())
            out.append(correct / len(x))
        return out

    def reference(self, stream: Stream, setting: Setting, ctx) -> list[float]:
        """Accuracy on context j of a joint learner after contexts 0..j (Chaudhry's a*_j)."""
        from benchbed_continual.methods.joint import Joint

        key = hashlib.sha256(
            json.dumps([self.name, protocol_record(setting)], sort_keys=True).encode()
        ).hexdigest()[:16]
        path = ctx.cache_dir / f"joint-reference-{key}.json"
        # Cells of one protocol and seed running side by side wait for the first to compute it.
        with ctx.exclusive(path.name):
            if path.exists():
                return json.loads(path.read_text())
            joint = Joint()
            joint.prepare(setting)
            reference = []
            for t in range(setting.n_contexts):
                joint.learn(stream.train(t))
                x, y = stream.test(t)
                reference.append(int((joint.predict(x, t) == y).sum()) / len(y))
            partial = path.with_suffix(".partial")  # then rename: a killed cell leaves no half file
            partial.write_text(json.dumps(reference))
            partial.replace(path)
        return reference


def _item_scores(hits) -> list[float]:
    """Final per-test-item correctness, item i of context j weighted N / (T * n_j), so that
    the mean is the average accuracy (the mean of per-context accuracies) and intervals and
    paired tests between models work on items, the same test items for every model."""
    import torch

    per_context = [torch.cat(h).double() for h in hits]
    n, t = sum(len(h) for h in per_context), len(per_context)
    return torch.cat([h * (n / (t * len(h))) for h in per_context]).tolist()


def _score(per_context) -> Score:
    return Score.mean_of(per_context, unit="context") if len(per_context) else Score(0.0)


# Protocol fields added after results were first stored, with their defaults.
LATER_FIELDS = {"optimizer": "adam", "memory_per_context": None}


def learner_report(model) -> dict:
    """The `learner` artifact, for learners that report what they did (the LEARNER kind)."""
    return {"learner": model.report()} if hasattr(model, "report") else {}


def protocol_record(setting: Setting) -> dict:
    """What of a setting defines the protocol: stored beside the results and hashed into cache
    keys."""
    skip = {"masks", "device", "strengths"}  # the strengths: methods' defaults, not training
    if setting.backbone == "mlp":
        # The MLP protocols leave the backbone fields out, so their cache keys stay as they were.
        skip |= {"backbone", "image_shape", "vit"}
    # Likewise fields added later, at their defaults.
    skip |= {name for name, default in LATER_FIELDS.items() if getattr(setting, name) == default}
    fields = {k: v for k, v in asdict(setting).items() if k not in skip}
    return fields | {"device": str(setting.device)}


def all_tasks() -> list[ContinualTask]:
    tasks = []
    for scenario, short in SCENARIO_NAMES.items():
        tasks.append(
            ContinualTask(
                f"continual/split-mnist/{short}",
                f"Split-MNIST, {scenario}-incremental: 5 contexts of 2 digits; Hsu et al. 2018 "
                "protocol (2x400 MLP, Adam 1e-3, batch 128, 4 epochs per context)",
                lambda ctx, s=scenario: split_stream(load_mnist, s, HSU, ctx),
            )
        )
        tasks.append(
            ContinualTask(
                f"continual/split-mnist-2000/{short}",
                f"Split-MNIST, {scenario}-incremental, van de Ven et al. protocol (2x400 MLP, "
                "Adam 1e-3, batch 128, 2000 iterations per context)",
                lambda ctx, s=scenario: split_stream(load_mnist, s, VAN_DE_VEN, ctx),
            )
        )
        tasks.append(
            ContinualTask(
                f"continual/split-digits/{short}",
                f"Split-Digits (sklearn 8x8 digits), {scenario}-incremental: 5 contexts of 2 "
                "digits, a 2x100 MLP, 100 iterations of 32 per context; for fast tests",
                lambda ctx, s=scenario: split_stream(load_digits, s, DIGITS, ctx),
            )
        )
    tasks.append(
        ContinualTask(
            "continual/split-mnist-online/class-il",
            "Online Split-MNIST, class-incremental: each context seen once in batches of 10, "
            "accuracy on the seen contexts every 100 steps (A_auc, A_last)",
            lambda ctx: split_stream(load_mnist, "class", ONLINE, ctx),
            every=100,
        )
    )
    tasks.append(
        ContinualTask(
            "continual/split-digits-online/class-il",
            "Online Split-Digits, class-incremental: one pass in batches of 10, accuracy on the "
            "seen contexts every 5 steps (A_auc, A_last); for fast tests",
            lambda ctx: split_stream(load_digits, "class", DIGITS_ONLINE, ctx),
            every=5,
        )
    )
    tasks.append(
        ContinualTask(
            "continual/split-fashion-mnist/class-il",
            "Split-Fashion-MNIST, class-incremental: 5 contexts of 2 classes; Hsu et al. protocol",
            lambda ctx: split_stream(load_fashion_mnist, "class", HSU, ctx),
        )
    )
    tasks.append(
        ContinualTask(
            "continual/permuted-mnist/domain-il",
            "Permuted-MNIST, 10 pixel permutations, domain-incremental; van de Ven et al. protocol "
            "(2x1000 MLP, Adam 1e-4, batch 128, 5000 iterations per context)",
            lambda ctx: permuted_stream(load_mnist, PERMUTED, ctx),
        )
    )
    tasks.append(
        ContinualTask(
            "continual/permuted-mnist-17/domain-il",
            "Permuted-MNIST, 17 pixel permutations, domain-incremental; A-GEM's protocol as "
            "Avalanche reproduces it (2x256 MLP, SGD 0.1, one pass in batches of 10, "
            "standardised pixels, A-GEM memory of 250 per context)",
            lambda ctx: permuted_stream(
                load_mnist, AGEM_PERMUTED, ctx, contexts=17, standardize=MNIST_MEAN_STD
            ),
        )
    )
    from benchbed_continual.fewshot_stream.tasks import fewshot_stream_tasks
    from benchbed_continual.hierarchy import hle_tasks
    from benchbed_continual.multilabel.task import multilabel_tasks
    from benchbed_continual.vit_tasks import vit_tasks

    return tasks + hle_tasks() + vit_tasks() + multilabel_tasks() + fewshot_stream_tasks()
