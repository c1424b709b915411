"""Local mteb tasks on real offline data: metadata plus `load_data()`, no logic of their own.

mteb 2.x insists on a `dataset` path and revision even when `load_data` is overridden; the
`local/...` paths below are never fetched.
"""

from __future__ import annotations

from functools import cache

from benchbed_pooling import data

SPECS = {
    # name: (type, main score, description, builder args)
    "LeeSTS": ("STS", "cosine_spearman", "Lee et al. (2005): 1,225 pairs of 50 news documents, averaged human similarity 0..1", ("lee",)),
    "SimLex999STS": ("STS", "cosine_spearman", "SimLex-999 (Hill et al. 2015): word pairs, genuine similarity 0..10", ("simlex",)),
    "WordSim353STS": ("STS", "cosine_spearman", "WordSim-353 (Finkelstein et al. 2002): word pairs, relatedness 0..10", ("wordsim",)),
    "WordNetLexnameClassification": ("Classification", "accuracy", "WordNet glosses -> lexicographer class (40 classes, 32 train + 20 test each)", ("wordnet", 52, 32)),
    "FortunesClassification": ("Classification", "accuracy", "fortunes -> category file (39 categories, 16 train + 16 test each)", ("fortunes", 32, 16)),
    "WordNetLexnameClustering": ("Clustering", "v_measure", "WordNet glosses clustered by lexicographer class (40 classes x 25)", ("wordnet", 25)),
    "FortunesClustering": ("Clustering", "v_measure", "fortunes clustered by category file (39 categories x 25)", ("fortunes", 25)),
    "WordNetGlossToWordRetrieval": ("Retrieval", "ndcg_at_10", "WordNet noun gloss -> its words among all words of 1,000 sampled synsets", (1000,)),
}  # fmt: skip


def _metadata(name: str):
    from mteb.abstasks.task_metadata import TaskMetadata

    kind, main_score, description, _ = SPECS[name]
    return TaskMetadata(
        name=name,
        dataset={"path": f"local/{name}", "revision": "offline"},
        description=description,
        reference="https://github.com/benchbed",
        type=kind,
        category="t2t",
        modalities=["text"],
        eval_splits=["test"],
        eval_langs=["eng-Latn"],
        main_score=main_score,
        date=("2000-01-01", "2024-12-31"),
        domains=["Written"],
        task_subtypes=[],
        license="not specified",
        annotations_creators="human-annotated",
        dialect=[],
        sample_creation="found",
        bibtex_citation="",
    )


@cache
def task_class(name: str):
    """The mteb task class for `name` (built lazily: importing mteb takes seconds)."""
    from datasets import Dataset, DatasetDict
    from mteb.abstasks.classification import AbsTaskClassification
    from mteb.abstasks.clustering import AbsTaskClustering
    from mteb.abstasks.retrieval import AbsTaskRetrieval
    from mteb.abstasks.sts import AbsTaskSTS

    kind, _, _, args = SPECS[name]
    metadata = _metadata(name)

    if kind == "STS":
        pairs = {"lee": data.lee_pairs, "simlex": data.simlex_pairs, "wordsim": data.wordsim_pairs}[
            args[0]
        ]

        class Task(AbsTaskSTS):
            def load_data(self, **kwargs):
                p = pairs()
                self.min_score, self.max_score = p.low, p.high
                self.dataset = DatasetDict(
                    {
                        "test": Dataset.from_dict(
                            {"sentence1": p.first, "sentence2": p.second, "score": p.scores}
                        )
                    }
                )
                self.data_loaded = True

    elif kind == "Classification":
        source, per_class, train_per_class = args

        class Task(AbsTaskClassification):
            samples_per_label = 16

            def load_data(self, **kwargs):
                items = data.labelled_texts(source, per_class)
                labels = {label: i for i, label in enumerate(sorted({lab for lab, _ in items}))}
                train, test = data.split_train_test(items, train_per_class)

                def ds(rows):
                    return Dataset.from_dict(
                        {"text": [t for _, t in rows], "label": [labels[lab] for lab, _ in rows]}
                    )

                self.dataset = DatasetDict({"train": ds(train), "test": ds(test)})
                self.data_loaded = True

    elif kind == "Clustering":
        source, per_class = args

        class Task(AbsTaskClustering):
            max_fraction_of_documents_to_embed = None

            def load_data(self, **kwargs):
                items = data.labelled_texts(source, per_class)
                self.dataset = DatasetDict(
                    {
                        "test": Dataset.from_dict(
                            {
                                "sentences": [t for _, t in items],
                                "labels": [lab for lab, _ in items],
                            }
                        )
                    }
                )
                self.data_loaded = True

    else:
        (n_queries,) = args

        class Task(AbsTaskRetrieval):
            def load_data(self, **kwargs):
                r = data.gloss_to_word(n_queries)
                corpus = Dataset.from_dict({"id": list(r.corpus), "text": list(r.corpus.values())})
                queries = Dataset.from_dict(
                    {"id": list(r.queries), "text": list(r.queries.values())}
                )
                self.dataset = {"default": {"test": {
                    "corpus": corpus, "queries": queries, "relevant_docs": r.relevant, "top_ranked": None,
                }}}  # fmt: skip
                self.data_loaded = True

    Task.metadata = metadata
    Task.__name__ = Task.__qualname__ = name
    return Task
