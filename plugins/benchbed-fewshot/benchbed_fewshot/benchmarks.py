"""The data behind the few-shot tasks: a feature matrix, class labels and the class split.

A benchmark is metadata plus `load(ctx) -> FeatureSet`; the episode protocol itself lives
in the task. Features are what the methods see: raw pixels (digits), MiniLM sentence
vectors (WordNet, fortunes), or a CNN backbone trained on the base classes (MNIST,
Fashion-MNIST, clip art; see `benchbed.cnn` in the core).
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
    # text benchmarks only: each item's id and raw text, and each class in plain words
    ids: list[str] | None = None
    texts: list[str] | None = None
    label_names: dict | None = None


@dataclass(frozen=True)
class Benchmark(ABC):
    name: str
    description: str
    episodes: int  # the protocol's number of test episodes
    splits: tuple[str, ...] = ("test", "validation")
    slow: bool = False  # needs a real asset beyond scikit-learn, or minutes of preparation
    n_query: int = 15  # queries per class in each episode
    shots: tuple[int, ...] = (1, 5)  # the K of the registered N-way K-shot tasks

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
    corpus_per_class: int = 1000  # held-out items per class in the retrieval corpus

    @abstractmethod
    def items(self) -> tuple[list[str], list[str], list[str]]:
        """(ids, texts, labels) of every item."""

    def label_name(self, name: str) -> str:
        """The class in plain words, for methods that show label names to a language model."""
        return name.replace("-", " ")

    def pool(self, ids: list[str], labels: list[str]) -> tuple[list[int], list[str]]:
        """Positions of the items episodes draw from, and the classes kept."""
        keep: list[int] = []
        by_class: dict[str, list[int]] = {}
        for i, label in enumerate(labels):
            by_class.setdefault(label, []).append(i)
        for members in by_class.values():
            keep += [members[j] for j in stable_subset([ids[i] for i in members], self.per_class)]
        keep.sort()
        names = [c for c, m in by_class.items() if len(m) >= 20]  # 5-shot 15-query needs 20
        keep = [i for i in keep if labels[i] in names]
        return keep, names

    def load(self, ctx) -> FeatureSet:
        from benchbed.encoders import DEFAULT_MODEL, encode

        ids, texts, labels = self.items()
        keep, names = self.pool(ids, labels)
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
        return FeatureSet(
            x,
            y,
            split,
            base_mean,
            info,
            ids=[ids[i] for i in keep],
            texts=[texts[i] for i in keep],
            label_names={c: self.label_name(c) for c in names},
        )

    def corpus(self, ctx, data: FeatureSet):
        """The labelled texts of the validation and novel classes that are not in the episode
        pool (see benchbed_fewshot.corpus), embedded like the pool."""
        from benchbed.encoders import DEFAULT_MODEL, encode
        from benchbed_fewshot.corpus import Corpus, corpus_items

        ids, texts, labels = self.items()
        classes = set(data.split.validation) | set(data.split.novel)
        keep = corpus_items(ids, texts, labels, set(data.ids), classes, self.corpus_per_class)
        dim = data.features.shape[1]
        x = encode([texts[i] for i in keep], DEFAULT_MODEL, device=ctx.device) if keep else None
        y = np.asarray([labels[i] for i in keep], dtype=object)
        info = {
            "items": len(keep),
            "per_class": {c: int((y == c).sum()) for c in sorted(classes)},
            "source": "items of the same classes outside the episode pool",
        }
        features = x if x is not None else np.zeros((0, dim), np.float32)
        return Corpus([ids[i] for i in keep], [texts[i] for i in keep], y, features, info)


class WordNetLexnames(TextBenchmark):
    """WordNet 3 glosses (definitions), classified by their lexicographer class (45)."""

    PLAIN = {
        "adj.all": "adjective",
        "adj.pert": "relational adjective",
        "adj.ppl": "participial adjective",
        "adv.all": "adverb",
        "noun.Tops": "top concept",
    }

    def label_name(self, name: str) -> str:
        pos, _, topic = name.partition(".")
        return self.PLAIN.get(name) or (topic if pos == "noun" else f"{topic} {pos}")

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

        from benchbed import cnn as backbone

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


class ClipArt(Benchmark):
    """Open Clip Art Library pictures (Debian `openclipart-png`), 32x32 RGB on white, one class
    per folder (see benchbed.data.clipart); folders with fewer than 20 pictures (a 5-shot 15-query way)
    are dropped, and the rest split 64/16/20 by `split_classes`.

    Features come from a CNN trained by cross-entropy on the base classes' pictures (cached
    per seed and device type). A fixed 10% of each base class (SHA-1 order of the file path)
    is held out of training to report the backbone's base-class accuracy. Episodes draw from
    the novel (test) or validation classes, all of whose pictures are unseen in training.
    """

    min_per_class = 20
    epochs = 20
    held_out = 0.1

    @classmethod
    def classes(cls, labels: np.ndarray) -> list[str]:
        """The folders with at least `min_per_class` pictures, sorted."""
        from benchbed.data.clipart import classes_with_at_least

        return classes_with_at_least(labels, cls.min_per_class)

    def load(self, ctx) -> FeatureSet:
        import torch

        from benchbed import cnn as backbone
        from benchbed.data.clipart import SIZE, VERSION, load_clipart

        pixels, labels, paths = load_clipart()
        names = self.classes(labels)
        keep = np.isin(labels, names)
        split = split_classes(names)
        shape = (3, SIZE, SIZE)
        device_type = ctx.device.split(":")[0]
        # the name changes with anything that changes the weights, so no stale cache is read
        name = f"clipart{SIZE}-v{VERSION}-e{self.epochs}-seed{ctx.seed}-{device_type}"
        stem = ctx.cache_dir / "backbones" / name
        features_path = stem.with_suffix(".npz")
        if not features_path.exists():
            x = pixels[keep].astype(np.float32) / 255.0
            y, ids = labels[keep], paths[keep]
            base_names = np.asarray(split.base)
            held = np.zeros(len(y), dtype=bool)
            for c in split.base:
                members = np.flatnonzero(y == c)
                held[
                    members[stable_subset(list(ids[members]), int(self.held_out * len(members)))]
                ] = True
            train = np.isin(y, base_names) & ~held
            with ctx.timer.phase("backbone-training", items=int(train.sum()) * self.epochs):
                net = backbone.train_backbone(
                    x[train],
                    np.searchsorted(base_names, y[train]),
                    len(base_names),
                    ctx.seed,
                    ctx.device,
                    ctx.progress,
                    shape=shape,
                    epochs=self.epochs,
                )
            stem.parent.mkdir(parents=True, exist_ok=True)
            torch.save(net.state_dict(), stem.with_suffix(".pt"))
            features = backbone.extract(net, x, ctx.device, shape=shape)
            predicted = backbone.classify(net, x[held], ctx.device, shape=shape)
            tmp = stem.with_suffix(".tmp.npz")
            np.savez(
                tmp,
                features=features,
                labels=y,
                base_mean=features[train].mean(0),
                base_held_out_accuracy=float(
                    (predicted == np.searchsorted(base_names, y[held])).mean()
                ),
            )
            tmp.replace(features_path)
        saved = np.load(features_path)
        info = {
            "features": f"CNN trained on base classes ({saved['features'].shape[1]})",
            "items": int(keep.sum()),
            "classes": len(names),
            "dropped_small_class_items": int((~keep).sum()),
            "base": len(split.base),
            "validation": len(split.validation),
            "novel": len(split.novel),
            "backbone_base_held_out_accuracy": float(saved["base_held_out_accuracy"]),
        }
        return FeatureSet(saved["features"], saved["labels"], split, saved["base_mean"], info)


BENCHMARKS: list[Benchmark] = [
    Digits(
        "digits", "sklearn digits, raw pixels, all 10 classes (protocol check)", 10_000, ("test",)
    ),
    Digits("digits-quick", "sklearn digits with 1,000 episodes, for fast checks", 1_000, ("test",)),
    WordNetLexnames(
        "wordnet", "WordNet glosses by lexicographer class, MiniLM features", 1_000, slow=True
    ),
    Fortunes("fortunes", "fortunes by category, MiniLM features", 1_000, slow=True),
    WordNetLexnames(
        "wordnet-lm",
        "WordNet glosses by lexicographer class, a small protocol for in-context LMs",
        50,
        slow=True,
        n_query=1,
        shots=(1,),
    ),
    Fortunes(
        "fortunes-lm",
        "fortunes by category, a small protocol for in-context LMs",
        50,
        slow=True,
        n_query=1,
        shots=(1,),
    ),
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
    ClipArt(
        "clipart",
        "Open Clip Art folders (20+ pictures), 32x32 RGB, CNN trained on the base classes",
        10_000,
        slow=True,
    ),
]
