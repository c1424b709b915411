"""Tests on the real backbones and mteb (slow: minutes on two CPU cores)."""

import math

import pytest

from benchbed.testing import require_asset

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "task",
    ["WordSim353STS", "LeeSTS", "WordNetLexnameClassification", "WordNetGlossToWordRetrieval"],
)
def test_mean_pooled_minilm_gives_sentence_transformers_scores(task, ctx):
    """The issue's correctness check: same mteb scores within 1e-4 on the same local task."""
    pytest.importorskip("sentence_transformers")
    from benchbed_pooling.encoder import PoolingModel
    from benchbed_pooling.reference import SentenceTransformerReference
    from benchbed_pooling.tasks import TASKS, MtebTask

    name = {v: k for k, v in TASKS.items()}[task]
    ours = require_asset(lambda: MtebTask(name, task).evaluate(PoolingModel("mean"), ctx))
    theirs = MtebTask(name, task).evaluate(SentenceTransformerReference(), ctx)
    a, b = ours.artifacts["mteb_scores"], theirs.artifacts["mteb_scores"]
    compared = [k for k in a if k in b and not k.startswith("nauc") and isinstance(a[k], float)]
    assert len(compared) >= 2
    for key in compared:
        if math.isnan(a[key]) and math.isnan(
            b[key]
        ):  # e.g. average precision, undefined for many classes
            continue
        assert math.isclose(a[key], b[key], abs_tol=1e-4), (key, a[key], b[key])


@pytest.mark.parametrize("design", ["trainable-multi", "trainable-last"])
def test_trained_pooler_beats_untrained_on_held_out_pairs(design, ctx):
    import torch
    from benchbed_pooling import data, trainable
    from benchbed_pooling.encoder import PoolingModel

    model = PoolingModel(design, train_pairs=1200, epochs=2)
    require_asset(lambda: model.setup(ctx))
    # the end of the shuffled training-part list: no anchor the pooler was trained on
    held_out = data.training_triplets()[-640:]
    assert not {t.anchor for t in held_out} & {t.anchor for t in data.training_triplets(1200)}
    texts = sorted({getattr(t, p) for t in held_out for p in ("anchor", "positive", "negative")})
    features = dict(zip(texts, trainable.extract_features(model, model.pooler, texts, model.base)))
    torch.manual_seed(ctx.seed)
    untrained = trainable.make_pooler(design, model.backbone.dim, model.backbone.num_layers, 32, 8)
    trained_acc = trainable.pairs_accuracy(model.pooler, features, held_out, "cpu")
    untrained_acc = trainable.pairs_accuracy(untrained, features, held_out, "cpu")
    assert trained_acc > untrained_acc + 0.01, (trained_acc, untrained_acc)
    # cached: a second set-up with the same seed loads the same weights without training
    again = PoolingModel(design, train_pairs=1200, epochs=2)
    again.setup(ctx)
    assert again.training_log == model.training_log
    for p, q in zip(model.pooler.state_dict().values(), again.pooler.state_dict().values()):
        assert torch.equal(p.cpu(), q.cpu())


def test_decoder_causal_and_bidirectional_attention(ctx):
    from benchbed_pooling.backbone import Backbone

    causal = require_asset(lambda: Backbone("smollm2-135m", attention="causal"))
    assert causal.is_decoder and causal.num_layers == 31
    tokens = causal.tokenize(["The cat", "The dog sat"])
    last = tokens["attention_mask"].sum(1) - 1
    assert all(
        int(tokens["input_ids"][i, last[i]]) == causal.tokenizer.eos_token_id for i in range(2)
    )
    a, _ = causal.hidden_states(["The cat"])
    b, _ = causal.hidden_states(["The dog"])
    assert (
        float((a[-1][0, 0] - b[-1][0, 0]).abs().max()) == 0.0
    )  # the first token cannot see later ones
    causal.attention = "bidirectional"
    a, _ = causal.hidden_states(["The cat"])
    b, _ = causal.hidden_states(["The dog"])
    assert float((a[-1][0, 0] - b[-1][0, 0]).abs().max()) > 1e-3


