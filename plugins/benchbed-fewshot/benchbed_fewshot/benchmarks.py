"""The data behind the few-shot tasks: a feature matrix, class labels and the class split.

A benchmark is metadata plus `load(ctx) -> FeatureSet`; the episode protocol itself lives
in the task. Features are what the methods see: raw pixels (digits), MiniLM sentence
vectors (WordNet, fortunes), or a CNN backbone trained on the base classes (MNIST,
Fashion-MNIST; see backbone.py).
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from benchbed_fewshot.episodes import ClassSplit, split_classes


@dataclass
class FeatureSet:
    features: np.ndarray  # (items, D) float32
    labels: np.ndarray  # (items,) class names
    split: ClassSplit
    base_mean: np.ndarray  # (D,) SimpleShot's centre for CL2N
    info: dict = field(default_factory=dict)  # what the leaderboard shows about the features


@dataclass(frozen=True)
class Benchmark(ABC):
    name: str
    description: str
    episodes: int  # the protocol's number of test episodes
    splits: tuple[str, ...] = ("test", "validation")
    slow: bool = False  # needs a real asset beyond scikit-learn, or minutes of preparation

    @abstractmethod
    def load(self, ctx) -> FeatureSet:
        """The features, labels and class split the episodes are drawn from."""


def stable_subset(ids: list[str], limit: int) -> list[int]:
    """Positions of at most `limit` of `ids`, the same ones on every machine (SHA-1 order)."""
    order = sorted(range(len(ids)), key=lambda i: hashlib.sha1(ids[i].encode()).hexdigest())
    return sorted(order[:limit])


class Digits(Benchmark):
    """scikit-learn's 1,797 8x8 digits as raw 64-d pixels.

    Ten classes cannot give disjoint base / validation / novel sets that each hold 5 ways,
    so every episode draws 5 of all 10 digits (the issue's correctness protocol) and the
    CL2N centre is the mean of the whole set: a protocol check, not a novel-class benchmark.
    """

    def load(self, ctx) -> FeatureSet:
        from sklearn.datasets import load_digits

        x, y = load_digits(return_X_y=True)
        x = x.astype(np.float32)
        split = ClassSplit(base=(), validation=(), novel=tuple(range(10)))
        return FeatureSet(x, y, split, x.mean(0), {"features": "raw pixels (64)", "items": len(x)})


class TextBenchmark(Benchmark):
    """Labelled texts embedded by all-MiniLM-L6-v2; classes split 64/16/20 by name."""

    per_class: int = 300  # items kept per class (a fixed subset) to bound encoding time

    @abstractmethod
    def items(self) -> tuple[list[str], list[str], list[str]]:
        """(ids, texts, labels) of every item."""

    def load(self, ctx) -> FeatureSet:
        from benchbed.encoders import DEFAULT_MODEL, encode

        ids, texts, labels = self.items()
        keep: list[int] = []
        by_class: dict[str, list[int]] = {}
        for i, label in enumerate(labels):
            by_class.setdefault(label, []).append(i)
        for members in by_class.values():
            keep += [members[j] for j in stable_subset([ids[i] for i in members], self.per_class)]
        keep.sort()
        names = [c for c, m in by_class.items() if len(m) >= 20]  # 5-shot 15-query needs 20
        keep = [i for i in keep if labels[i] in names]
        y = np.asarray([labels[i] for i in keep], dtype=object)
        x = encode([texts[i] for i in keep], DEFAULT_MODEL, device=ctx.device)
        split = split_classes(sorted(names))
        base_mean = x[np.isin(y, split.base)].mean(0)
        info = {
            "features": f"{DEFAULT_MODEL} ({x.shape[1]})",
            "items": len(y),
            "classes": len(names),
            "base": len(split.base),
            "validation": len(split.validation),
            "novel": len(split.novel),
        }
        return FeatureSet(x, y, split, base_mean, info)


class WordNetLexnames(TextBenchmark):
    """WordNet 3 glosses (definitions), classified by their lexicographer class (45)."""

    def items(self):
        from benchbed.data.text import wordnet_glosses

        glosses = wordnet_glosses()
        return (
            [g.id for g in glosses],
            [g.definition for g in glosses],
            [g.lexname for g in glosses],
        )


class Fortunes(TextBenchmark):
    """Texts of the fortunes package, classified by category file (40 with at least 20 texts)."""

    def items(self):
        from benchbed.data.text import fortunes

        pairs = fortunes()
        ids = [f"{c}:{hashlib.sha1(t.encode()).hexdigest()}:{i}" for i, (c, t) in enumerate(pairs)]
        return ids, [t for _, t in pairs], [c for c, _ in pairs]


class ImageNovelClasses(Benchmark):
    """28x28 images, classes 0-4 base and 5-9 novel, features from a CNN trained by
    cross-entropy on the base classes' training images (cached per seed and device type).

    Episodes draw from the novel classes' test images. Ten classes leave none for validation:
    5-way episodes use all five novel classes, and hyper-parameters are not tuned here.
    """

    dataset = ""
    base_classes = (0, 1, 2, 3, 4)
    novel_classes = (5, 6, 7, 8, 9)

    def images(self, split: str):
        from benchbed.data import images

        return (
            images.load_mnist(split)
            if self.dataset == "mnist"
            else images.load_fashion_mnist(split)
        )

    def load(self, ctx) -> FeatureSet:
        import torch

        from benchbed_fewshot import backbone

        device_type = ctx.device.split(":")[0]
        stem = ctx.cache_dir / "backbones" / f"{self.dataset}-seed{ctx.seed}-{device_type}-v1"
        features_path = stem.with_suffix(".npz")
        if not features_path.exists():
            x_train, y_train = self.images("train")
            x_test, y_test = self.images("test")
            base = np.isin(y_train, self.base_classes)
            remap = np.searchsorted(self.base_classes, y_train[base])
            with ctx.timer.phase("backbone-training", items=int(base.sum()) * backbone.EPOCHS):
                net = backbone.train_backbone(
                    x_train[base], remap, len(self.base_classes), ctx.seed, ctx.device, ctx.progress
                )
            stem.parent.mkdir(parents=True, exist_ok=True)
            torch.save(net.state_dict(), stem.with_suffix(".pt"))
            base_features = backbone.extract(net, x_train[base], ctx.device)
            test_base = np.isin(y_test, self.base_classes)
            with torch.inference_mode():
                logits = net(
                    torch.as_tensor(x_test[test_base], device=ctx.device).view(-1, 1, 28, 28)
                )
            base_acc = float(
                (
                    logits.argmax(1).cpu().numpy()
                    == np.searchsorted(self.base_classes, y_test[test_base])
                ).mean()
            )
            novel = np.isin(y_test, self.novel_classes)
            tmp = stem.with_suffix(".tmp.npz")
            np.savez(
                tmp,
                features=backbone.extract(net, x_test[novel], ctx.device),
                labels=y_test[novel],
                base_mean=base_features.mean(0),
                base_test_accuracy=base_acc,
            )
            tmp.replace(features_path)
        saved = np.load(features_path)
        split = ClassSplit(base=self.base_classes, validation=(), novel=self.novel_classes)
        info = {
            "features": f"CNN trained on base classes ({saved['features'].shape[1]})",
            "items": int(len(saved["labels"])),
            "backbone_base_test_accuracy": float(saved["base_test_accuracy"]),
        }
        return FeatureSet(saved["features"], saved["labels"], split, saved["base_mean"], info)


class MNIST(ImageNovelClasses):
    dataset = "mnist"


class FashionMNIST(ImageNovelClasses):
    dataset = "fashion-mnist"


BENCHMARKS: list[Benchmark] = [
    Digits(
        "digits", "sklearn digits, raw pixels, all 10 classes (protocol check)", 10_000, ("test",)
    ),
    Digits("digits-quick", "sklearn digits with 1,000 episodes, for fast checks", 1_000, ("test",)),
    WordNetLexnames(
        "wordnet", "WordNet glosses by lexicographer class, MiniLM features", 1_000, slow=True
    ),
    Fortunes("fortunes", "fortunes by category, MiniLM features", 1_000, slow=True),
    MNIST(
        "mnist", "MNIST novel digits 5-9, CNN trained on digits 0-4", 10_000, ("test",), slow=True
    ),
    FashionMNIST(
        "fashion-mnist",
        "Fashion-MNIST novel classes 5-9, CNN trained on 0-4",
        10_000,
        ("test",),
        slow=True,
    ),
]
