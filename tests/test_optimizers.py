import inspect

import keras
import pytest

from keras_nst.config import Config
from keras_nst.lbfgs import LBFGS
from keras_nst.optimizers import get_optimizer


def test_adam_with_the_learning_rate_and_keras_betas():
    optimizer = get_optimizer("adam", 3.5)
    # (The PyTorch backend returns its own subclass.)
    assert isinstance(optimizer, keras.optimizers.Adam)
    assert float(optimizer.learning_rate) == pytest.approx(3.5)
    assert optimizer.beta_1 == 0.9 and optimizer.beta_2 == 0.999


def test_lbfgs_with_its_settings_and_unit_steps():
    optimizer = get_optimizer(
        "lbfgs", 3.5, lbfgs_history=7, line_search="armijo"
    )
    assert type(optimizer) is LBFGS
    assert optimizer.history_size == 7
    assert optimizer.line_search == "armijo"
    assert optimizer.needs_loss
    # L-BFGS takes unit steps; Adam's learning rate is not its.
    assert float(optimizer.learning_rate) == 1.0


def test_defaults_are_the_configs():
    optimizer = get_optimizer("lbfgs", 1.0)
    assert optimizer.history_size == Config().lbfgs_history
    assert optimizer.line_search == Config().line_search
    assert not optimizer.needs_loss
    for function, names in (
        (get_optimizer, ("lbfgs_history", "line_search")),
        (LBFGS, ("history_size", "line_search")),
    ):
        defaults = inspect.signature(function).parameters
        values = [defaults[name].default for name in names]
        assert values == [Config().lbfgs_history, Config().line_search]


def test_each_call_is_a_new_optimiser():
    assert get_optimizer("adam", 1.0) is not get_optimizer("adam", 1.0)


@pytest.mark.parametrize(
    "args, match",
    [
        (("sgd", 1.0), r"Received: optimizer='sgd'"),
        (("Adam", 1.0), r"did you mean 'adam'\?"),
        (("lbfgs", 1.0, 20, "wolfe"), r"Received: line_search='wolfe'"),
        (("lbfgs", 1.0, 0), r"Received: history_size=0"),
    ],
)
def test_bad_settings_raise(args, match):
    with pytest.raises(ValueError, match=match):
        get_optimizer(*args)
