import numpy as np
from click.testing import CliRunner

from keras_nst import cli


def invoke(*args):
    """Runs `keras-nst ARGS...` in this process; returns Click's result."""
    return CliRunner().invoke(cli.main, [str(a) for a in args])


class FakeModel:
    """What `_optimize` returns, for tests that only check the settings."""

    def get_image(self):
        return np.zeros((4, 4, 3), "float32")


def record_optimize(monkeypatch, seen):
    """Replaces the optimisation by one that records the run's `Config`."""
    from keras_nst.cli import optimization

    def fake_optimize(content, styles, output, config, *rest):
        seen["config"] = config
        return FakeModel()

    monkeypatch.setattr(optimization, "_optimize", fake_optimize)
