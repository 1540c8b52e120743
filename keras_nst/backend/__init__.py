"""The backend-specific optimisation step, chosen once at import.

`keras_nst/backend/` holds the only modules that import TensorFlow, JAX or
PyTorch; each defines `TrainStep`, a mixin with the `train_step` of its
backend, `has_accelerator`, `data_parallel` and `replica_share` (the
multi-device engine), and the layout VGG19 runs in (`FEATURE_DATA_FORMAT`,
`prepare_network`). Everything else is shared `keras.ops` code.
"""

import keras

_BACKEND = keras.backend.backend()

if _BACKEND == "tensorflow":
    from keras_nst.backend.tensorflow import CPU_BF16_IS_FAST
    from keras_nst.backend.tensorflow import FEATURE_DATA_FORMAT
    from keras_nst.backend.tensorflow import TrainStep
    from keras_nst.backend.tensorflow import data_parallel
    from keras_nst.backend.tensorflow import has_accelerator
    from keras_nst.backend.tensorflow import prepare_network
    from keras_nst.backend.tensorflow import replica_share
elif _BACKEND == "jax":
    from keras_nst.backend.jax import CPU_BF16_IS_FAST
    from keras_nst.backend.jax import FEATURE_DATA_FORMAT
    from keras_nst.backend.jax import TrainStep
    from keras_nst.backend.jax import data_parallel
    from keras_nst.backend.jax import has_accelerator
    from keras_nst.backend.jax import prepare_network
    from keras_nst.backend.jax import replica_share
elif _BACKEND == "torch":
    from keras_nst.backend.torch import CPU_BF16_IS_FAST
    from keras_nst.backend.torch import FEATURE_DATA_FORMAT
    from keras_nst.backend.torch import TrainStep
    from keras_nst.backend.torch import data_parallel
    from keras_nst.backend.torch import has_accelerator
    from keras_nst.backend.torch import prepare_network
    from keras_nst.backend.torch import replica_share
else:
    raise RuntimeError(
        "keras-nst runs on the tensorflow, jax and torch backends. "
        f"Received: KERAS_BACKEND={_BACKEND!r}"
    )

__all__ = [
    "CPU_BF16_IS_FAST",
    "FEATURE_DATA_FORMAT",
    "TrainStep",
    "data_parallel",
    "has_accelerator",
    "prepare_network",
    "replica_share",
]
