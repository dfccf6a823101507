"""Hydra configs of the `sample` and `evaluate` commands (kept apart from the training groups:
`metrics=[fid,kid]` is a plain value here, while training has a `metrics` config group)."""
