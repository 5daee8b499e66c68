"""Deep-learning optimizers and schedules as literate chapters."""
