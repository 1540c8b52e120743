"""The backend-specific optimisation step, chosen once at import.

`keras_nst/backend/` holds the only modules that import TensorFlow, JAX or
PyTorch; each defines `TrainStep`, a mixin with the `train_step` of its
backend, and `has_accelerator`. Everything else is shared `keras.ops` code
in `keras_nst.model`.
"""

import keras

_BACKEND = keras.backend.backend()

if _BACKEND == "tensorflow":
    from keras_nst.backend.tensorflow import TrainStep
    from keras_nst.backend.tensorflow import has_accelerator
elif _BACKEND == "jax":
    from keras_nst.backend.jax import TrainStep
    from keras_nst.backend.jax import has_accelerator
elif _BACKEND == "torch":
    from keras_nst.backend.torch import TrainStep
    from keras_nst.backend.torch import has_accelerator
else:
    raise RuntimeError(
        "keras-nst runs on the tensorflow, jax and torch backends. "
        f"Received: KERAS_BACKEND={_BACKEND!r}"
    )

__all__ = ["TrainStep", "has_accelerator"]
