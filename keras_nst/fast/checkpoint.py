"""Training checkpoints of fast style transfer: write, read, restore.

A checkpoint folder holds `transform.keras` (the network),
`optimizer.npz` (every optimiser variable, its step count included) and
`state.json` (`{"steps": n}`). All three are written to hidden partial
files first (`keras_nst.atomic.atomic_write`), and only once every one is
complete do they replace the previous checkpoint's, `state.json` last: a
save that fails or is interrupted while writing leaves the previous
checkpoint as it was and no partial file.
"""

import json
import os
from collections.abc import Callable
from collections.abc import Sequence

import keras
import numpy as np

from keras_nst.atomic import atomic_write
from keras_nst.fast.callbacks import _check_every
from keras_nst.fast.callbacks import optimizer_steps
from keras_nst.fast.config import CHECKPOINT_EVERY
from keras_nst.fast.network import TransformNet
from keras_nst.fast.network import load_transform

__all__ = [
    "Checkpoint",
    "read_checkpoint",
    "restore_optimizer",
]

NETWORK_FILE = "transform.keras"
OPTIMIZER_FILE = "optimizer.npz"
STATE_FILE = "state.json"


def _write_together(
    writes: Sequence[tuple[str, Callable[[str], object]]],
) -> None:
    """Writes each `(path, write)` atomically, all before any replaces.

    Each `write` fills its own partial file, nested in the next one's
    `atomic_write`: the first pair's file is renamed into place once every
    file is written, then the next, in order. Any failure removes every
    partial file and leaves every `path` as it was.
    """
    if not writes:
        return
    *first, (path, write) = writes

    def write_then_the_others(partial: str) -> None:
        write(partial)
        _write_together(first)

    atomic_write(path, write_then_the_others)


def _write_text(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)


class Checkpoint(keras.callbacks.Callback):
    """Saves the network and the optimiser every `every` steps.

    For `keras_nst.fast.train(..., resume=True)`. Steps are counted by the
    optimiser, so a resumed run saves at the same steps an uninterrupted
    one would. The last step of a `fit` is always saved.

    Args:
        directory: where the checkpoint goes (created if missing).
        every: steps between checkpoints.

    Example:

    ```python
    trainer.fit(crops, callbacks=[Checkpoint("run_checkpoint/", 100)])
    ```
    """

    def __init__(
        self, directory: str | os.PathLike, every: int = CHECKPOINT_EVERY
    ):
        super().__init__()
        _check_every(every)
        self.directory = os.fspath(directory)
        self.every = every
        self.saved_step: int | None = None

    def on_train_batch_end(self, batch, logs=None):
        if optimizer_steps(self.model) % self.every == 0:
            self.save()

    def on_train_end(self, logs=None):
        if optimizer_steps(self.model) != self.saved_step:
            self.save()

    def save(self) -> None:
        """Writes the checkpoint of the model's current step now."""
        os.makedirs(self.directory, exist_ok=True)
        model = self.model
        steps = optimizer_steps(model)
        values = {
            str(i): np.asarray(v.numpy())
            for i, v in enumerate(model.optimizer.variables)
        }
        _write_together(
            [
                (self._path(NETWORK_FILE), model.transform.save),
                (
                    self._path(OPTIMIZER_FILE),
                    lambda path: np.savez(path, **values),
                ),
                # Last, so a checkpoint with a state file is complete.
                (
                    self._path(STATE_FILE),
                    lambda path: _write_text(
                        path, json.dumps({"steps": steps})
                    ),
                ),
            ]
        )
        self.saved_step = steps

    def _path(self, name: str) -> str:
        return os.path.join(self.directory, name)


def read_checkpoint(directory: str | os.PathLike) -> tuple[int, TransformNet]:
    """Reads the step count and the network of a checkpoint.

    Args:
        directory: a folder `Checkpoint` wrote.

    Returns:
        `(steps, network)`: the steps done and the `TransformNet`.

    Raises:
        FileNotFoundError: there is no checkpoint in `directory`.
    """
    directory = os.fspath(directory)
    state_path = os.path.join(directory, STATE_FILE)
    if not os.path.isfile(state_path):
        raise FileNotFoundError(f"No checkpoint to resume in '{directory}'")
    with open(state_path, encoding="utf-8") as file:
        steps = int(json.load(file)["steps"])
    return steps, load_transform(os.path.join(directory, NETWORK_FILE))


def restore_optimizer(
    optimizer: keras.optimizers.Optimizer, directory: str | os.PathLike
) -> int:
    """Sets a built optimiser's variables to a checkpoint's.

    Args:
        optimizer: an optimiser built on the network's variables, of the
            kind the checkpoint was written with.
        directory: a folder `Checkpoint` wrote.

    Returns:
        The step count the optimiser is at now.

    Raises:
        ValueError: the checkpoint's optimiser state does not fit this
            optimiser.
    """
    directory = os.fspath(directory)
    with np.load(os.path.join(directory, OPTIMIZER_FILE)) as saved:
        if len(saved.files) != len(optimizer.variables):
            raise ValueError(
                f"The checkpoint in '{directory}' has "
                f"{len(saved.files)} optimiser variables; this run has "
                f"{len(optimizer.variables)}."
            )
        for i, variable in enumerate(optimizer.variables):
            value = saved[str(i)]
            if tuple(value.shape) != tuple(variable.shape):
                raise ValueError(
                    f"The checkpoint in '{directory}' does not fit this "
                    f"network: optimiser variable {variable.path} has shape "
                    f"{tuple(variable.shape)}, the checkpoint's "
                    f"{tuple(value.shape)}."
                )
            variable.assign(value)
    return int(keras.ops.convert_to_numpy(optimizer.iterations))
