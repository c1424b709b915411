"""Gated class-attention and cascaded feature drift compensation (Cotogni, Yang, Cusano,
Bagdanov & van de Weijer 2023), exemplar-free class-incremental learning of a ViT.

Following the authors' code (github.com/OcraM17/GCAB-CFDC, a DyTox-style ViT):

- every context k gets its own class token and its own head (LayerNorm + linear over the
  context's classes); both are frozen once k is over. Each token goes through the shared
  class-attention block, and the logits of all heads are concatenated: no task identity is
  needed at inference, every head answers for its own classes and the argmax runs over all;
- gated class-attention: HAT masks (Serra et al. 2018), sigmoid(s * e_k), on the block's
  width-`dim` units (the query's input and output, the keys' and values' input, the keys,
  the attention output before and after its projection, the MLP's input and output) and on
  the MLP's hidden units. During context k, s anneals from 1/smax to smax over each epoch,
  a sparsity term asks the mask to use units earlier contexts left free, and the gradient of
  a weight (bias) of the block is cut when both of its units (its unit) are in the union of
  the earlier contexts' binarised masks. So an earlier token's path through the block is
  exactly the one it had: at inference (and for earlier tokens in training) token j uses
  context j's own mask, binarised (sigmoid(smax * e) for the latest context, as the
  authors do), which is why no task identity is needed to choose it. The block's
  LayerNorms, and those of the self-attention blocks, are frozen after the first context;
- cascaded feature drift compensation: while context k > 0 is learned, a projector P_k
  (per-token linear, LayerNorm over all tokens, ReLU, per-token linear) is trained to map the
  new patch tokens (output of the self-attention blocks) onto those of the frozen network of
  the end of context k - 1, with lambda_drift * ||old - P_k(new)||_2 over the batch; the
  term's gradient also reaches the backbone (projected functional regularisation). P_k is
  frozen after context k. At inference, token j reads the current patch tokens carried
  back through P_{T-1}, ..., P_{j+1}: the feature space its frozen path and head were
  trained in.

Loss: binary cross-entropy over every class seen so far (old heads frozen), plus the mask
term and the drift term. A fresh Adam per context (the authors build a new optimiser per
task), so that the momentum of one context does not move weights the next one protects.
`gated=False` (plain shared class-attention) and `drift_compensation=False` (no projectors,
no drift term) are the ablations.
"""

from __future__ import annotations

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

from benchbed import BenchbedError
from benchbed_continual.learner import Learner


