"""Few-shot methods, one per module; each class has predict(EpisodeBatch) -> (E, N*Q) labels."""
