"""Inference cost of MULTI-LANE with and without patch-token summarisation, beside one pass
of the frozen ViT, on the Fashion mosaic protocol's network with its 5 pathways:

    OMP_NUM_THREADS=1 python -m benchbed_continual.multilabel.inference_cost

Prints, per image, the tokens and attention scores (`MultiLane.cost`) and the wall time of
scoring 2,000 random 28x28 images in batches of 500, on one thread, the three measured in
turn `repeats` times in one process (timings do not depend on the weights, so the pathways
are built untrained and the ViT is randomly initialised).
"""

from __future__ import annotations

import time

import torch

from benchbed_continual.multilabel.backbone import vit_config
from benchbed_continual.multilabel.methods.multilane import MultiLane
from benchbed_continual.multilabel.task import FASHION, MultilabelExperience, MultilabelSetting
from benchbed_continual.vit import ViT


def multilane_with_pathways(summarise: bool, setting: MultilabelSetting) -> MultiLane:
    """A MultiLane learner with one (untrained) pathway per task of `setting`."""
    model = MultiLane(summarise=summarise, iters=0)
    model.prepare(setting)
    x = torch.zeros(1, 784)
    for t, labels in enumerate(setting.task_labels):
        model.learn(MultilabelExperience(t, x, torch.zeros(1, setting.n_labels), labels))
    return model


def measure(n_images: int = 2000, batch: int = 500, repeats: int = 3) -> dict:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    config = vit_config(FASHION)
    setting = MultilabelSetting(
        10, FASHION.tasks, config, ViT(config, 10).state_dict(), iters=0, batch_size=1
    )
    models = {f"summarise={s}": multilane_with_pathways(s, setting) for s in (True, False)}
    vit = models["summarise=True"].backbone
    runs = {
        "frozen ViT, one pass": lambda b: vit(b),
        **{name: model.scores for name, model in models.items()},
    }
    x = torch.rand(n_images, 784)
    times = {name: [] for name in runs}
    with torch.no_grad():
        for _ in range(repeats):
            for name, run in runs.items():
                start = time.perf_counter()
                for b in x.split(batch):
                    run(b)
                times[name].append((time.perf_counter() - start) / n_images * 1000)
    out = {}
    for name, t in times.items():
        cost = models[name].cost() if name in models else {}
        out[name] = {"ms_per_image_median": round(sorted(t)[len(t) // 2], 3), **cost}
    return out


if __name__ == "__main__":
    for name, row in measure().items():
        print(name, row)
