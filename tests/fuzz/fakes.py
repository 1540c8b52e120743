"""A stand-in for the optimisation, for tests of input handling.

`fake_optimisation` leaves VGG19 and the optimiser steps out of
`transfer`, `build_model` and `make_grid`: every check the library makes
of images and settings still runs. Importing this module imports no
Keras.
"""

import contextlib
from unittest import mock

import numpy as np

_LOSSES = {"total": 1.0, "content": 0.5, "style": 0.25, "tv": 0.25}
"""What every fake step and evaluation reports."""


class _Variable:
    """What the callbacks read of a Keras variable: `value`, `shape`."""

    def __init__(self, value):
        self.value = np.asarray(value)

    @property
    def shape(self):
        return self.value.shape

    def assign(self, value):
        self.value = np.asarray(value)


class FakeTransferModel:
    """Stands in for `StyleTransferModel`: no VGG19, no optimisation.

    It takes the inputs `build_model` prepared, as the real model does,
    and runs the callbacks over up to 3 steps (so `Snapshot`, `JsonlLogger`
    and the state checkpoint write their files); the picture is the start
    image. It has the variables the package's callbacks read.
    """

    def __init__(self, inputs, config, extractor):
        self.inputs = inputs
        self.config = config
        self.extractor = extractor
        self.image = _Variable(inputs.start)
        self.last_good_image = _Variable(inputs.start)
        self.nonfinite_step = _Variable(np.float32(0))
        self.steps_taken = _Variable(np.int64(0))
        self.average = None
        self.average_norm = None
        self.stop_training = False

    def compile(self, optimizer=None, **kwargs):
        self.optimizer = optimizer

    def optimize(self, iterations, callbacks=(), verbose="auto"):
        callbacks = list(callbacks)
        for callback in callbacks:
            callback.set_model(self)
            callback.on_train_begin()
        logs = dict(_LOSSES)
        for step in range(min(int(iterations), 3)):
            self.steps_taken.assign(step + 1)
            for callback in callbacks:
                callback.on_train_batch_end(step, logs)
        for callback in callbacks:
            callback.on_train_end()

    def get_image(self, raw=False):
        return np.clip(self.inputs.start[0], 0.0, 255.0)

    def evaluate_losses(self):
        return dict(_LOSSES)


@contextlib.contextmanager
def fake_optimisation():
    """Runs `transfer` and `grid` without VGG19 and optimiser steps."""
    from keras_nst import features
    from keras_nst import style_transfer

    def extractor(config):
        return object()

    with (
        mock.patch.object(
            style_transfer, "StyleTransferModel", FakeTransferModel
        ),
        mock.patch.object(style_transfer, "build_extractor", extractor),
        mock.patch.object(features, "build_extractor", extractor),
    ):
        yield
