"""The backend-specific optimisation step, chosen once at import.

`keras_nst/backend/` holds the only modules that import TensorFlow, JAX or
PyTorch, and only what differs between them. Each defines the same names:
`TrainStep`, a mixin whose `train_step` computes the gradient of the loss
with respect to the image and hands it to the model's shared `apply_step`
(`keras_nst.step`); `has_accelerator` and `device_name`; `data_parallel`
and `replica_share` (the multi-device engine); and the layout VGG19 runs in
(`FEATURE_DATA_FORMAT`, `prepare_network`, `max_pool_as_reduction`: how
it max-pools), with whether bf16 is fast on
a CPU (`CPU_BF16_IS_FAST`) and whether `fit` compiles the step with XLA
(`step_jit_compile`); and, for the tiled step (`keras_nst.tiled`),
`value_and_gradients`, an eager gradient, and `features_map` and
`features_gradient`, VGG19 and a loss on its features, compiled once per
region shape where that helps; and, for the fast network,
`compiled_forward` (inference as the backend runs it fastest) and
`data_parallel_forward` (the same over every device),
`rowwise_conv_is_faster` (which convolutions to split into rows), and
`take`, a gather that every backend's model export can express, and
`conv`, `group_norm` and `reflect_pad`, the transform network's layers
without layout copies. This
package binds the active backend's.
"""

import importlib

import keras

_BACKENDS = ("tensorflow", "jax", "torch")
# The names every backend module defines, bound here from the active one.
__all__ = [
    "CPU_BF16_IS_FAST",
    "FEATURE_DATA_FORMAT",
    "TrainStep",
    "compiled_forward",
    "conv",
    "data_parallel",
    "data_parallel_forward",
    "device_name",
    "features_gradient",
    "features_map",
    "group_norm",
    "has_accelerator",
    "max_pool_as_reduction",
    "prepare_network",
    "reflect_pad",
    "replica_share",
    "rowwise_conv_is_faster",
    "step_jit_compile",
    "take",
    "value_and_gradients",
]

_BACKEND = keras.backend.backend()
if _BACKEND not in _BACKENDS:
    raise RuntimeError(
        f"keras-nst runs on the {', '.join(_BACKENDS)} backends. "
        f"Received: KERAS_BACKEND={_BACKEND!r}"
    )
_module = importlib.import_module(f"keras_nst.backend.{_BACKEND}")
globals().update({name: getattr(_module, name) for name in __all__})
del _module
