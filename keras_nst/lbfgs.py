"""L-BFGS as a Keras optimiser, in `keras.ops` so it runs on every backend.

Gatys et al. and jcjohnson/neural-style optimise with L-BFGS. This one takes
one gradient per step, like Adam, so it drops into `fit` and the
`train_step` of `StyleTransferModel` unchanged, and the two optimisers can
be compared at equal gradient evaluations. Like `torch.optim.LBFGS` with
`line_search_fn=None` (the configuration jcjohnson/neural-style uses), it
has no line search: the step is the quasi-Newton direction times
`learning_rate` (1 by default), except the very first, a gradient step
scaled so that no value moves by more than `learning_rate`, because there
is no curvature information yet.

The image is projected to 0..255 after every step by the model, so the
curvature pairs `s = x_{k+1} - x_k`, `y = g_{k+1} - g_k` are taken between
projected iterates and every loss is evaluated at a valid image. Pairs with
`y.s <= 1e-10` (no positive curvature) are skipped, which keeps the inverse
Hessian estimate positive definite.

Reference:
- Nocedal & Wright, *Numerical Optimization*, 2nd ed., Algorithm 7.4
  (the two-loop recursion) and eq. 7.20 (the initial scaling).
"""

import math
from typing import Any

import keras
from keras import ops

__all__ = ["LBFGS"]

_CURVATURE_EPSILON = 1e-10


class LBFGS(keras.optimizers.Optimizer):
    """Limited-memory BFGS without line search.

    Memory: two `(history_size, n)` float32 buffers per variable, `n` its
    number of values; for a 1024x1024 RGB image and `history_size=20`,
    about 500 MB.

    Args:
        learning_rate: the step length along the quasi-Newton direction;
            1 is the natural choice, smaller values damp the steps.
        history_size: how many curvature pairs `(s, y)` to keep.
        name: the optimiser's name.
        **kwargs: other `keras.optimizers.Optimizer` arguments, e.g.
            `use_ema=True`.

    Example:

    ```python
    model.compile(optimizer=keras_nst.lbfgs.LBFGS(history_size=20))
    model.optimize(300)
    ```
    """

    def __init__(
        self,
        learning_rate: float = 1.0,
        history_size: int = 20,
        name: str = "lbfgs",
        **kwargs: Any,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if history_size < 1:
            raise ValueError(
                "Expected history_size to be a positive integer. "
                f"Received: history_size={history_size}"
            )
        self.history_size = int(history_size)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        m = self.history_size
        self._state = []
        for variable in variables:
            n = math.prod(variable.shape)
            prefix = variable.path.replace("/", "_")
            self._state.append(
                {
                    "s": self.add_variable((m, n), name=f"{prefix}_s"),
                    "y": self.add_variable((m, n), name=f"{prefix}_y"),
                    "rho": self.add_variable((m,), name=f"{prefix}_rho"),
                    "x": self.add_variable((n,), name=f"{prefix}_prev_x"),
                    "g": self.add_variable((n,), name=f"{prefix}_prev_g"),
                    # The number of pairs stored so far, as a float so the
                    # JAX and TF graphs need no integer variables.
                    "count": self.add_variable((), name=f"{prefix}_count"),
                }
            )

    def update_step(self, gradient, variable, learning_rate):
        variables = self._state[self._get_variable_index(variable)]
        state = {k: ops.convert_to_tensor(v) for k, v in variables.items()}
        m = self.history_size
        dtype = variable.dtype
        x = ops.reshape(ops.convert_to_tensor(variable), (-1,))
        g = ops.reshape(ops.cast(gradient, dtype), (-1,))

        # The new curvature pair, kept only after the first step and when
        # the curvature along it is positive.
        s = x - state["x"]
        y = g - state["g"]
        ys = ops.sum(y * s)
        started = ops.cast(self.iterations > 0, "bool")
        accept = ops.logical_and(started, ys > _CURVATURE_EPSILON)
        count = state["count"]
        slot = ops.cast(ops.mod(count, m), "int32")
        s_history = ops.slice_update(
            state["s"], (slot, 0), ops.where(accept, s, state["s"][slot])[None]
        )
        y_history = ops.slice_update(
            state["y"], (slot, 0), ops.where(accept, y, state["y"][slot])[None]
        )
        safe_ys = ops.where(accept, ys, 1.0)
        rho = ops.slice_update(
            state["rho"],
            (slot,),
            ops.where(accept, 1.0 / safe_ys, state["rho"][slot])[None],
        )
        count = count + ops.cast(accept, dtype)

        direction = _two_loop(g, s_history, y_history, rho, count, m)
        # Without curvature pairs the direction is -g; scale the first step
        # so its largest change is `learning_rate` (one grey level for an
        # image). torch.optim.LBFGS bounds the L1 norm of the step instead;
        # over ~1e5 pixels that step is so short that y = g1 - g0 is float32
        # round-off, and the curvature estimate built on it is noise.
        first = 1.0 / (ops.max(ops.abs(g)) + 1e-12)
        step = ops.cast(learning_rate, dtype) * ops.where(count > 0, 1.0, first)

        self.assign(variables["s"], s_history)
        self.assign(variables["y"], y_history)
        self.assign(variables["rho"], rho)
        self.assign(variables["count"], count)
        self.assign(variables["x"], x)
        self.assign(variables["g"], g)
        self.assign(
            variable,
            ops.reshape(x + step * direction, variable.shape),
        )

    def get_config(self):
        config = super().get_config()
        config["history_size"] = self.history_size
        return config


def _two_loop(g, s_history, y_history, rho, count, m):
    """The L-BFGS direction `-H g` by the two-loop recursion.

    Empty slots hold `s = y = 0`, `rho = 0` and contribute nothing, so both
    loops run over all `m` slots in a fixed order and compile to one graph.
    """
    newest = ops.cast(ops.mod(count - 1.0, m), "int32")

    def backward(j, carry):
        q, alphas = carry
        index = ops.mod(newest - j, m)
        alpha = rho[index] * ops.sum(s_history[index] * q)
        q = q - alpha * y_history[index]
        return q, ops.slice_update(alphas, (index,), alpha[None])

    q, alphas = ops.fori_loop(0, m, backward, (g, ops.zeros_like(rho)))

    # H0 = gamma I with gamma = s.y / y.y of the newest pair (Nocedal &
    # Wright eq. 7.20), or I before there is one.
    s_new = s_history[newest]
    y_new = y_history[newest]
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
        beta = rho[index] * ops.sum(y_history[index] * r)
        return r + (alphas[index] - beta) * s_history[index]

    r = ops.fori_loop(0, m, forward, r)
    return -r
