"""The embedding model a cell builds: a backbone (frozen, or LoRA-adapted when `lora_rank` > 0),
a layer and a pooling (fixed or trainable).

`encode(texts)` sorts texts by token length before batching (little padding), runs the
backbone once per batch with every hidden state, pools and L2-normalises. `mteb_model(ctx)`
wraps it for `mteb.evaluate` and times every batch through `ctx.timer`.
"""

from __future__ import annotations

import numpy as np

from benchbed import BenchbedError
from benchbed_pooling.pooling import POOLINGS

DESIGNS = POOLINGS + ("trainable-last", "trainable-multi")


class PoolingModel:
    def __init__(self, pooling: str = "mean", backbone: str = "minilm", layer: int = -1,
                 attention: str = "default", batch_size: int = 32, max_length: int = 256,
                 normalize: bool = True, train_pairs: int = 2000, epochs: int = 2,
                 lr: float = 2e-4, latents: int = 32, heads: int = 8, base: str = "auto",
                 lora_rank: int = 0, lora_alpha: float = 16.0, lora_batch: int = 32):  # fmt: skip
        if pooling not in DESIGNS:
            raise BenchbedError(f"unknown pooling {pooling!r}; choose one of {', '.join(DESIGNS)}")
        self.pooling, self.backbone_name, self.layer = pooling, backbone, int(layer)
        self.attention, self.batch_size, self.max_length = (
            attention,
            int(batch_size),
            int(max_length),
        )
        self.normalize = normalize
        self.train = dict(train_pairs=int(train_pairs), epochs=int(epochs), lr=float(lr),
                          latents=int(latents), heads=int(heads), base=base)  # fmt: skip
        if int(lora_rank) < 0:
            raise BenchbedError(
                f"lora_rank must be 0 (frozen backbone) or positive, not {lora_rank}"
            )
        self.lora = dict(lora_rank=int(lora_rank), lora_alpha=float(lora_alpha),
                         lora_batch=int(lora_batch))  # fmt: skip
        self.backbone = None
        self.pooler = None
        self.ctx = None
        self.training_log: dict = {}

    @property
    def trainable(self) -> bool:
        return self.pooling.startswith("trainable")

    # ---- set-up -------------------------------------------------------------------------
    def setup(self, ctx) -> None:
        from benchbed_pooling.backbone import Backbone, load_backbone

        if self.backbone is not None and self.ctx is not None and self.ctx.device == ctx.device:
            self.ctx = ctx
            return
        self.ctx = ctx
        with ctx.timer.phase("load"):
            if self.lora["lora_rank"]:
                # a private copy: LoRA changes the model, which other cells must not see
                self.backbone = Backbone(self.backbone_name, ctx.device, "default", self.max_length)
            else:
                self.backbone = load_backbone(
                    self.backbone_name, ctx.device, self.attention, self.max_length
                )
        self.attn = self.backbone.resolve(self.attention)
        if not -self.backbone.num_layers <= self.layer < self.backbone.num_layers:
            raise BenchbedError(
                f"layer {self.layer} does not exist: {self.backbone_name} has hidden states "
                f"0..{self.backbone.num_layers - 1} (or -1 for the last)"
            )
        if self.lora["lora_rank"]:
            self._adapt(ctx)
        elif self.trainable:
            self.pooler = self._trained_pooler(ctx)

    @property
    def base(self) -> str:
        if self.train["base"] != "auto":
            return self.train["base"]
        return "last" if self.backbone.is_decoder else "mean"

    def _trained_pooler(self, ctx):
        import torch

        from benchbed_pooling import data, trainable

        bb = self.backbone
        config = {
            "design": self.pooling, "backbone": self.backbone_name, "attention": self.attn,
            "max_length": self.max_length, "seed": ctx.seed, "base": self.base, **self.train,
            "version": 1,
        }  # fmt: skip
        torch.manual_seed(ctx.seed)
        pooler = trainable.make_pooler(
            self.pooling, bb.dim, bb.num_layers, self.train["latents"], self.train["heads"]
        )
        path = trainable.cache_path(ctx.cache_dir, config)
        if path.exists():
            saved = torch.load(path, map_location="cpu", weights_only=False)
            pooler.load_state_dict(saved["state"])
            self.training_log = saved["log"]
            return pooler.to(ctx.device).eval()
        triplets = data.training_triplets(self.train["train_pairs"], seed=data.DATA_SEED)
        texts = sorted(
            {getattr(t, p) for t in triplets for p in ("anchor", "positive", "negative")}
        )
        with ctx.timer.phase("train-features", items=len(texts), batch_size=self.batch_size):
            feats = trainable.extract_features(self, pooler, texts, self.base)
        features = dict(zip(texts, feats))
        with ctx.timer.phase("train-pooler", items=len(triplets) * self.train["epochs"]):
            losses = trainable.train_pooler(
                pooler, features, triplets, seed=ctx.seed, epochs=self.train["epochs"],
                batch_size=64, lr=self.train["lr"], device=ctx.device, log=ctx.log,
            )  # fmt: skip
        self.training_log = {"losses": losses, "triplets": len(triplets), "texts": len(texts)}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save({"state": pooler.state_dict(), "config": config, "log": self.training_log}, tmp)
        tmp.replace(path)
        return pooler.to(ctx.device).eval()

    def _adapt(self, ctx) -> None:
        """LoRA on the backbone, trained jointly with the pooler (if trainable) by InfoNCE on
        the WordNet triplets; cached (LoRA and pooler weights) like the trained poolers."""
        import torch

        from benchbed_pooling import data, lora, trainable

        bb = self.backbone
        config = {
            "design": f"lora-{self.pooling}", "backbone": self.backbone_name,
            "attention": self.attn, "max_length": self.max_length, "seed": ctx.seed,
            "layer": self.layer, "base": self.base, **self.train, **self.lora, "version": 1,
        }  # fmt: skip
        torch.manual_seed(ctx.seed)
        lora.add_lora(bb.model, self.lora["lora_rank"], self.lora["lora_alpha"])
        if self.trainable:
            self.pooler = trainable.make_pooler(
                self.pooling, bb.dim, bb.num_layers, self.train["latents"], self.train["heads"]
            ).to(ctx.device)
        path = trainable.cache_path(ctx.cache_dir, config)
        if path.exists():
            saved = torch.load(path, map_location="cpu", weights_only=False)
            lora.load_lora_state(bb.model, saved["lora"])
            if self.pooler is not None:
                self.pooler.load_state_dict(saved["pooler"])
                self.pooler.eval()
            self.training_log = saved["log"]
            return
        triplets = data.training_triplets(self.train["train_pairs"], seed=data.DATA_SEED)
        parameters = [p for p in bb.model.parameters() if p.requires_grad]
        if self.pooler is not None:
            parameters += list(self.pooler.parameters())
            self.pooler.train()

        def embed(texts):
            return self.embed(*bb.forward(texts, self.attn))

        with ctx.timer.phase("train-lora", items=len(triplets) * self.train["epochs"]):
            losses = trainable.train_end_to_end(
                embed, parameters, triplets, seed=ctx.seed, epochs=self.train["epochs"],
                batch_size=self.lora["lora_batch"], lr=self.train["lr"], log=ctx.log,
            )  # fmt: skip
        if self.pooler is not None:
            self.pooler.eval()
        self.training_log = {"losses": losses, "triplets": len(triplets),
                             "trained_parameters": sum(p.numel() for p in parameters)}  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        pooler_state = self.pooler.state_dict() if self.pooler is not None else None
        saved = {"lora": lora.lora_state(bb.model), "pooler": pooler_state, "config": config,
                 "log": self.training_log}  # fmt: skip
        torch.save(saved, tmp)
        tmp.replace(path)

    # ---- encoding -----------------------------------------------------------------------
    def passes(self, texts: list[str], phase=None):
        """(indices, hidden states, mask) per length-sorted batch: one backbone pass each."""
        lengths = self.backbone.token_lengths(texts)
        order = np.argsort(lengths, kind="stable")
        for start in range(0, len(texts), self.batch_size):
            idx = order[start : start + self.batch_size]
            if phase is None:
                states, mask = self.backbone.hidden_states([texts[i] for i in idx], self.attn)
                yield idx, states, mask
            else:
                with phase.step(items=len(idx)):
                    states, mask = self.backbone.hidden_states([texts[i] for i in idx], self.attn)
                    yield idx, states, mask

    def embed(self, states, mask):
        """The design's vector from one backbone pass (differentiable; not normalised)."""
        from benchbed_pooling.pooling import pool

        if self.pooler is None:
            return pool(self.pooling, states[self.layer], mask)
        return self.pooler(*self.pooler.features(states, mask, self.base))

    def pool_batch(self, states, mask):
        import torch

        with torch.no_grad():
            vectors = self.embed(states, mask)
        if self.normalize:
            vectors = torch.nn.functional.normalize(vectors, dim=-1)
        return vectors

    def encode(self, texts, phase=None) -> np.ndarray:
        if self.backbone is None:
            raise BenchbedError("PoolingModel.setup(ctx) must run before encode()")
        texts = list(texts)
        out = np.zeros((len(texts), self.backbone.dim), dtype=np.float32)
        for idx, states, mask in self.passes(texts, phase):
            out[idx] = self.pool_batch(states, mask).float().cpu().numpy()
        return out

    def mteb_model(self, ctx):
        self.setup(ctx)
        return make_adapter(self, f"benchbed/{self.backbone_name}-{self.pooling}")

    def describe(self) -> dict:
        info = {"pooling": self.pooling, "backbone": self.backbone_name, "layer": self.layer}
        if self.backbone is not None:
            info["attention"] = self.attn
        if self.lora["lora_rank"]:
            info["lora"] = self.lora
        if self.training_log:
            info["training"] = self.training_log
        return info


def make_adapter(model, name: str):
    """An mteb EncoderProtocol around anything with `encode(texts, phase)`; every call to
    encode is one timing phase step per batch of the shared `encode` phase."""
    from mteb.models.abs_encoder import AbsEncoder
    from mteb.models.model_meta import ModelMeta

    class Adapter(AbsEncoder):
        def __init__(self):
            self.model = model
            self.mteb_model_meta = ModelMeta.create_empty({"name": name, "revision": "local"})
            self.phase = None
            self.texts = 0

        def encode(self, inputs, *, task_metadata, hf_split, hf_subset, prompt_type=None, **kwargs):
            texts = [t for batch in inputs for t in batch["text"]]
            # STS lists repeat texts (Lee: 50 documents in 1,225 pairs): encode each once
            unique = list(dict.fromkeys(texts))
            position = {t: i for i, t in enumerate(unique)}
            self.texts += len(unique)
            vectors = model.encode(unique, self.phase)
            return vectors[[position[t] for t in texts]]

    return Adapter()
