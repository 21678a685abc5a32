"""Training: dual-encoder retrievers (InfoNCE with hard negatives); heavy imports are lazy."""
