"""L-BFGS as a Keras optimiser, in `keras.ops` so it runs on every backend.

Gatys et al. and jcjohnson/neural-style optimise with L-BFGS. This one takes
one loss and gradient evaluation per step, like Adam, so it drops into `fit`
and the `train_step` of `StyleTransferModel` unchanged, and the optimisers
can be compared at equal gradient evaluations.

Without a line search (`line_search="none"`, as `torch.optim.LBFGS` with
`line_search_fn=None`, the configuration jcjohnson/neural-style uses) every
step moves by `learning_rate` (1 by default) times the quasi-Newton
direction, except the very first, a gradient step scaled so that no value
moves by more than `learning_rate`, because there is no curvature
information yet.

With `line_search="armijo"` a step is a trial: the next evaluation checks
the sufficient-decrease (Armijo) condition
`f(x + t d) <= f(x) + c1 t g.d` and, if it fails, halves `t` and tries
again from `x`, up to `max_backtracks` times. Each trial costs one
evaluation, so the search spreads over successive steps instead of hiding
extra evaluations inside one. It needs the loss, not only the gradient:
the caller assigns it to `loss_variable` before `apply`, as
`StyleTransferModel.apply_step` does.

The image is projected to 0..255 after every step by the model, so the
curvature pairs `s = x_{k+1} - x_k`, `y = g_{k+1} - g_k` are taken between
projected iterates and every loss is evaluated at a valid image. Pairs with
`y.s <= 1e-10` (no positive curvature) are skipped, which keeps the inverse
Hessian estimate positive definite.

Reference:

- Nocedal & Wright, *Numerical Optimization*, 2nd ed., Algorithm 7.4
  (the two-loop recursion), eq. 7.20 (the initial scaling) and
  Algorithm 3.1 (backtracking to the Armijo condition).
"""

import math
from typing import Any

import keras
from keras import ops

from keras_nst.choices import LINE_SEARCHES
from keras_nst.config import Config
from keras_nst.settings import check_choice

__all__ = ["LBFGS"]

_CURVATURE_EPSILON = 1e-10


