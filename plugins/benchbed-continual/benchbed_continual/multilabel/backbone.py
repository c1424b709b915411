"""The frozen backbone every multi-label method starts from: the plugin's small ViT
pre-trained once, with a multi-label BCE loss, on mosaics of a base data set disjoint from
the stream's (MNIST digits for the Fashion-MNIST stream), then cached under the cache
folder by a key of its protocol. Its training seed is the protocol's, not the cell's: every
cell and every method gets the same backbone, as they would a published checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict

import torch
import torch.nn.functional as F

from benchbed_continual.multilabel import metrics as M
from benchbed_continual.multilabel.data import mosaics
from benchbed_continual.vit import ViT, ViTConfig


def vit_config(protocol) -> ViTConfig:
    return ViTConfig(image_shape=protocol.base.mosaic.image_shape, **protocol.vit)


def pretrained_backbone(protocol, load, ctx) -> tuple[dict, dict]:
    """(state dict, info) of the backbone of `protocol`; trained on first use, then read from
    the cache. `load(split)` gives the base data set's (x, y); info holds the backbone's mAP
    on base test mosaics and its training time."""
    base = protocol.base
    key = hashlib.sha256(
        json.dumps([asdict(base), protocol.vit], sort_keys=True).encode()
    ).hexdigest()[:16]
    path = ctx.cache_dir / f"mlcil-backbone-{key}.pt"
    if path.exists():
        saved = torch.load(path, map_location="cpu", weights_only=True)
        return saved["state"], saved["info"]
    state, info = _pretrain(protocol, load, ctx)
    # Write then rename: cells in parallel workers may share this file.
    partial = path.with_suffix(f".{os.getpid()}.partial")
    torch.save({"state": state, "info": info}, partial)
    partial.replace(path)
    return state, info


def _pretrain(protocol, load, ctx) -> tuple[dict, dict]:
    import numpy as np

    base = protocol.base
    rng = np.random.default_rng([base.seed, 11])
    x, y, _ = mosaics(*load("train"), base.mosaic, base.n_train, rng)
    x_test, y_test, _ = mosaics(*load("test"), base.mosaic, base.n_test, rng)
    torch.manual_seed(base.seed)
    generator = torch.Generator().manual_seed(base.seed)
    net = ViT(vit_config(protocol), len(base.mosaic.classes))
    optimizer = torch.optim.Adam(net.parameters(), lr=base.lr)
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    start = time.perf_counter()
    net.train()
    for _ in ctx.progress(range(base.steps), desc="pre-training the backbone", total=base.steps):
        index = torch.randint(len(x), (base.batch_size,), generator=generator)
        optimizer.zero_grad()
        F.binary_cross_entropy_with_logits(net(x[index]), y[index]).backward()
        optimizer.step()
    seconds = time.perf_counter() - start
    net.eval()
    with torch.no_grad():
        scores = torch.cat([torch.sigmoid(net(b)) for b in torch.as_tensor(x_test).split(500)])
    info = {
        "base_test_map": round(M.mean_average_precision(scores.numpy(), y_test), 6),
        "pretrain_seconds": round(seconds, 1),
        "steps": base.steps,
    }
    ctx.log.info("multi-label backbone pre-trained: %s", info)
    return {k: v.clone() for k, v in net.state_dict().items()}, info


def frozen_backbone(setting) -> ViT:
    """The pre-trained ViT of `setting`, in eval mode with every parameter frozen."""
    state = setting.backbone
    net = ViT(setting.vit, state["head.weight"].shape[0])
    net.load_state_dict(state)
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net
