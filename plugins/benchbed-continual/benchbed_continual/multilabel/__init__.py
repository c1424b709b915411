"""Multi-label class-incremental learning (MLCIL): mosaics of real images that carry the
labels of every item they show, a stream of tasks that each bring new labels, mAP / CF1 /
OF1 after every task, and prompt methods on a frozen pre-trained ViT (MULTI-LANE, L2P)
beside fine-tuning and LwF. See docs/multilabel.md."""
