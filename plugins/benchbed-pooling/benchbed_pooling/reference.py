"""The reference: sentence-transformers' own model, handed to mteb as mteb expects it.

The equivalence check compares benchbed's mean-pooled MiniLM with this on the same task.
"""

from __future__ import annotations

from benchbed.assets import MissingAsset


class SentenceTransformerReference:
    def __init__(self, backbone: str = "minilm", batch_size: int = 32):
        self.backbone_name, self.batch_size = backbone, int(batch_size)
        self.model = None

    def mteb_model(self, ctx):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise MissingAsset(
                "the reference needs sentence-transformers: pip install sentence-transformers"
            ) from None
        from benchbed.encoders import model_path
        from benchbed_pooling.backbone import ENCODER_ALIASES

        path = model_path(ENCODER_ALIASES.get(self.backbone_name, self.backbone_name))
        if self.model is None:
            with ctx.timer.phase("load"):
                self.model = SentenceTransformer(
                    path, device=ctx.device, local_files_only=path != self.backbone_name
                )
        return self.model

    def encode(self, texts, phase=None):
        return self.model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True)

    def describe(self) -> dict:
        return {"reference": "sentence-transformers", "backbone": self.backbone_name}
