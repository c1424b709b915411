"""Trainable poolers as Tang & Yang (2024) define them, on a frozen or LoRA-adapted backbone.

- Last-layer trainable pooling (NV-Embed's latent attention, Lee et al. 2024): the last
  layer's token states are the queries of a cross-attention whose keys and values are a
  trainable latent array; an MLP follows (both blocks residual, pre-norm, as in NV-Embed's
  code), then a masked mean over tokens.
- Multi-layers trainable pooling: the pooled state of every layer (EOS-last for decoders,
  mean for encoders) plus a trainable layer-position embedding forms an (L, d) sequence that
  goes through the same cross-attention + MLP block, then a mean over layers.

Both are trained with InfoNCE (temperature 0.05) whose candidates are the batch's positives
(in-batch negatives) and one hard negative per anchor. With a frozen backbone its features
are computed once per text (`train_pooler`); with LoRA (`lora.py`) the backbone runs in every
step and its LoRA weights train jointly with the pooler, if any (`train_end_to_end`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from benchbed_pooling.pooling import pool

TRAINABLE = ("trainable-last", "trainable-multi")


class LatentAttentionBlock(nn.Module):
    """Queries (the input sequence) attend to r trainable latents; then a GELU MLP."""

    def __init__(self, dim: int, latents: int = 32, heads: int = 8, mlp_ratio: int = 2):
        super().__init__()
        self.latents = nn.Parameter(torch.randn(latents, dim) * dim**-0.5)
        self.norm_q = nn.LayerNorm(dim)
        self.norm_kv = nn.LayerNorm(dim)
        self.attention = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm_mlp = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, mlp_ratio * dim), nn.GELU(), nn.Linear(mlp_ratio * dim, dim)
        )
        # zero-initialised residual branches: before training the block is the identity, so
        # an untrained pooler is exactly mean pooling and training can only move away from it
        # as far as the contrastive signal asks (a small frozen-backbone set overfits otherwise)
        for layer in (self.attention.out_proj, self.mlp[2]):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x):  # (B, T, d) -> (B, T, d)
        kv = self.norm_kv(self.latents).expand(x.shape[0], -1, -1)
        x = x + self.attention(self.norm_q(x), kv, kv, need_weights=False)[0]
        return x + self.mlp(self.norm_mlp(x))


class LastLayerPooler(nn.Module):
    def __init__(self, dim: int, num_layers: int, latents: int = 32, heads: int = 8):
        super().__init__()
        self.block = LatentAttentionBlock(dim, latents, heads)

    def features(self, states, mask, base: str):
        """What the pooler reads from one backbone pass: the last layer's token states."""
        return states[-1], mask

    def forward(self, hidden, mask):
        return pool("mean", self.block(hidden), mask)


class MultiLayerPooler(nn.Module):
    def __init__(self, dim: int, num_layers: int, latents: int = 32, heads: int = 8):
        super().__init__()
        self.layer_embedding = nn.Parameter(torch.zeros(num_layers, dim))
        self.block = LatentAttentionBlock(dim, latents, heads)

    def features(self, states, mask, base: str):
        """Every layer's pooled state, (B, L, d), and an all-ones (B, L) mask."""
        stacked = torch.stack([pool(base, h, mask) for h in states], dim=1)
        return stacked, torch.ones(stacked.shape[:2], dtype=mask.dtype, device=mask.device)

    def forward(self, layers, mask):
        return pool("mean", self.block(layers + self.layer_embedding), mask)


def make_pooler(design: str, dim: int, num_layers: int, latents: int, heads: int) -> nn.Module:
    cls = {"trainable-last": LastLayerPooler, "trainable-multi": MultiLayerPooler}[design]
    return cls(dim, num_layers, latents, heads)


def _pad(items: list, device):
    """Variable-length (T_i, d) features -> (B, T, d) and a (B, T) mask."""
    lengths = [t.shape[0] for t in items]
    out = torch.zeros(len(items), max(lengths), items[0].shape[-1], device=device)
    mask = torch.zeros(len(items), max(lengths), dtype=torch.long, device=device)
    for i, t in enumerate(items):
        out[i, : t.shape[0]] = t.to(device)
        mask[i, : t.shape[0]] = 1
    return out, mask


def extract_features(encoder, pooler: nn.Module, texts: list[str], base: str) -> list:
    """Per text, the (T, d) tensor the pooler reads (token states or per-layer pools)."""
    out: list = [None] * len(texts)
    for idx, states, mask in encoder.passes(texts):
        feats, fmask = pooler.features(states, mask, base)
        for row, i in enumerate(idx):
            out[i] = feats[row, fmask[row].bool()].float().cpu().clone()
    return out


