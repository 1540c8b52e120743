"""Saving a run's whole state, so a stopped run can go on where it was.

The state is what the steps change: the image, the guard's and the
moving average's variables, and the optimiser's variables (Adam's
moments, L-BFGS's history and line search, the iteration count). Content
features and style Grams are not kept: they are recomputed from the
images, exactly. A run resumed from a state ends where the uninterrupted
run would have.
"""

import dataclasses
import json
import os

import keras
import numpy as np
from keras import ops

from keras_nst.atomic import atomic_write
from keras_nst.config import Config
from keras_nst.interrupt import requested_signal

__all__ = ["RunState", "StateCheckpoint", "load_state", "save_state"]

_FORMAT = 1


def _model_variables(model) -> list:
    # What the steps change, in a fixed order; never VGG19's weights.
    names = (
        "image", "last_good_image", "nonfinite_step", "steps_taken",
        "average", "average_norm",
    )  # fmt: skip
    return [getattr(model, n) for n in names if getattr(model, n) is not None]


# Settings a run may resume with changed: tiling changes how much memory
# a step takes, not its result (a run stopped for memory resumes tiled).
_ANY_VALUE = frozenset({"tile_size", "max_memory"})


@dataclasses.dataclass(frozen=True)
class RunState:
    """A saved run: where it was, its settings and its variables.

    Attributes:
        scale: the index of the scale being run (0 for a one-scale run).
        step: the steps done in that scale.
        done: the steps done over all scales (what callbacks count).
        config: the run's settings, as `Config.to_dict()`.
        model: the model's step variables (`_model_variables` order).
        optimizer: the optimiser's variables, in its order.
    """

    scale: int
    step: int
    done: int
    config: dict
    model: list[np.ndarray]
    optimizer: list[np.ndarray]

    def check_config(self, config: Config) -> None:
        """Raises `ValueError` unless `config` is the run's own."""
        given = json.loads(json.dumps(config.to_dict()))
        changed = sorted(
            key
            for key in given
            if given[key] != self.config.get(key) and key not in _ANY_VALUE
        )
        if changed:
            saved = ", ".join(f"{k}={self.config.get(k)!r}" for k in changed)
            raise ValueError(
                "Resume with the settings the run was started with; "
                f"it had {saved}."
            )

    def restore(self, model: keras.Model) -> None:
        """Puts the saved variables into a compiled model of this scale."""
        variables = _model_variables(model)
        optimizer = model.optimizer.variables
        shapes = [tuple(v.shape) for v in variables + optimizer]
        saved = [a.shape for a in self.model + self.optimizer]
        if shapes != saved:
            raise ValueError(
                "The saved state does not fit this run (were the images "
                f"changed?). Expected shapes {saved}. Received: {shapes}"
            )
        for variable, value in zip(
            variables + optimizer, self.model + self.optimizer, strict=True
        ):
            variable.assign(value)


def save_state(
    path: str, model: keras.Model, config: Config, scale: int, done: int
) -> None:
    """Writes the state of `model`, running scale `scale`, atomically.

    Args:
        path: the state file, ending in `.npz`.
        model: a compiled `StyleTransferModel`.
        config: the run's settings (a scale's model has its own size).
        scale: the index of its scale.
        done: the steps done in the scales before it.
    """
    model_values = [
        ops.convert_to_numpy(v.value) for v in _model_variables(model)
    ]
    optimizer_values = [
        ops.convert_to_numpy(v.value) for v in model.optimizer.variables
    ]
    step = int(model_values[3])
    header = {
        "format": _FORMAT,
        "scale": scale,
        "step": step,
        "done": done + step,
        "config": config.to_dict(),
    }
    arrays = {f"model_{i}": a for i, a in enumerate(model_values)}
    arrays.update({f"optimizer_{i}": a for i, a in enumerate(optimizer_values)})

    def write(partial):
        with open(partial, "wb") as file:
            np.savez(file, header=np.array(json.dumps(header)), **arrays)

    atomic_write(path, write)


def load_state(path: str | os.PathLike) -> RunState:
    """Reads a state file written during a run.

    Raises:
        FileNotFoundError: there is no state file (the run finished, or
            never saved one).
        ValueError: the file is not a keras-nst run state.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"No saved state to resume from: '{path}' (a run saves it when "
            "it is interrupted and with every snapshot, and removes it when "
            "it finishes)."
        )
    try:
        with np.load(path, allow_pickle=False) as file:
            header = json.loads(str(file["header"]))
            model = _numbered(file, "model")
            optimizer = _numbered(file, "optimizer")
        if header.get("format") != _FORMAT:
            raise ValueError(f"unknown format {header.get('format')!r}")
        return RunState(
            scale=int(header["scale"]),
            step=int(header["step"]),
            done=int(header["done"]),
            config=header["config"],
            model=model,
            optimizer=optimizer,
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f"Cannot read '{path}' as a keras-nst run state: {error}"
        ) from None


def _numbered(file, prefix: str) -> list[np.ndarray]:
    count = sum(1 for key in file.files if key.startswith(prefix + "_"))
    return [file[f"{prefix}_{i}"] for i in range(count)]


class StateCheckpoint(keras.callbacks.Callback):
    """Saves the run's state every `every` steps and when a signal stops it.

    `optimize` gives it the scale each `fit` runs (`begin_scale`).

    Args:
        path: the state file (`keras_nst.state_files.state_path`).
        config: the run's settings.
        every: save after every `every`-th step of the run; `None` saves
            only when the run is interrupted.
    """

    def __init__(self, path: str, config: Config, every: int | None = None):
        super().__init__()
        self.path = path
        self.config = config
        self.every = every
        self.scale = 0
        self.done = 0
        self._start = 0

    def begin_scale(self, scale: int, done: int) -> None:
        """The next `fit` runs scale `scale`, after `done` steps."""
        self.scale = scale
        self.done = done

    def on_train_begin(self, logs=None):
        # Steps already taken in this scale: non-zero in a resumed one.
        self._start = int(ops.convert_to_numpy(self.model.steps_taken.value))

    def on_train_batch_end(self, batch, logs=None):
        if self.every is None:
            return
        if (self.done + self._start + batch + 1) % self.every:
            return
        if float(ops.convert_to_numpy(self.model.nonfinite_step.value)) > 0:
            return  # a state that would only stop again
        save_state(self.path, self.model, self.config, self.scale, self.done)

    def on_train_end(self, logs=None):
        if requested_signal() is not None:
            save_state(
                self.path, self.model, self.config, self.scale, self.done
            )
