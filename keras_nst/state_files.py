"""Where a run keeps its state to resume from. Nothing here imports Keras."""

import os

__all__ = ["STATE_SUFFIX", "state_path"]

STATE_SUFFIX = ".state.npz"
"""What `state_path` adds to an output's name."""


def state_path(output: str | os.PathLike) -> str:
    """The state file of a run that writes `output`: `out.png.state.npz`."""
    return os.fspath(output) + STATE_SUFFIX