def gated_class_attention(block, cls, tokens, unit_mask, hidden_mask):
    """`vit.ClassAttentionBlock` with HAT masks: `unit_mask` [dim] on its width-dim units and
    `hidden_mask` [mlp_ratio * dim] on its MLP's hidden units. With masks of ones it is the
    block itself. Returns the class token [n, 1, dim]."""
    attn = block.attn
    n, _, d = tokens.shape
    h = attn.heads
    context = block.norm1(torch.cat([cls, tokens], 1))
    q = attn.q(context[:, :1] * unit_mask) * unit_mask
    k, v = (attn.kv(context * unit_mask)).chunk(2, dim=-1)
    k = k * unit_mask

    def heads(t):
        return t.view(n, -1, h, d // h).transpose(1, 2)

    mixed = F.scaled_dot_product_attention(heads(q), heads(k), heads(v))
    mixed = mixed.transpose(1, 2).reshape(n, 1, d) * unit_mask
    cls = cls + attn.out(mixed) * unit_mask
    fc1, act, fc2 = block.mlp
    hidden = act(fc1(block.norm2(cls) * unit_mask)) * hidden_mask
    return cls + fc2(hidden) * unit_mask


def projector(dim: int, n_tokens: int) -> nn.Module:
    """The drift projector of the authors' code: a 1x1 convolution over the tokens (a
    per-token linear map), LayerNorm over all tokens and channels together, ReLU, 1x1 again."""
    return nn.Sequential(
        nn.Linear(dim, dim), nn.LayerNorm((n_tokens, dim)), nn.ReLU(), nn.Linear(dim, dim)
    )


class GatedViT(nn.Module):
    """The ViT backbone with one class token, one head and one mask embedding per context and
    the drift projectors. `forward(x)` is the inference path: [n, n_outputs] logits, the
    classes of no head yet at -inf."""

    def __init__(self, vit, n_contexts: int, n_outputs: int, gated: bool, smax: float):
        super().__init__()
        self.vit = vit
        dim = vit.config.dim
        self.n_outputs = n_outputs
        self.gated = gated
        self.smax = smax
        self.tokens = nn.ParameterList()
        self.heads = nn.ModuleList()
        self.projectors = nn.ModuleList()  # projectors[k - 1] maps context k's space to k - 1's
        self.classes: list[list[int]] = []
        # HAT's embeddings, N(0, 1) as nn.Embedding starts them.
        self.unit_embedding = nn.Embedding(n_contexts, dim)
        self.hidden_embedding = nn.Embedding(n_contexts, vit.config.mlp_ratio * dim)

    def add_context(self, classes) -> None:
        dim = self.vit.config.dim
        device = self.vit.cls.device
        self.tokens.append(nn.Parameter(torch.randn(1, 1, dim, device=device) * 0.02))
        self.heads.append(nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, len(classes))).to(device))
        self.classes.append(list(classes))

    def masks(self, k: int, s: float | None):
        """Context k's (unit, hidden) masks: sigmoid(s * e_k) when s is given, else binarised
        (sigmoid(smax * e) > 0.5, i.e. e > 0). Ones when gating is off."""
        e_unit, e_hidden = self.unit_embedding.weight[k], self.hidden_embedding.weight[k]
        if not self.gated:
            return torch.ones_like(e_unit), torch.ones_like(e_hidden)
        if s is None:
            return (e_unit > 0).float(), (e_hidden > 0).float()
        return torch.sigmoid(s * e_unit), torch.sigmoid(s * e_hidden)

    def logits(self, patch_tokens, per_context_tokens=None, s: float | None = None):
        """Logits over n_outputs from every head. `per_context_tokens[j]` replaces the patch
        tokens that token j reads (the drift-compensated ones); `s` is the current (last)
        context's mask temperature in training, the earlier contexts' masks are binarised."""
        n = len(patch_tokens)
        out = patch_tokens.new_full((n, self.n_outputs), float("-inf"))
        last = len(self.tokens) - 1
        for j, (token, head) in enumerate(zip(self.tokens, self.heads)):
            tokens = patch_tokens if per_context_tokens is None else per_context_tokens[j]
            unit, hidden = self.masks(j, s if j == last else None)
            cls = gated_class_attention(
                self.vit.class_attention, token.expand(n, -1, -1), tokens, unit, hidden
            )
            out[:, self.classes[j]] = head(cls[:, 0])
        return out

    def carried_back(self, patch_tokens) -> list:
        """The patch tokens in each context's own feature space: context j's are the current
        ones carried through projectors[T-2], ..., projectors[j] (none for the latest, and
        none at all without drift compensation)."""
        carried = [patch_tokens]
        for k in range(min(len(self.tokens) - 1, len(self.projectors)) - 1, -1, -1):
            carried.append(self.projectors[k](carried[-1]))
        carried += [carried[-1]] * (len(self.tokens) - len(carried))
        return carried[::-1]

    def forward(self, x):
        patch_tokens = self.vit.patch_tokens(x)
        if not len(self.tokens):
            return patch_tokens.new_full((len(x), self.n_outputs), float("-inf"))
        # The latest context's mask is sigmoid(smax * e), the earlier ones binarised.
        return self.logits(patch_tokens, self.carried_back(patch_tokens), s=self.smax)


