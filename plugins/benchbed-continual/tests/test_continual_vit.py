"""The ViT backbone and gca-cfdc (gated class-attention + cascaded feature drift compensation),
on sklearn digits shaped as 8x8 images (seconds) and hand-made tensors."""

import pytest
import torch

from benchbed import BenchbedError

# A tiny ViT: 2x2 patches of the 8x8 digits (16 tokens), one self-attention block of width 32.
TINY = {"patch": 2, "dim": 32, "depth": 1, "heads": 2}


def digits_vit(ctx, iters: int):
    from benchbed_continual.benchmarks import Protocol, split_stream

    from benchbed.data.images import load_digits

    protocol = Protocol(
        hidden=100,
        batch_size=32,
        iters=iters,
        memory=100,
        backbone="vit",
        image_shape=(1, 8, 8),
        vit=TINY,
    )
    return split_stream(load_digits, "class", protocol, ctx)


def train(learner, stream, contexts=5):
    """Learn `contexts` contexts; the final accuracy on each of them."""
    learner.prepare(stream.setting)
    for t in range(contexts):
        learner.learn(stream.train(t))
    accuracies = []
    for t in range(contexts):
        x, y = stream.test(t)
        accuracies.append(float((learner.predict(x, t) == y).float().mean()))
    return accuracies


# -- the backbone ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["naive", "lwf", "ewc", "replay"])
def test_existing_methods_run_unchanged_on_the_vit(ctx, build, method):
    from benchbed_continual.vit import ViT

    learner = build(method, iters=5)
    accuracies = train(learner, digits_vit(ctx, 5), contexts=2)
    assert isinstance(learner.net, ViT) and len(accuracies) == 2
    if method == "ewc":
        # One Fisher per parameter of the ViT, from its own per-example gradients.
        fisher, _ = learner.anchors[0]
        assert fisher.keys() == dict(learner.net.named_parameters()).keys()
        assert all(f.min() >= 0 for f in fisher.values())
        assert sum(float(f.sum()) for f in fisher.values()) > 0


def test_replay_beats_naive_on_the_vit(ctx, build):
    naive = train(build("naive"), digits_vit(ctx, 100))
    replay = train(build("replay"), digits_vit(ctx, 100))
    assert sum(naive) / 5 < 0.25
    assert sum(replay) / 5 > sum(naive) / 5 + 0.2


