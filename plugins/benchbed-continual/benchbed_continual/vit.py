"""A small vision transformer for continual learning on 28x28 and 32x32 images.

Patch embedding, `depth` pre-norm self-attention blocks over the patch tokens, then one
class-attention block (Touvron et al. 2021, CaiT) in which only a learned class token attends
to the patch tokens: the class token's output is the image's feature. The gated class-attention
method masks that last block; prompt methods prepend tokens with `extra_tokens`.

Inputs arrive flat, as the continual tasks hand them over ([n, channels * size * size]);
`image_shape` says how to fold them back.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass(frozen=True)
class ViTConfig:
    image_shape: tuple[int, int, int] = (1, 28, 28)  # channels, height, width
    patch: int = 4
    dim: int = 64
    depth: int = 4  # self-attention blocks before the class-attention block
    heads: int = 4
    mlp_ratio: int = 2

    @property
    def n_patches(self) -> int:
        _, h, w = self.image_shape
        return (h // self.patch) * (w // self.patch)


class Attention(nn.Module):
    """Multi-head attention of `queries` over `keys_values` (self-attention when they are the
    same tokens). `prefix` [2, length, dim], when given, holds key and value vectors (already
    projected) prepended to those of `keys_values`: prefix-tuning's prompts."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, queries, keys_values, prefix=None):
        n, lq, d = queries.shape
        h = self.heads
        q = self.q(queries).view(n, lq, h, d // h).transpose(1, 2)
        k, v = self.kv(keys_values).view(n, -1, 2, h, d // h).permute(2, 0, 3, 1, 4)
        if prefix is not None:
            pk, pv = prefix.view(2, 1, -1, h, d // h).transpose(2, 3).expand(-1, n, -1, -1, -1)
            k, v = torch.cat([pk, k], 2), torch.cat([pv, v], 2)
        mixed = F.scaled_dot_product_attention(q, k, v)
        return self.out(mixed.transpose(1, 2).reshape(n, lq, d))


class Block(nn.Module):
    """Pre-norm transformer block: self-attention, then an MLP, each with a residual."""

    def __init__(self, dim: int, heads: int, mlp_ratio: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, mlp_ratio * dim), nn.GELU(), nn.Linear(mlp_ratio * dim, dim)
        )

    def forward(self, tokens):
        normed = self.norm1(tokens)
        tokens = tokens + self.attn(normed, normed)
        return tokens + self.mlp(self.norm2(tokens))


class ClassAttentionBlock(Block):
    """CaiT's class-attention: the class token attends to itself and the patch tokens; the
    patch tokens pass through unchanged. Returns the updated class token [n, 1, dim]."""

    def forward(self, cls, tokens):
        context = self.norm1(torch.cat([cls, tokens], 1))
        cls = cls + self.attn(context[:, :1], context)
        return cls + self.mlp(self.norm2(cls))


class ViT(nn.Module):
    """Features `features(x)` [n, dim] and logits `forward(x)` [n, n_outputs]."""

    def __init__(self, config: ViTConfig, n_outputs: int):
        super().__init__()
        self.config = config
        c = config
        channels = c.image_shape[0]
        self.embed = nn.Conv2d(channels, c.dim, kernel_size=c.patch, stride=c.patch)
        self.position = nn.Parameter(torch.randn(1, c.n_patches, c.dim) * 0.02)
        self.blocks = nn.ModuleList(Block(c.dim, c.heads, c.mlp_ratio) for _ in range(c.depth))
        self.cls = nn.Parameter(torch.randn(1, 1, c.dim) * 0.02)
        self.class_attention = ClassAttentionBlock(c.dim, c.heads, c.mlp_ratio)
        self.norm = nn.LayerNorm(c.dim)
        self.head = nn.Linear(c.dim, n_outputs)

    def embed_patches(self, x):
        """Flat images [n, c*h*w] -> patch embeddings with positions [n, n_patches, dim]."""
        x = x.view(len(x), *self.config.image_shape)
        return self.embed(x).flatten(2).transpose(1, 2) + self.position

    def block_inputs(self, x) -> list:
        """The patch tokens entering each self-attention block, then those leaving the last:
        depth + 1 tensors [n, n_patches, dim]."""
        tokens = [self.embed_patches(x)]
        for block in self.blocks:
            tokens.append(block(tokens[-1]))
        return tokens

    def patch_tokens(self, x, extra_tokens=None):
        """The patch tokens after the self-attention blocks [n, n_patches, dim]; `extra_tokens`
        [n, k, dim] (prompts) are prepended before the first block and dropped at the end."""
        tokens = self.embed_patches(x)
        k = 0 if extra_tokens is None else extra_tokens.shape[1]
        if k:
            tokens = torch.cat([extra_tokens, tokens], 1)
        for block in self.blocks:
            tokens = block(tokens)
        return tokens[:, k:]

    def features(self, x, extra_tokens=None):
        tokens = self.patch_tokens(x, extra_tokens)
        cls = self.class_attention(self.cls.expand(len(tokens), -1, -1), tokens)
        return self.norm(cls[:, 0])

    def forward(self, x):
        return self.head(self.features(x))
