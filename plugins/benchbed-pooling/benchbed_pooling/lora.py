"""LoRA (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models", eq. 3 with
the alpha / r scaling of Sec. 4.1): a frozen linear map W x becomes W x + (alpha / r) B A x,
with A (r x d_in) and B (d_out x r) the only trained weights.

As in the paper's standard setup, the attention's query and value projections are adapted
(`q_proj`/`v_proj` in Llama/Qwen decoders, `query`/`value` in BERT encoders). A starts
random (Kaiming-uniform, as the authors' loralib), B at zero, so at initialisation the adapted
model computes exactly what the frozen one does. No LoRA dropout (the backbone runs in eval
mode, so training is deterministic for a seed).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from benchbed import BenchbedError

TARGETS = ("q_proj", "v_proj", "query", "value")


class LoRALinear(nn.Module):
    """`base(x) + (alpha / r) * B(A(x))`; the wrapped `base` is frozen."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float):
        super().__init__()
        if rank < 1:
            raise BenchbedError(f"LoRA rank must be at least 1, not {rank}")
        self.base, self.rank, self.scale = base, rank, alpha / rank
        for p in base.parameters():
            p.requires_grad_(False)
        weight = base.weight
        self.lora_A = nn.Parameter(
            torch.empty(rank, base.in_features, dtype=weight.dtype, device=weight.device)
        )
        self.lora_B = nn.Parameter(
            torch.zeros(base.out_features, rank, dtype=weight.dtype, device=weight.device)
        )
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))

    def forward(self, x):
        return self.base(x) + self.scale * ((x @ self.lora_A.T) @ self.lora_B.T)


def add_lora(model: nn.Module, rank: int, alpha: float, targets=TARGETS) -> list[str]:
    """Freeze every weight of `model`, wrap each targeted linear map in place; returns the
    wrapped modules' names. Call `torch.manual_seed` first: A is drawn from the global RNG."""
    for p in model.parameters():
        p.requires_grad_(False)
    wrapped = []
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if child_name in targets and isinstance(child, nn.Linear):
                setattr(module, child_name, LoRALinear(child, rank, alpha))
                wrapped.append(f"{name}.{child_name}" if name else child_name)
    if not wrapped:
        raise BenchbedError(
            f"no attention projection named {', '.join(targets)} to adapt with LoRA in "
            f"{type(model).__name__}"
        )
    return wrapped


def lora_state(model: nn.Module) -> dict:
    """Only the LoRA weights (what training changes), for caching."""
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items() if ".lora_" in k}


def load_lora_state(model: nn.Module, state: dict) -> None:
    missing = set(lora_state(model)) ^ set(state)
    if missing:
        raise BenchbedError(f"cached LoRA weights do not fit the model: {sorted(missing)[:3]}")
    model.load_state_dict(state, strict=False)
