"""Nearest centroid: ProtoNet's inference rule (Snell et al., 2017) and SimpleShot (Wang et al., 2019).

Each query goes to the class whose support mean is nearest in Euclidean distance. ProtoNet
uses the raw features (UN); SimpleShot's contribution is the transform applied first: L2N
or CL2N (subtract the base-class mean, then L2-normalise).
"""

from __future__ import annotations

from benchbed_fewshot.methods.common import check_transform, prototypes, sq_distances, transform


class NearestCentroid:
    def __init__(self, transform: str = "UN"):
        self.transform = check_transform(transform)

    def predict(self, batch):
        support, query = transform(batch, self.transform)
        centres = prototypes(support, batch.support_labels, batch.n_way)
        return sq_distances(query, centres).argmin(-1)
