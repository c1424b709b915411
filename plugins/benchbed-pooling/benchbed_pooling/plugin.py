"""The benchbed-pooling plugin: tasks, designs, metrics and suites.

Importing this module is cheap: no torch, transformers or mteb until a cell runs.
"""

from __future__ import annotations

import os
from pathlib import Path

import benchbed
from benchbed import HIGHER, Metric, ModelSpec

EMBEDDER = ("text-embedder",)
COMMON = {
    "backbone": "minilm",
    "layer": -1,
    "attention": "default",
    "batch_size": 32,
    "max_length": 256,
}
# contrastive training: of a trainable pooler, of the backbone's LoRA weights, or of both
TRAINING = {"train_pairs": 2000, "epochs": 2, "lr": 2e-4}
POOLER = {"latents": 32, "heads": 8, "base": "auto"}
# lora_rank 0: the backbone is frozen; > 0: LoRA on its query/value projections (lora.py)
LORA = {"lora_rank": 0, "lora_alpha": 16.0, "lora_batch": 32}
BACKBONES = ("choice", ["minilm", "smollm2-135m", "qwen2.5-0.5b"])


def _pooling(design: str):
    def build(**params):
        from benchbed_pooling.encoder import PoolingModel

        return PoolingModel(pooling=design, **params)

    build.__name__ = f"build_{design.replace('-', '_')}"
    return build


def _reference(**params):
    from benchbed_pooling.reference import SentenceTransformerReference

    return SentenceTransformerReference(**params)


DESIGNS = {
    "mean": "masked mean of the chosen layer's token states (Sentence-BERT)",
    "cls": "the first token's state ([CLS] for BERT encoders)",
    "last": "the last non-padding token's state (EOS-last pooling for decoders: an EOS is appended)",
    "max": "element-wise max over the non-padding tokens",
    "weighted-mean": "position-weighted mean, weight proportional to position (SGPT)",
    "trainable-last": "last-layer trainable pooling: latent cross-attention + MLP + mean (NV-Embed; Tang & Yang 2024), trained with InfoNCE on WordNet, backbone frozen or LoRA-adapted (lora_rank)",
    "trainable-multi": "multi-layers trainable pooling: every layer's pooled state + layer-position embedding through latent cross-attention (Tang & Yang 2024), trained with InfoNCE on WordNet, backbone frozen or LoRA-adapted (lora_rank)",
}


def models() -> list[ModelSpec]:
    out = []
    for design, description in DESIGNS.items():
        defaults = {
            **COMMON,
            **TRAINING,
            **LORA,
            **(POOLER if design.startswith("trainable") else {}),
        }
        space = {"backbone": BACKBONES, "attention": ("choice", ["causal", "bidirectional"])}
        if not design.startswith("trainable"):
            space["layer"] = ("int", 0, 6)
        out.append(
            ModelSpec(f"pool-{design}", EMBEDDER, _pooling(design), description, defaults, space)
        )
    out.append(ModelSpec(
        "st-reference", EMBEDDER, _reference,
        "sentence-transformers' own model passed to mteb unchanged (the equivalence reference)",
        {"backbone": "minilm", "batch_size": 32},
    ))  # fmt: skip
    return out


@benchbed.hookimpl
def benchbed_tasks():
    from benchbed_pooling.tasks import all_tasks, hub_tasks

    return all_tasks() + hub_tasks(os.environ.get("BENCHBED_POOLING_MTEB_TASKS", ""))


@benchbed.hookimpl
def benchbed_models():
    return models()


@benchbed.hookimpl
def benchbed_metrics():
    return [
        Metric("cosine_spearman", HIGHER, "mteb STS main score: Spearman correlation of cosine similarities with human scores"),
        Metric("cosine_pearson", HIGHER, "mteb STS: Pearson correlation of cosine similarities with human scores"),
        Metric("mteb_accuracy", HIGHER, "mteb classification main score: logistic-regression accuracy on the embeddings, mean over experiments"),
        Metric("mteb_f1", HIGHER, "mteb classification: macro F1, mean over experiments"),
        Metric("v_measure", HIGHER, "mteb clustering main score: V-measure of mini-batch k-means, mean over bootstraps"),
        Metric("ndcg_at_10", HIGHER, "mteb retrieval main score: nDCG@10"),
        Metric("mrr_at_10", HIGHER, "mteb retrieval: MRR@10"),
        Metric("recall_at_10", HIGHER, "mteb retrieval: recall@10"),
        Metric("mteb_main_score", HIGHER, "the main score of an mteb hub task (its metadata names it)"),
        Metric("speedup_vs_st", HIGHER, "encoding throughput of the pooling wrapper / sentence-transformers' encode, same batch size, same run"),
        Metric("one_pass_saving", HIGHER, "fraction of encoding time saved by pooling every design from one pass instead of one pass per design"),
    ]  # fmt: skip


@benchbed.hookimpl
def benchbed_suites():
    return sorted((Path(__file__).parent / "suites").glob("*.toml"))
