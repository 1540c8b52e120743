"""The optimisers a run can use, by name."""

import keras

from keras_nst.choices import OPTIMIZERS
from keras_nst.config import Config
from keras_nst.lbfgs import LBFGS
from keras_nst.settings import check_choice

__all__ = ["get_optimizer", "optimizer_for"]


def get_optimizer(
    name: str,
    learning_rate: float,
    lbfgs_history: int = Config.lbfgs_history,
    line_search: str = Config.line_search,
) -> keras.optimizers.Optimizer:
    """Returns a new optimiser.

    The defaults are `keras_nst.config.Config`'s.

    Args:
        name: one of `keras_nst.choices.OPTIMIZERS`.
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
    check_choice("optimizer", name, OPTIMIZERS)
    if name == "lbfgs":
        return LBFGS(history_size=lbfgs_history, line_search=line_search)
    # Adam with Keras' defaults (beta_1 0.9, beta_2 0.999), as all seeds use.
    return keras.optimizers.Adam(learning_rate)


def optimizer_for(config: Config) -> keras.optimizers.Optimizer:
    """A new optimiser with a run's optimiser settings (`get_optimizer`)."""
    return get_optimizer(
        config.optimizer,
        config.learning_rate,
        config.lbfgs_history,
        config.line_search,
    )