def test_generic_fisher_equals_the_linear_layer_formula():
    """The per-example (torch.func) Fisher of the ViT path, on an MLP hidden from the
    Sequential check, equals the closed form that the MLP path uses."""
    from benchbed_continual.learner import Setting
    from benchbed_continual.methods.ewc import EWC, fisher_diagonal

    class Wrapped(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.inner = net

        def forward(self, x):
            return self.inner(x)

    torch.manual_seed(0)
    masks = torch.ones(1, 10, dtype=torch.bool)
    learner = EWC()
    learner.prepare(Setting("class", 12, 10, 1, masks, hidden=7))
    x, c = torch.rand(40, 12), torch.zeros(40, dtype=torch.long)
    state = learner.generator.get_state()
    closed_form = fisher_diagonal(learner, x, c)
    learner.generator.set_state(state)  # the same sampled labels
    learner.net = Wrapped(learner.net)
    generic = fisher_diagonal(learner, x, c)
    for name, value in closed_form.items():
        assert torch.allclose(generic[f"inner.{name}"], value, rtol=1e-4, atol=1e-9)


def test_backbone_errors():
    from benchbed_continual.learner import Setting, build_network

    masks = torch.ones(1, 10, dtype=torch.bool)
    with pytest.raises(BenchbedError, match="unknown backbone"):
        build_network(Setting("class", 64, 10, 1, masks, backbone="resnet"))
    with pytest.raises(BenchbedError, match="image_shape"):
        build_network(Setting("class", 64, 10, 1, masks, backbone="vit"))


def test_mlp_protocols_keep_their_cache_keys():
    from benchbed_continual.benchmarks import protocol_record
    from benchbed_continual.learner import Setting

    masks = torch.ones(1, 10, dtype=torch.bool)
    mlp = protocol_record(Setting("class", 64, 10, 1, masks))
    assert not {"backbone", "image_shape", "vit"} & mlp.keys()
    vit = protocol_record(Setting("class", 64, 10, 1, masks, backbone="vit", image_shape=(1, 8, 8)))
    assert vit["backbone"] == "vit" and vit["image_shape"] == (1, 8, 8)


# -- gated class-attention ------------------------------------------------------------------


def test_gated_class_attention_with_open_masks_is_the_block():
    from benchbed_continual.methods.gca_cfdc import gated_class_attention
    from benchbed_continual.vit import ViT, ViTConfig

    torch.manual_seed(0)
    vit = ViT(ViTConfig(image_shape=(1, 8, 8), **TINY), 10)
    cls, tokens = torch.randn(3, 1, 32), torch.randn(3, 16, 32)
    block = vit.class_attention
    gated = gated_class_attention(block, cls, tokens, torch.ones(32), torch.ones(64))
    assert torch.allclose(gated, block(cls, tokens), atol=1e-6)
    # A closed unit is zero in everything the block adds to the class token.
    unit = torch.ones(32)
    unit[5] = 0
    closed = gated_class_attention(block, cls, tokens, unit, torch.ones(64))
    assert torch.allclose(closed[..., 5], cls[..., 5])


def gca_on_tiny_vit(ctx, build, **params):
    learner = build("gca-cfdc", iters=3, **params)
    stream = digits_vit(ctx, 3)
    learner.prepare(stream.setting)
    return learner, stream


def test_the_gate_blocks_the_gradients_of_protected_units(ctx, build):
    learner, stream = gca_on_tiny_vit(ctx, build)
    learner.learn(stream.train(0))
    # Hand-made protection: units 0-9 of the width and hidden units 0-19 are taken.
    unit, hidden = torch.zeros(32), torch.zeros(64)
    unit[:10], hidden[:20] = 1, 1
    learner.used = (unit, hidden)
    experience = stream.train(1)
    learner.seen = 1
    learner.before_context(experience)
    learner.step = 0
    x, y = experience.x[:32], experience.y[:32]
    learner.optimizer.zero_grad()
    learner.batch_loss(x, y, learner.context_ids(1, 32), experience).backward()
    learner.after_backward(experience)
    block = learner.net.vit.class_attention
    q, fc1, fc2 = block.attn.q.weight.grad, block.mlp[0].weight.grad, block.mlp[2].weight.grad
    assert (q[:10, :10] == 0).all() and (q[10:, :] != 0).any() and (q[:10, 10:] != 0).any()
    assert (fc1[:20, :10] == 0).all() and (fc1[20:, :] != 0).any()
    assert (fc2[:10, :20] == 0).all() and (fc2[:10, 20:] != 0).any()
    kv = block.attn.kv.weight.grad  # keys' rows 0-31, values' rows 32-63
    assert (kv[:10, :10] == 0).all() and (kv[32:42, :10] == 0).all()
    assert (block.attn.out.bias.grad[:10] == 0).all() and (block.attn.q.bias.grad[:10] == 0).all()
    assert (block.attn.out.bias.grad[10:] != 0).any()


def test_an_earlier_contexts_path_is_exactly_kept(ctx, build):
    """After learning context 1, context 0's token, mask, block path and head give the same
    logits as before on the same patch tokens (the drift of the backbone aside)."""
    learner, stream = gca_on_tiny_vit(ctx, build, drift_compensation=False)
    learner.learn(stream.train(0))
    net = learner.net
    tokens = torch.randn(4, 16, 32)
    with torch.no_grad():
        before = net.logits(tokens)[:, net.classes[0]]
    learner.learn(stream.train(1))
    with torch.no_grad():
        after = net.logits(tokens)[:, net.classes[0]]
    assert torch.equal(before, after)
    assert learner.net.vit.class_attention.attn.q.weight.requires_grad  # not simply frozen


# -- cascaded feature drift compensation -----------------------------------------------------


def test_a_projector_learns_back_a_known_linear_drift():
    """new = old A + b on features that span a 3-dimensional subspace of the 8 channels (a
    ReLU layer as wide as the features maps a subspace of up to half their width linearly):
    the projector trained with the drift term carries new features back to the old ones."""
    from benchbed_continual.methods.gca_cfdc import projector

    torch.manual_seed(0)
    d, n_tokens = 8, 4
    A = torch.eye(d) + 0.3 * torch.randn(d, d)
    b = torch.randn(d)
    basis = torch.randn(3, d)

    def features(n):
        return torch.randn(n, n_tokens, 3) @ basis

    old = features(512)
    p = projector(d, n_tokens)
    optimizer = torch.optim.Adam(p.parameters(), lr=1e-2)
    for _ in range(600):
        optimizer.zero_grad()
        torch.linalg.vector_norm(old - p(old @ A + b)).backward()
        optimizer.step()
    held_out = features(64)
    size = torch.linalg.vector_norm(held_out)
    with torch.no_grad():
        carried = torch.linalg.vector_norm(held_out - p(held_out @ A + b)) / size
    uncompensated = torch.linalg.vector_norm(held_out - (held_out @ A + b)) / size
    assert uncompensated > 0.5 and carried < 0.05


def test_the_cascade_carries_each_context_back_to_its_own_space(ctx, build):
    """Three contexts, hand-set linear projectors: context 0 reads P0(P1(x)), context 1 P1(x),
    context 2 x."""
    learner, _ = gca_on_tiny_vit(ctx, build)
    net = learner.net
    for k in range(3):
        net.add_context([2 * k, 2 * k + 1])
    for scale in (2.0, 3.0):
        layer = torch.nn.Linear(32, 32, bias=False)
        torch.nn.init.eye_(layer.weight)
        layer.weight.data *= scale
        net.projectors.append(layer)
    x = torch.randn(2, 16, 32)
    carried = net.carried_back(x)
    assert torch.allclose(carried[2], x)
    assert torch.allclose(carried[1], 3 * x)  # P1: context 2's space to context 1's
    assert torch.allclose(carried[0], 6 * x)  # then P0: context 1's to context 0's


# -- the method -----------------------------------------------------------------------------


def test_gca_cfdc_beats_naive_in_class_il(ctx, build):
    naive = train(build("naive"), digits_vit(ctx, 200))
    # The drift term's weight is the paper's times 100: these 16-token, width-32 features are
    # 200 times fewer per batch than the paper's, and 200 steps per context are few.
    gca = train(build("gca-cfdc", lambda_drift=0.1), digits_vit(ctx, 200))
    # Naive keeps only the last context; gca-cfdc keeps an earlier one through the new ones
    # (on seed 0: 0.97 on context 0 at the end) and ends higher on average.
    assert max(naive[:-1]) < 0.1 and max(gca[:-1]) > 0.5
    assert sum(gca) > sum(naive)


def test_gca_cfdc_refuses_what_it_cannot_run(ctx, tasks, build):
    with pytest.raises(BenchbedError, match="ViT"):
        tasks["continual/split-digits/class-il"].evaluate(build("gca-cfdc", iters=1), ctx)
    with pytest.raises(BenchbedError, match="smax"):
        build("gca-cfdc", smax=1.0)


def test_the_vit_tasks_are_registered(tasks):
    assert "continual/split-fashion-mnist-vit/class-il" in tasks
    assert "continual/clipart-vit/class-il" in tasks


@pytest.mark.slow
def test_the_clipart_split():
    from benchbed_continual.vit_tasks import CLIPART_CLASSES, clipart_split

    from benchbed.assets import MissingAsset
    from benchbed.data.clipart import load_clipart

    try:
        _, labels, _ = load_clipart()
    except MissingAsset as exc:
        pytest.skip(str(exc))
    split = clipart_split(labels)
    assert not set(split["train"]) & set(split["test"])
    assert len(split["train"]) == 2003 and len(split["test"]) == 500
    for name in CLIPART_CLASSES:
        n_test = int((labels[split["test"]] == name).sum())
        n_train = int((labels[split["train"]] == name).sum())
        assert n_test == round(0.2 * min(200, n_test + n_train)) and n_train >= 50