def info_nce(anchor, positive, negative, temperature: float = 0.05):
    """Anchor i must pick positive i among all positives and hard negatives of the batch."""
    a = F.normalize(anchor, dim=-1)
    candidates = F.normalize(torch.cat([positive, negative]), dim=-1)
    logits = a @ candidates.T / temperature
    return F.cross_entropy(logits, torch.arange(len(a), device=a.device))


def _train_contrastive(batch_loss, parameters, triplets, *, seed: int, epochs: int,
                       batch_size: int, lr: float, log=None, what: str) -> list[float]:  # fmt: skip
    """The loop both trainers share: seeded batches of triplets, AdamW on `parameters`,
    `batch_loss(batch)` (an InfoNCE value) minimised; returns the loss of every epoch."""
    generator = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(parameters, lr=lr, weight_decay=0.01)
    losses = []
    for epoch in range(epochs):
        order = torch.randperm(len(triplets), generator=generator).tolist()
        total, count = 0.0, 0
        for start in range(0, len(order) - 1, batch_size):
            batch = [triplets[i] for i in order[start : start + batch_size]]
            if len(batch) < 2:
                continue
            loss = batch_loss(batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(batch)
            count += len(batch)
            if log:
                log.debug("%s step %d: InfoNCE %.4f", what, start // batch_size, loss.item())
        losses.append(total / max(count, 1))
        if log:
            log.info("%s epoch %d: InfoNCE %.4f", what, epoch, losses[-1])
    return losses


def train_pooler(pooler, features: dict, triplets, *, seed: int, epochs: int, batch_size: int,
                 lr: float, device: str, log=None) -> list[float]:  # fmt: skip
    """Train `pooler` in place on precomputed features; returns the loss of every epoch."""

    def batch_loss(batch):
        return info_nce(*[pooler(*_pad([features[getattr(t, part)] for t in batch], device))
                          for part in ("anchor", "positive", "negative")])  # fmt: skip

    pooler.to(device).train()
    losses = _train_contrastive(batch_loss, pooler.parameters(), triplets, seed=seed,
                                epochs=epochs, batch_size=batch_size, lr=lr, log=log,
                                what="pooler")  # fmt: skip
    pooler.eval()
    return losses


def train_end_to_end(embed, parameters: list, triplets, *, seed: int, epochs: int,
                     batch_size: int, lr: float, log=None) -> list[float]:  # fmt: skip
    """InfoNCE as `train_pooler`, but every step runs the backbone: `embed(texts)` returns
    (n, d) embeddings with gradients (a LoRA-adapted backbone, then the pooling). Anchors,
    positives and hard negatives of a batch go through one forward pass."""

    def batch_loss(batch):
        texts = [getattr(t, part) for part in ("anchor", "positive", "negative") for t in batch]
        return info_nce(*embed(texts).split(len(batch)))

    return _train_contrastive(batch_loss, parameters, triplets, seed=seed, epochs=epochs,
                              batch_size=batch_size, lr=lr, log=log, what="LoRA")  # fmt: skip


def pairs_accuracy(pooler, features: dict, triplets, device: str, batch_size: int = 64) -> float:
    """`encoder_accuracy` of a trainable pooler on precomputed features."""

    def encode(texts):
        return pooler(*_pad([features[t] for t in texts], device)).cpu()

    with torch.no_grad():
        return encoder_accuracy(encode, triplets, batch_size)


def cache_path(root: Path, config: dict) -> Path:
    key = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:20]
    return root / "poolers" / f"{config['design']}-{key}.pt"


def encoder_accuracy(encode, triplets, batch_size: int = 64) -> float:
    """Held-out check: how often the anchor is closer to its gloss than to all other
    candidates of its batch (positives and hard negatives), the quantity InfoNCE trains.
    `encode(texts) -> (n, d)` is any embedding model (e.g. a LoRA-adapted backbone with its
    pooling)."""
    correct = total = 0
    for start in range(0, len(triplets), batch_size):
        batch = triplets[start : start + batch_size]
        a, p, n = (torch.as_tensor(encode([getattr(t, part) for t in batch]))
                   for part in ("anchor", "positive", "negative"))  # fmt: skip
        sims = F.normalize(a, dim=-1) @ F.normalize(torch.cat([p, n]), dim=-1).T
        correct += int((sims.argmax(1) == torch.arange(len(batch))).sum())
        total += len(batch)
    return correct / total
