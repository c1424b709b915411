"""LoRA on tiny randomly initialised backbones (no asset): exact identity at initialisation,
only LoRA weights move in training, and end-to-end contrastive training lowers the loss."""

import copy

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from benchbed_pooling import lora, trainable  # noqa: E402
from benchbed_pooling.pooling import pool  # noqa: E402

from benchbed import BenchbedError  # noqa: E402


def tiny_llama():
    config = transformers.LlamaConfig(vocab_size=50, hidden_size=32, intermediate_size=64,
                                      num_hidden_layers=2, num_attention_heads=4,
                                      num_key_value_heads=2, max_position_embeddings=64)  # fmt: skip
    torch.manual_seed(0)
    return transformers.LlamaModel(config).eval()


def tiny_bert():
    config = transformers.BertConfig(vocab_size=50, hidden_size=32, intermediate_size=64,
                                     num_hidden_layers=2, num_attention_heads=4,
                                     max_position_embeddings=64)  # fmt: skip
    torch.manual_seed(0)
    return transformers.BertModel(config).eval()


IDS = torch.tensor([[3, 7, 9, 11, 2], [5, 6, 1, 0, 0]])
MASK = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])


def states(model):
    return model(input_ids=IDS, attention_mask=MASK, output_hidden_states=True).hidden_states


@pytest.mark.parametrize(
    "build, names", [(tiny_llama, ("q_proj", "v_proj")), (tiny_bert, ("query", "value"))]
)
def test_lora_at_init_is_exactly_the_frozen_model_and_one_step_moves_only_lora(build, names):
    frozen = build()
    adapted = copy.deepcopy(frozen)
    torch.manual_seed(1)
    wrapped = lora.add_lora(adapted, rank=4, alpha=8.0)
    assert len(wrapped) == 2 * 2 and {w.rsplit(".", 1)[1] for w in wrapped} == set(names)
    with torch.no_grad():
        for a, b in zip(states(frozen), states(adapted)):
            assert torch.equal(a, b)
    before = {k: v.clone() for k, v in adapted.state_dict().items()}
    trained = [p for p in adapted.parameters() if p.requires_grad]
    assert len(trained) == 2 * len(wrapped)  # A and B of each wrapped projection
    opt = torch.optim.AdamW(trained, lr=1e-2)
    loss = pool("mean", states(adapted)[-1], MASK).pow(2).sum()
    loss.backward()
    opt.step()
    after = adapted.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(".lora_" in k for k in changed)
    # B left zero: with B = 0 every gradient reaches B only, so B must have moved
    assert all(k.endswith("lora_B") or k.endswith("lora_A") for k in changed)
    assert any(k.endswith("lora_B") for k in changed)


def test_lora_output_is_the_low_rank_update_scaled_by_alpha_over_r():
    torch.manual_seed(0)
    base = torch.nn.Linear(6, 5)
    layer = lora.LoRALinear(base, rank=2, alpha=6.0)
    with torch.no_grad():
        layer.lora_B.copy_(torch.randn(5, 2))
    x = torch.randn(3, 6)
    expected = base(x) + 3.0 * x @ (layer.lora_B @ layer.lora_A).T
    assert torch.allclose(layer(x), expected, atol=1e-6)
    assert not base.weight.requires_grad and layer.lora_A.requires_grad


def test_lora_state_round_trips_and_rejects_another_shape():
    model = tiny_llama()
    torch.manual_seed(0)
    lora.add_lora(model, rank=2, alpha=4.0)
    state = lora.lora_state(model)
    assert state and all(".lora_" in k for k in state)
    other = tiny_llama()
    lora.add_lora(other, rank=2, alpha=4.0)
    lora.load_lora_state(other, state)
    assert all(torch.equal(v, lora.lora_state(other)[k]) for k, v in state.items())
    with pytest.raises(BenchbedError, match="do not fit"):
        lora.load_lora_state(other, {"layers.0.self_attn.k_proj.lora_A": torch.zeros(1)})


def test_bad_lora_settings_are_clear_errors():
    with pytest.raises(BenchbedError, match="no attention projection"):
        lora.add_lora(torch.nn.Sequential(torch.nn.Linear(2, 2)), rank=2, alpha=2.0)
    with pytest.raises(BenchbedError, match="at least 1"):
        lora.LoRALinear(torch.nn.Linear(2, 2), rank=0, alpha=2.0)
    from benchbed_pooling.encoder import PoolingModel

    with pytest.raises(BenchbedError, match="lora_rank"):
        PoolingModel("mean", lora_rank=-1)


def test_end_to_end_training_lowers_the_loss_and_is_seeded():
    """LoRA + last-token pooling of a tiny decoder on synthetic triplets: each text is its
    token ids; the positive shares the anchor's first tokens, the negative does not."""
    Triplet = __import__("benchbed_pooling.data", fromlist=["Triplet"]).Triplet
    gen = torch.Generator().manual_seed(2)
    seqs, triplets = {}, []
    for i in range(16):
        head = torch.randint(3, 50, (3,), generator=gen)
        for part, tokens in (("a", head), ("p", torch.cat([head, torch.randint(3, 50, (2,), generator=gen)])),
                             ("n", torch.randint(3, 50, (4,), generator=gen))):  # fmt: skip
            seqs[f"{part}{i}"] = tokens
        triplets.append(Triplet(f"a{i}", f"p{i}", f"n{i}"))

    runs = []
    for _ in range(2):
        model = tiny_llama()
        torch.manual_seed(0)
        lora.add_lora(model, rank=4, alpha=8.0)

        def embed(texts, model=model):
            ids = torch.nn.utils.rnn.pad_sequence([seqs[t] for t in texts], batch_first=True)
            mask = (ids != 0).long()
            out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
            return pool("last", out.hidden_states[-1], mask)

        params = [p for p in model.parameters() if p.requires_grad]
        runs.append(trainable.train_end_to_end(embed, params, triplets, seed=3, epochs=12,
                                               batch_size=8, lr=1e-2))  # fmt: skip
    assert runs[0] == runs[1]
    assert runs[0][-1] < runs[0][0] - 0.1, runs[0]
