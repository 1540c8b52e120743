"""The optimisers a run can use, by name."""

import keras

from keras_nst.config import OPTIMIZERS
from keras_nst.lbfgs import LBFGS

__all__ = ["get_optimizer"]

_FACTORIES = {
    # Adam with Keras' defaults (beta_1 0.9, beta_2 0.999), as all seeds use.
    "adam": lambda learning_rate, history, line_search: keras.optimizers.Adam(
        learning_rate
    ),
    "lbfgs": lambda learning_rate, history, line_search: LBFGS(
        history_size=history, line_search=line_search
    ),
}


def get_optimizer(
    name: str,
    learning_rate: float,
    lbfgs_history: int = 20,
    line_search: str = "none",
) -> keras.optimizers.Optimizer:
    """Returns a new optimiser.

    Args:
        name: one of `keras_nst.config.OPTIMIZERS`.
        learning_rate: Adam's step size, in pixel units (the image is
            0..255); L-BFGS takes unit steps and ignores it.
        lbfgs_history: the number of curvature pairs L-BFGS keeps.
        line_search: L-BFGS's step rule, `"none"` or `"armijo"`.

    Returns:
        A `keras.optimizers.Optimizer`.

    Raises:
        ValueError: an unknown `name` or `line_search`.

    Example:

    ```python
    model.compile(optimizer=get_optimizer("lbfgs", 1.0, lbfgs_history=50))
    ```
    """
    if name not in OPTIMIZERS:
        raise ValueError(
            f"Expected optimizer to be one of {OPTIMIZERS}. "
            f"Received: optimizer={name!r}"
        )
    return _FACTORIES[name](learning_rate, lbfgs_history, line_search)
