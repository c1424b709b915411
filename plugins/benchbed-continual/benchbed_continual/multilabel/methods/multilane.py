"""MULTI-LANE (De Min, Mancini, Lathuilière, Roy, Ricci, CoLLAs 2024): one pathway per task
on the frozen ViT, and patch tokens summarised into a few tokens so that running every
pathway at inference stays cheap.

The frozen backbone runs once per image and gives the patch tokens entering each block.
A pathway carries a class token (the backbone's, frozen, as in the paper's code) through
every block: at each block its `selectors` (learnable tokens, one set per task) summarise
that block's normalised patch tokens by softmax attention (weights softmax(s . p / sqrt(d))
over the patches), and the class token attends, with the block's frozen weights, to itself
and the summaries, plus the pathway's prefix prompts (learnable keys and values) in the
first `prompt_blocks` blocks; the block's frozen MLP follows. The summaries are then dropped
and the selectors summarise the next block's patch tokens afresh (the paper's "drop and
replace"). The final class token, layer-normed and L2-normalised, goes to the pathway's own
linear head over its task's labels. At inference every pathway runs, without task identity,
and their label scores are concatenated in task order. A new pathway starts from a copy of
the previous one's selectors and prompts (as the paper's code does); training only touches
the current pathway, so the old ones stay exactly as they were.

`summarise=False` is the cost ablation: each pathway runs its own full pass over all the
patch tokens (prefix-tuning with independent pathways), so inference grows with the number
of tasks times a whole ViT pass.

Choices that are ours (the small ViT ends in a CaiT class-attention block, which the
paper's ViT-B does not have): the pathway's class token also goes through that block, where
it attends to the summaries of the last patch tokens; the selectors are the same learnable
tokens at every block (in the paper's code they also pass through each block's residual
branch); prompts start at N(0, 0.02^2), selectors orthogonal.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from benchbed_continual.multilabel.methods.base import MultilabelLearner


def frozen_pass(vit, x) -> list:
    """The patch tokens entering each self-attention block and leaving the last one."""
    with torch.no_grad():
        return vit.block_inputs(x)


class Pathway(nn.Module):
    """One task's selectors, prefix prompts and head."""

    def __init__(self, dim, n_labels, selectors, prompt_length, prompt_blocks):
        super().__init__()
        self.selectors = nn.Parameter(nn.init.orthogonal_(torch.empty(selectors, dim)))
        self.prompts = nn.Parameter(torch.randn(prompt_blocks, 2, prompt_length, dim) * 0.02)
        self.head = nn.Linear(dim, n_labels)

    def prefix(self, block: int):
        return self.prompts[block] if block < len(self.prompts) and self.prompts.shape[2] else None

    def summarised(self, vit, frozen):
        """The class token's feature [n, dim] from the frozen pass's patch tokens."""
        cls = vit.cls.expand(len(frozen[0]), -1, -1)
        blocks = [*vit.blocks, vit.class_attention]
        for b, (block, patches) in enumerate(zip(blocks, frozen)):
            normed = block.norm1(patches)
            selectors = block.norm1(self.selectors)
            weights = torch.softmax(
                selectors @ normed.transpose(1, 2) / math.sqrt(normed.shape[2]), -1
            )
            summaries = weights @ normed  # [n, selectors, dim]
            query = block.norm1(cls)
            cls = cls + block.attn(query, torch.cat([query, summaries], 1), self.prefix(b))
            cls = cls + block.mlp(block.norm2(cls))
        return vit.norm(cls[:, 0])

    def full(self, vit, frozen):
        """Without summarisation: the pathway's own pass over all patch tokens."""
        tokens = torch.cat([vit.cls.expand(len(frozen[0]), -1, -1), frozen[0]], 1)
        for b, block in enumerate(vit.blocks):
            normed = block.norm1(tokens)
            tokens = tokens + block.attn(normed, normed, self.prefix(b))
            tokens = tokens + block.mlp(block.norm2(tokens))
        block = vit.class_attention
        normed = block.norm1(tokens)
        cls = tokens[:, :1] + block.attn(normed[:, :1], normed, self.prefix(len(vit.blocks)))
        cls = cls + block.mlp(block.norm2(cls))
        return vit.norm(cls[:, 0])

    def logits(self, vit, frozen, summarise: bool):
        feature = self.summarised(vit, frozen) if summarise else self.full(vit, frozen)
        return self.head(F.normalize(feature, dim=1))


class MultiLane(MultilabelLearner):
    lr = 0.03  # the paper's COCO configuration

    def __init__(
        self,
        selectors: int = 4,
        prompt_length: int = 4,
        prompt_blocks: int = 2,
        summarise: bool = True,
        **protocol,
    ):
        super().__init__(**protocol)
        if selectors < 1 or prompt_length < 0 or prompt_blocks < 0:
            raise ValueError(
                "multi-lane needs selectors >= 1, prompt_length >= 0, prompt_blocks >= 0"
            )
        self.n_selectors, self.prompt_length = selectors, prompt_length
        self.prompt_blocks, self.summarise = prompt_blocks, summarise

    def setup(self):
        if self.prompt_blocks > self.backbone.config.depth + 1:
            raise ValueError(
                f"prompt_blocks must be at most the ViT's {self.backbone.config.depth + 1} blocks"
            )
        self.pathways = nn.ModuleList()

    def before_task(self, experience):
        pathway = Pathway(
            self.backbone.config.dim,
            len(experience.labels),
            self.n_selectors,
            self.prompt_length,
            self.prompt_blocks,
        ).to(self.device)
        if len(self.pathways):
            previous = self.pathways[-1]
            with torch.no_grad():
                pathway.selectors.copy_(previous.selectors)
                pathway.prompts.copy_(previous.prompts)
        self.pathways.append(pathway)

    def trainable(self):
        return self.pathways[-1].parameters()

    def train_logits(self, x, experience):
        return self.pathways[-1].logits(self.backbone, self.frozen(x), self.summarise)

    def seen_logits(self, x):
        frozen = self.frozen(x)
        return torch.cat(
            [p.logits(self.backbone, frozen, self.summarise) for p in self.pathways], 1
        )

    def frozen(self, x):
        if self.summarise:
            return frozen_pass(self.backbone, x)
        with torch.no_grad():  # a full pathway only needs the patch embeddings
            return [self.backbone.embed_patches(x)]

    def cost(self) -> dict:
        """Per image at inference with the current pathways: tokens through each block summed
        over blocks, and query-key scores of all attentions (prompts included)."""
        c = self.backbone.config
        n, s, depth, t = c.n_patches, self.n_selectors, c.depth, len(self.pathways)
        prompts = [self.prompt_length if b < self.prompt_blocks else 0 for b in range(depth + 1)]
        if self.summarise:
            # one frozen pass over the patches; per pathway and block, s summaries of n
            # patches and the class token's query over itself, the summaries and prompts
            tokens = n * depth + t * (depth + 1) * (1 + s)
            scores = n * n * depth + t * sum(s * n + 1 + s + p for p in prompts)
        else:
            # per pathway a full pass of 1 + n tokens, then its class token's class-attention
            tokens = t * ((1 + n) * depth + 1)
            scores = t * (
                sum((1 + n) * (1 + n + p) for p in prompts[:depth]) + 1 + n + prompts[depth]
            )
        return {
            "pathways": t,
            "summarise": self.summarise,
            "tokens": tokens,
            "attention_scores": scores,
        }
