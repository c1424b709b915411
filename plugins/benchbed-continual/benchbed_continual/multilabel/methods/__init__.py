"""Multi-label continual methods, registered as `multilabel-continual-learner` models.

No torch here: the plugin's registration imports this dict.
"""

# The benchmark's budget, which every method shares; None keeps the task's protocol. The
# learning rate is each method's own parameter (None: the method's default).
PROTOCOL = {"iters": None, "batch_size": None}

_HERE = "benchbed_continual.multilabel.methods"

# name -> (module:class, description, its own parameters with defaults)
METHODS = {
    "mlcil-finetune": (
        f"{_HERE}.finetune:FineTune",
        "fine-tunes the frozen ViT's class-attention block, final norm and a linear head on "
        "each task in turn (lower bound)",
        {"lr": None},
    ),
    "mlcil-lwf": (
        f"{_HERE}.lwf:MultilabelLwF",
        "learning without forgetting (Li & Hoiem 2016) for multi-label: BCE to the previous "
        "model's sigmoid scores of the old labels",
        {"lr": None, "lwf_lambda": 1.0},
    ),
    "l2p": (
        f"{_HERE}.l2p:L2P",
        "learning to prompt (Wang et al. 2022): a prompt pool with key-query selection",
        {"lr": None, "pool_size": 10, "prompt_length": 5, "top_k": 5, "key_lambda": 0.1},
    ),
    "multi-lane": (
        f"{_HERE}.multilane:MultiLane",
        "MULTI-LANE (De Min et al. 2024): one prompt pathway per task on summarised patch "
        "tokens, all pathways at inference",
        {"lr": None, "selectors": 4, "prompt_length": 4, "prompt_blocks": 2, "summarise": True},
    ),
}