class GCACFDC(Learner):
    name = "gca-cfdc"

    def __init__(
        self,
        gated: bool = True,
        drift_compensation: bool = True,
        smax: float = 800.0,
        lambda_gate: float = 0.05,
        lambda_drift: float = 0.001,
        thres_cosh: float = 50.0,
        thres_emb: float = 6.0,
        **protocol,
    ):
        super().__init__(**protocol)
        if smax <= 1 or lambda_gate < 0 or lambda_drift < 0 or thres_emb <= 0:
            raise BenchbedError(
                "gca-cfdc needs smax > 1, lambda_gate >= 0, lambda_drift >= 0, thres_emb > 0"
            )
        self.gated = bool(gated)
        self.drift_compensation = bool(drift_compensation)
        self.smax = float(smax)
        self.lambda_gate = lambda_gate
        self.lambda_drift = lambda_drift
        self.thres_cosh = thres_cosh
        self.thres_emb = thres_emb

    def setup(self):
        if self.setting.backbone != "vit":
            raise BenchbedError(
                "gca-cfdc gates a ViT's class-attention block: it runs on the ViT tasks "
                "(continual/*-vit/*), not on an MLP protocol"
            )
        if self.setting.scenario == "domain":
            raise BenchbedError(
                "gca-cfdc gives each context its own head over its new classes: it runs in "
                "class- and task-incremental learning, not domain-incremental"
            )
        self.net = GatedViT(
            self.net, self.setting.n_contexts, self.setting.n_outputs, self.gated, self.smax
        ).to(self.device)
        self.teacher = None
        self.used = None  # (unit, hidden): union of the earlier contexts' binarised masks
        self.known: list[int] = []

    # -- training ---------------------------------------------------------------------------

    def before_context(self, experience):
        net = self.net
        self.known += [k for k in experience.classes if k not in self.known]
        for p in [*net.tokens.parameters(), *net.heads.parameters(), *net.projectors.parameters()]:
            p.requires_grad_(False)  # earlier contexts' tokens, heads and projectors
        net.add_context(experience.classes)
        if self.seen > 0:
            for module in [*net.vit.blocks, net.vit.class_attention]:
                for sub in module.modules():
                    if isinstance(sub, nn.LayerNorm):
                        sub.requires_grad_(False)
            if self.drift_compensation:
                self.teacher = copy.deepcopy(net.vit).eval().requires_grad_(False)
                net.projectors.append(
                    projector(net.vit.config.dim, net.vit.config.n_patches).to(self.device)
                )
        if not self.gated:
            net.unit_embedding.requires_grad_(False)
            net.hidden_embedding.requires_grad_(False)
        self.optimizer = torch.optim.Adam(
            [p for p in net.parameters() if p.requires_grad], lr=self.setting.lr
        )
        self.per_epoch = max(
            1, len(experience.x) // min(self.setting.batch_size, len(experience.x))
        )

    def temperature(self) -> float:
        """HAT's s, annealed from 1/smax to smax over each epoch of the context."""
        smax, b = self.smax, self.step % self.per_epoch
        return (smax - 1 / smax) * b / self.per_epoch + 1 / smax

    def batch_loss(self, x, y, c, experience):
        net, s = self.net, self.temperature()
        patch_tokens = net.vit.patch_tokens(x)
        # In training every token reads the current patch tokens (the authors' code carries
        # them back only at inference).
        out = net.logits(patch_tokens, s=s)[:, self.known]
        target = F.one_hot(y, self.setting.n_outputs)[:, self.known].float()
        loss = F.binary_cross_entropy_with_logits(out, target)
        if self.gated:
            loss = loss + self.lambda_gate * self.mask_sparsity(net.masks(self.seen, s))
        if self.teacher is not None:
            with torch.no_grad():
                old = self.teacher.patch_tokens(x)
            loss = loss + self.lambda_drift * torch.linalg.vector_norm(
                old - net.projectors[-1](patch_tokens)
            )
        return loss

    def mask_sparsity(self, masks):
        """HAT's regulariser: the mean of the current masks over the units earlier contexts
        left free (over all units in the first context)."""
        total, count = 0.0, 0.0
        for i, m in enumerate(masks):
            free = torch.ones_like(m) if self.used is None else 1 - self.used[i]
            total = total + (m * free).sum()
            count = count + free.sum()
        return total / count if count > 0 else total * 0.0

    def after_backward(self, experience):
        if not self.gated:
            return
        if self.used is not None:
            for p, keep in self.blocked_gradients():
                if p.grad is not None:
                    p.grad.mul_(keep)
        # HAT's gradient compensation for the embedding: undo the sigmoid's flattening at s.
        s = self.temperature()
        for embedding in (self.net.unit_embedding, self.net.hidden_embedding):
            e = embedding.weight
            if e.grad is None:
                continue
            num = torch.cosh(torch.clamp(s * e.data, -self.thres_cosh, self.thres_cosh)) + 1
            den = torch.cosh(e.data) + 1
            e.grad.mul_(self.smax / s * num / den)

    def after_step(self):
        if self.gated:
            for embedding in (self.net.unit_embedding, self.net.hidden_embedding):
                embedding.weight.data.clamp_(-self.thres_emb, self.thres_emb)

    def blocked_gradients(self):
        """(parameter, 1 - protection) of the class-attention block: a weight is protected
        when both its input and its output unit are in `used`, a bias when its unit is."""
        unit, hidden = self.used
        block = self.net.vit.class_attention
        both_unit = torch.outer(unit, unit)
        kv_out = torch.cat([unit, unit])
        return [
            (block.attn.q.weight, 1 - both_unit),
            (block.attn.q.bias, 1 - unit),
            (block.attn.kv.weight, 1 - torch.outer(kv_out, unit)),
            (block.attn.kv.bias, 1 - kv_out),
            (block.attn.out.weight, 1 - both_unit),
            (block.attn.out.bias, 1 - unit),
            (block.mlp[0].weight, 1 - torch.outer(hidden, unit)),
            (block.mlp[0].bias, 1 - hidden),
            (block.mlp[2].weight, 1 - torch.outer(unit, hidden)),
            (block.mlp[2].bias, 1 - unit),
        ]

    def after_context(self, experience):
        net = self.net
        self.teacher = None
        for p in net.projectors.parameters():
            p.requires_grad_(False)
        if self.gated:
            with torch.no_grad():
                masks = net.masks(self.seen, None)
            self.used = (
                masks
                if self.used is None
                else tuple(torch.maximum(u, m) for u, m in zip(self.used, masks))
            )