class LBFGS(keras.optimizers.Optimizer):
    """Limited-memory BFGS, optionally with a backtracking line search.

    Memory: two `(history_size, n)` float32 buffers per variable, `n` its
    number of values; for a 1024x1024 RGB image and `history_size=20`,
    about 500 MB.

    Args:
        learning_rate: the step length along the quasi-Newton direction
            (the first trial step with a line search); 1 is the natural
            choice, smaller values damp the steps.
        history_size: how many curvature pairs `(s, y)` to keep (default
            `keras_nst.config.Config.lbfgs_history`).
        line_search: `"none"` takes every step; `"armijo"` backtracks
            (halving the step) until the loss decreases sufficiently
            (default `Config.line_search`).
        c1: the sufficient-decrease constant of the Armijo condition.
        max_backtracks: after this many halvings the step is taken anyway.
        name: the optimiser's name.
        **kwargs: other `keras.optimizers.Optimizer` arguments.

    Example:

    ```python
    model.compile(optimizer=keras_nst.LBFGS(history_size=20))
    model.optimize(300)
    ```
    """

    def __init__(
        self,
        learning_rate: float = 1.0,
        history_size: int = Config.lbfgs_history,
        line_search: str = Config.line_search,
        c1: float = 1e-4,
        max_backtracks: int = 10,
        name: str = "lbfgs",
        **kwargs: Any,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if history_size < 1:
            raise ValueError(
                "Expected history_size to be a positive integer. "
                f"Received: history_size={history_size}"
            )
        check_choice("line_search", line_search, LINE_SEARCHES)
        if max_backtracks < 0:
            raise ValueError(
                "Expected max_backtracks to be non-negative. "
                f"Received: max_backtracks={max_backtracks}"
            )
        self.history_size = int(history_size)
        self.line_search = line_search
        self.c1 = float(c1)
        self.max_backtracks = int(max_backtracks)
        self.loss_variable = None

    @property
    def needs_loss(self) -> bool:
        """Whether `loss_variable` must hold the loss before `apply`."""
        return self.line_search != "none"

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        # The loss at the variables' current values, for the line search.
        self.loss_variable = self.add_variable((), name="loss")
        m = self.history_size
        self._state = []
        for variable in variables:
            n = math.prod(variable.shape)
            prefix = variable.path.replace("/", "_")

            def add(shape, name, prefix=prefix):
                return self.add_variable(shape, name=f"{prefix}_{name}")

            self._state.append(
                {
                    "s": add((m, n), "s"),
                    "y": add((m, n), "y"),
                    "rho": add((m,), "rho"),
                    # The last accepted point, its gradient and loss, the
                    # direction and step length tried from it, and how
                    # many times that step has been halved.
                    "x": add((n,), "base_x"),
                    "g": add((n,), "base_g"),
                    "f": add((), "base_f"),
                    "d": add((n,), "direction"),
                    "t": add((), "step"),
                    "backtracks": add((), "backtracks"),
                    # Floats, so the JAX and TF graphs need no integer
                    # variables: the number of pairs stored so far.
                    "count": add((), "count"),
                }
            )

    def update_step(self, gradient, variable, learning_rate):
        variables = self._state[self._get_variable_index(variable)]
        state = {k: ops.convert_to_tensor(v) for k, v in variables.items()}
        m = self.history_size
        dtype = variable.dtype
        x = ops.reshape(ops.convert_to_tensor(variable), (-1,))
        g = ops.reshape(ops.cast(gradient, dtype), (-1,))
        f = ops.cast(ops.convert_to_tensor(self.loss_variable), dtype)
        started = ops.cast(self.iterations > 0, "bool")

        s = x - state["x"]
        if self.needs_loss:
            # NaN compares false, so a non-finite trial loss backtracks.
            sufficient = f <= state["f"] + self.c1 * ops.sum(state["g"] * s)
            accept = ops.logical_or(
                ops.logical_not(started),
                ops.logical_or(
                    sufficient, state["backtracks"] >= self.max_backtracks
                ),
            )
        else:
            accept = ops.convert_to_tensor(True)

        # An accepted point adds the pair (s, y) when its curvature is
        # positive, then a new direction is computed from it.
        y = g - state["g"]
        ys = ops.sum(y * s)
        store = ops.logical_and(
            ops.logical_and(started, accept), ys > _CURVATURE_EPSILON
        )
        count = state["count"]
        slot = ops.cast(ops.mod(count, m), "int32")
        s_history = ops.slice_update(
            state["s"],
            (slot, 0),
            ops.where(store, s, _at(state["s"], slot))[None],
        )
        y_history = ops.slice_update(
            state["y"],
            (slot, 0),
            ops.where(store, y, _at(state["y"], slot))[None],
        )
        safe_ys = ops.where(store, ys, 1.0)
        rho = ops.slice_update(
            state["rho"],
            (slot,),
            ops.where(store, 1.0 / safe_ys, _at(state["rho"], slot))[None],
        )
        count = count + ops.cast(store, dtype)

        direction = _two_loop(g, s_history, y_history, rho, count, m)
        # Without curvature pairs the direction is -g; scale the first step
        # so its largest change is `learning_rate` (one grey level for an
        # image). torch.optim.LBFGS bounds the L1 norm of the step instead;
        # over ~1e5 pixels that step is so short that y = g1 - g0 is float32
        # round-off, and the curvature estimate built on it is noise.
        first = 1.0 / (ops.max(ops.abs(g)) + 1e-12)
        step = ops.cast(learning_rate, dtype) * ops.where(count > 0, 1.0, first)

        # A rejected trial keeps the base and halves the step.
        base = ops.where(accept, x, state["x"])
        direction = ops.where(accept, direction, state["d"])
        step = ops.where(accept, step, 0.5 * state["t"])
        backtracks = ops.where(accept, 0.0, state["backtracks"] + 1.0)

        self.assign(variables["s"], s_history)
        self.assign(variables["y"], y_history)
        self.assign(variables["rho"], rho)
        self.assign(variables["count"], count)
        self.assign(variables["x"], base)
        self.assign(variables["g"], ops.where(accept, g, state["g"]))
        self.assign(variables["f"], ops.where(accept, f, state["f"]))
        self.assign(variables["d"], direction)
        self.assign(variables["t"], step)
        self.assign(variables["backtracks"], backtracks)
        self.assign(
            variable,
            ops.reshape(base + step * direction, variable.shape),
        )

    def accepted_point(self, variable) -> tuple[Any, Any]:
        """The last accepted value of `variable` and the loss there.

        With a line search the variable holds an untested trial after a
        step; this is the point it was tried from.
        """
        state = self._state[self._get_variable_index(variable)]
        x = ops.reshape(ops.convert_to_tensor(state["x"]), variable.shape)
        return x, ops.convert_to_tensor(state["f"])

    def newly_accepted_point(self, variable) -> tuple[Any, Any]:
        """The point the last step accepted, and whether it accepted one.

        A step accepts the trial the step before it left in the variable
        (unless it halves that step instead); the very first step accepts
        the start. The flag is a boolean tensor, true when the last step
        accepted a trial, for a caller that averages accepted points only.
        """
        state = self._state[self._get_variable_index(variable)]
        x, _ = self.accepted_point(variable)
        accepted = ops.logical_and(
            ops.equal(ops.convert_to_tensor(state["backtracks"]), 0.0),
            ops.convert_to_tensor(self.iterations) > 1,
        )
        return x, accepted

    def get_config(self):
        config = super().get_config()
        config.update(
            history_size=self.history_size,
            line_search=self.line_search,
            c1=self.c1,
            max_backtracks=self.max_backtracks,
        )
        return config


def _at(values, index):
    """`values[index]` along the first axis, for a tensor `index`.

    A gather: TensorFlow's XLA takes the start of a slice as a
    compile-time constant, so `values[index]` compiled the step again at
    every step (34 s a step at 32 px, against 18 ms with the gather).
    """
    return ops.take(values, index, axis=0)


def _two_loop(g, s_history, y_history, rho, count, m):
    """The L-BFGS direction `-H g` by the two-loop recursion.

    Empty slots hold `s = y = 0`, `rho = 0` and contribute nothing, so both
    loops run over all `m` slots in a fixed order and compile to one graph.
    """
    newest = ops.cast(ops.mod(count - 1.0, m), "int32")

    def backward(j, carry):
        q, alphas = carry
        index = ops.mod(newest - j, m)
        alpha = _at(rho, index) * ops.sum(_at(s_history, index) * q)
        q = q - alpha * _at(y_history, index)
        return q, ops.slice_update(alphas, (index,), alpha[None])

    q, alphas = ops.fori_loop(0, m, backward, (g, ops.zeros_like(rho)))

    # H0 = gamma I with gamma = s.y / y.y of the newest pair (Nocedal &
    # Wright eq. 7.20), or I before there is one.
    s_new = _at(s_history, newest)
    y_new = _at(y_history, newest)
    yy = ops.sum(y_new * y_new)
    gamma = ops.where(
        ops.logical_and(count > 0, yy > 0),
        ops.sum(s_new * y_new) / ops.where(yy > 0, yy, 1.0),
        1.0,
    )
    r = gamma * q

    oldest = ops.cast(ops.mod(count, m), "int32")

    def forward(j, r):
        index = ops.mod(oldest + j, m)
        beta = _at(rho, index) * ops.sum(_at(y_history, index) * r)
        return r + (_at(alphas, index) - beta) * _at(s_history, index)

    r = ops.fori_loop(0, m, forward, r)
    return -r
