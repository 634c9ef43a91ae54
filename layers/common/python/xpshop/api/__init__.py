"""The HTTP APIs' request and response models."""
