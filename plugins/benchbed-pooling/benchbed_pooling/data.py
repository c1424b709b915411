"""Real evaluation and training data, all offline (see ASSETS.md).

- Human similarity judgements from gensim's test data (PyPI `gensim==4.3.3`, read from the
  installed package folder; gensim itself is never imported): the Lee 50-document corpus
  with its averaged pairwise judgements, SimLex-999 and WordSim-353.
- WordNet glosses (`wordnet-base`) and fortunes (`fortunes`) through `benchbed.data.text`.

Subsets are drawn with a fixed generator (`DATA_SEED`), not the cell's seed: every design and
every seed must be scored on the same items, or paired tests between designs mean nothing.
WordNet synsets are split once into an evaluation part (offset % 4 == 0) and a training part
(the rest), so a trained pooler never sees a gloss that an evaluation task asks about.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from benchbed.assets import package_file

DATA_SEED = 20240904  # fixed: the same items for every cell (see module docstring)
GENSIM = "pip install --no-deps gensim==4.3.3"
GENSIM_DATA = "test/test_data"


def gensim_file(name: str) -> Path:
    return package_file("gensim", f"{GENSIM_DATA}/{name}", GENSIM)


@dataclass(frozen=True)
class Pairs:
    """Text pairs with a human similarity score on [low, high]."""

    first: list[str]
    second: list[str]
    scores: list[float]
    low: float
    high: float


def lee_documents() -> list[str]:
    text = gensim_file("lee.cor").read_text(encoding="utf-8", errors="replace")
    docs = [line.strip() for line in text.splitlines() if line.strip()]
    if len(docs) != 50:
        raise ValueError(f"lee.cor should hold 50 documents, found {len(docs)}")
    return docs


def lee_pairs() -> Pairs:
    """The 1,225 document pairs of Lee et al. (2005), scored 0..1 (mean of human ratings).

    similarities0-1.txt holds the upper triangle of a 50x50 matrix (row i, column j > i).
    """
    docs = lee_documents()
    rows = [
        [float(v) for v in line.split()]
        for line in gensim_file("similarities0-1.txt").read_text().splitlines()
        if line.strip()
    ]
    first, second, scores = [], [], []
    for i in range(50):
        for j in range(i + 1, 50):
            first.append(docs[i])
            second.append(docs[j])
            scores.append(rows[i][j])
    return Pairs(first, second, scores, 0.0, 1.0)


def _word_pairs(name: str) -> Pairs:
    first, second, scores = [], [], []
    for line in gensim_file(name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        a, b, score = line.split("\t")[:3]
        first.append(a)
        second.append(b)
        scores.append(float(score))
    return Pairs(first, second, scores, 0.0, 10.0)


def simlex_pairs() -> Pairs:
    """SimLex-999 (Hill et al. 2015): 999 word pairs, genuine similarity on 0..10."""
    return _word_pairs("simlex999.txt")


def wordsim_pairs() -> Pairs:
    """WordSim-353 (Finkelstein et al. 2002): 353 word pairs, relatedness on 0..10."""
    return _word_pairs("wordsim353.tsv")


@lru_cache(maxsize=1)
def _glosses():
    from benchbed.data.text import wordnet_glosses

    return wordnet_glosses()


def eval_synset(gloss) -> bool:
    return int(gloss.offset) % 4 == 0


def wordnet_split(part: str):
    """Synsets of the evaluation part or the training part (see module docstring)."""
    want = part == "eval"
    return [g for g in _glosses() if eval_synset(g) == want]


def _per_class(
    items: list[tuple[str, str]], per_class: int, min_count: int
) -> list[tuple[str, str]]:
    by_label: dict[str, list[str]] = defaultdict(list)
    for label, text in items:
        by_label[label].append(text)
    rng = random.Random(DATA_SEED)
    out = []
    for label in sorted(by_label):
        texts = sorted(set(by_label[label]))
        if len(texts) < min_count:
            continue
        rng.shuffle(texts)
        out.extend((label, t) for t in texts[:per_class])
    return out


def labelled_texts(source: str, per_class: int) -> list[tuple[str, str]]:
    """(label, text): WordNet evaluation glosses by lexicographer class, or fortunes by file.

    Classes with fewer than `per_class` texts are left out so every class is fully present.
    """
    if source == "wordnet":
        items = [(g.lexname, g.definition) for g in wordnet_split("eval")]
    elif source == "fortunes":
        from benchbed.data.text import fortunes

        items = fortunes()
    else:
        raise ValueError(f"unknown text source {source!r}")
    return _per_class(items, per_class, per_class)


def split_train_test(items: list[tuple[str, str]], train_per_class: int):
    """The first `train_per_class` texts of every class train, the rest test."""
    seen: dict[str, int] = defaultdict(int)
    train, test = [], []
    for label, text in items:
        (train if seen[label] < train_per_class else test).append((label, text))
        seen[label] += 1
    return train, test


@dataclass(frozen=True)
class RetrievalData:
    queries: dict[str, str]  # query id -> gloss
    corpus: dict[str, str]  # doc id -> word
    relevant: dict[str, dict[str, int]]  # query id -> {doc id: 1}


def gloss_to_word(n_queries: int) -> RetrievalData:
    """Queries are evaluation glosses; the corpus is every lemma of the sampled synsets.

    A gloss is relevant to each word of its synset (the synonyms), so a query may have
    several relevant words and a word may answer several glosses (polysemy).
    """
    synsets = [g for g in wordnet_split("eval") if g.pos == "n"]
    rng = random.Random(DATA_SEED)
    chosen = rng.sample(synsets, n_queries)
    words = sorted({w for g in chosen for w in g.words})
    doc_id = {w: f"w{i}" for i, w in enumerate(words)}
    queries = {f"q{i}": g.definition for i, g in enumerate(chosen)}
    relevant = {f"q{i}": {doc_id[w]: 1 for w in g.words} for i, g in enumerate(chosen)}
    return RetrievalData(queries, {d: w for w, d in doc_id.items()}, relevant)


@dataclass(frozen=True)
class Triplet:
    anchor: str  # a usage example of a word sense
    positive: str  # the gloss of that sense
    negative: str  # the gloss of another sense of the same word (a hard negative)


def training_triplets(limit: int | None = None, seed: int = DATA_SEED) -> list[Triplet]:
    """Contrastive training data from the WordNet training part.

    Anchor: a usage example; positive: its synset's gloss; hard negative: the gloss of
    another synset that shares a word with it, i.e. a different sense of the same word,
    which no bag of surface words separates. Synsets without such a sibling are skipped.
    """
    train = [g for g in wordnet_split("train")]
    by_word: dict[str, list] = defaultdict(list)
    for g in train:
        for w in g.words:
            by_word[w.lower()].append(g)
    rng = random.Random(seed)
    out = []
    for g in train:
        if not g.examples:
            continue
        siblings = {s.id: s for w in g.words for s in by_word[w.lower()] if s.id != g.id}
        if not siblings:
            continue
        negative = siblings[rng.choice(sorted(siblings))]
        out.append(Triplet(rng.choice(g.examples), g.definition, negative.definition))
    rng.shuffle(out)
    return out[:limit] if limit else out