def test_speed_task_reports_both_comparisons(ctx):
    pytest.importorskip("sentence_transformers")
    from benchbed_pooling.encoder import PoolingModel
    from benchbed_pooling.tasks import SpeedTask

    result = require_asset(lambda: SpeedTask().evaluate(PoolingModel("mean"), ctx))
    assert result.metrics["speedup_vs_st"].value > 0
    assert 0 < result.metrics["one_pass_saving"].value < 1
    phases = {r.phase for r in ctx.timer.records}
    assert {
        "encode-st-0",
        "encode-wrapper-0",
        "all-poolings-one-pass",
        "one-pass-per-pooling",
    } <= phases
    wrapper = next(r for r in ctx.timer.records if r.phase == "encode-wrapper-0")
    assert wrapper.throughput and wrapper.latency_p50_ms and wrapper.items == 1000


def test_lora_adapted_minilm_beats_the_frozen_one_on_held_out_triplets(ctx):
    """LoRA (rank 8, q/v) trained jointly with mean pooling on 1,200 WordNet triplets must
    beat the frozen MiniLM with the same pooling on 640 held-out triplets (anchor -> its gloss
    among 128 candidates, half of them other senses of the same word)."""
    import torch
    from benchbed_pooling import data, lora, trainable
    from benchbed_pooling.encoder import PoolingModel

    held_out = data.training_triplets()[-640:]
    assert not {t.anchor for t in held_out} & {t.anchor for t in data.training_triplets(1200)}
    frozen = PoolingModel("mean")
    require_asset(lambda: frozen.setup(ctx))
    adapted = PoolingModel("mean", lora_rank=8, train_pairs=1200, epochs=1, lr=1e-3)
    adapted.setup(ctx)
    losses = adapted.training_log["losses"]
    frozen_acc = trainable.encoder_accuracy(frozen.encode, held_out)
    adapted_acc = trainable.encoder_accuracy(adapted.encode, held_out)
    assert adapted_acc > frozen_acc + 0.01, (adapted_acc, frozen_acc, losses)
    # the shared frozen backbone is untouched by the adapted model's private copy
    assert not any(isinstance(m, lora.LoRALinear) for m in frozen.backbone.model.modules())
    # cached: the same cell again loads the same LoRA weights without training
    again = PoolingModel("mean", lora_rank=8, train_pairs=1200, epochs=1, lr=1e-3)
    again.setup(ctx)
    assert again.training_log == adapted.training_log
    for key, value in lora.lora_state(adapted.backbone.model).items():
        assert torch.equal(value, lora.lora_state(again.backbone.model)[key])


def test_lora_trains_jointly_with_a_trainable_pooler(ctx):
    """Both the backbone's LoRA weights and the pooler's weights leave their initial values."""
    import torch
    from benchbed_pooling import lora, trainable
    from benchbed_pooling.encoder import PoolingModel

    model = PoolingModel(
        "trainable-last", lora_rank=4, train_pairs=16, epochs=1, lora_batch=8, lr=1e-3
    )
    require_asset(lambda: model.setup(ctx))
    assert len(model.training_log["losses"]) == 1
    b = [v for k, v in lora.lora_state(model.backbone.model).items() if k.endswith("lora_B")]
    assert len(b) == 2 * 6 and all(float(v.abs().max()) > 0 for v in b)  # q and v of 6 layers
    torch.manual_seed(ctx.seed)
    untouched = trainable.make_pooler(
        "trainable-last", model.backbone.dim, model.backbone.num_layers, 32, 8
    )
    moved = [k for k, v in model.pooler.state_dict().items()
             if not torch.equal(v.cpu(), untouched.state_dict()[k])]  # fmt: skip
    assert "block.attention.out_proj.weight" in moved and "block.mlp.2.weight" in moved
    vectors = model.encode(["a dog", "a small dog", "an old contract"])
    assert vectors.shape == (3, model.backbone.dim)
