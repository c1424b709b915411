"""DAIL-SQL's example selection (Gao et al. 2023, "Text-to-SQL Empowered by Large Language
Models: A Benchmark Evaluation", Sec. 4.2 "DAIL Selection").

Candidates are ranked by the similarity of their masked question to the target's masked
question; the preliminary (draft) query predicted for the target is reduced to its skeleton,
and a candidate qualifies when the Jaccard similarity of its gold query's skeleton to the
draft's skeleton reaches the threshold tau (0.85 in their code). The k demonstrations are the
first qualifying candidates in question-similarity order; when fewer than k qualify, the rest
are the most question-similar of the others (as `get_examples` of their
`EuclideanDistanceQuestionMaskPreSkeletonSimilarThresholdSelector` does).
"""

from __future__ import annotations

from collections.abc import Sequence

THRESHOLD = 0.85


def select(
    question_scores: Sequence[float],
    query_similarities: Sequence[float],
    k: int,
    threshold: float = THRESHOLD,
) -> list[int]:
    """Indices of the k demonstrations: the qualifying ones, then (if fewer than k qualify) the
    others, each group in question-similarity order.

    `question_scores[i]`: similarity of candidate i's masked question to the target's (higher is
    closer; ties keep the candidates' order); `query_similarities[i]`: skeleton similarity of
    its query to the draft's.
    """
    if len(question_scores) != len(query_similarities):
        raise ValueError(
            f"{len(question_scores)} question scores but {len(query_similarities)} query similarities"
        )
    order = sorted(range(len(question_scores)), key=lambda i: -question_scores[i])
    chosen = [i for i in order if query_similarities[i] >= threshold][:k]
    if len(chosen) < k:
        chosen += [i for i in order if query_similarities[i] < threshold][: k - len(chosen)]
    return chosen
