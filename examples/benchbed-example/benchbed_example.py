"""A complete benchbed plugin: one task, one model, one metric."""

import benchbed
from benchbed import LOWER, Kind, Metric, ModelSpec, Result, Score, Task

CLASSIFIER = Kind("tabular-classifier", "fit(X, y) then predict(X)", methods=("fit", "predict"))


class DigitsHoldout(Task):
    name = "example/digits"
    kind = CLASSIFIER
    description = "sklearn's 8x8 digits, a stratified 75/25 split drawn from the seed"
    metrics = ("error_rate",)

    def evaluate(self, model, ctx):
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        x, y = load_digits(return_X_y=True)
        x_train, x_test, y_train, y_test = train_test_split(
            x, y, test_size=0.25, stratify=y, random_state=ctx.seed
        )
        with ctx.timer.phase("train", items=len(x_train)):
            model.fit(x_train, y_train)
        with ctx.timer.phase("inference", items=len(x_test)) as phase:
            with phase.step(items=len(x_test)):
                wrong = model.predict(x_test) != y_test
        return Result({"error_rate": Score.mean_of(wrong.astype(float))})


def nearest_centroid(shrink_threshold=None):
    from sklearn.neighbors import NearestCentroid

    return NearestCentroid(shrink_threshold=shrink_threshold)


@benchbed.hookimpl
def benchbed_tasks():
    return [DigitsHoldout()]


@benchbed.hookimpl
def benchbed_models():
    return [
        ModelSpec(
            "nearest-centroid",
            kinds=("tabular-classifier",),
            factory=nearest_centroid,
            description="each class is the mean of its training points",
            defaults={"shrink_threshold": None},
        )
    ]


@benchbed.hookimpl
def benchbed_metrics():
    return [Metric("error_rate", LOWER, "fraction of test items misclassified")]
