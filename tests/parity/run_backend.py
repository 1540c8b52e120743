"""One tiny style transfer problem, printed as JSON; run once per backend.

The backend is fixed by KERAS_BACKEND before this process imports Keras.
Everything random comes from NumPy, so every backend sees the same VGG19
weights, images and starting point.
"""

import json
import sys

import keras
import numpy as np

from keras_nst.features import VGG19Features
from keras_nst.inputs import model_inputs
from keras_nst.model import StyleTransferModel
from keras_nst.optimizers import get_optimizer
from keras_nst.presets import resolve_config

# Each variant: the optimiser, its L-BFGS line search, the moving average
# and VGG19's pooling. Average pooling is smooth, so round-off cannot send a
# step's gradient elsewhere; with max pooling it can pick another maximum
# where two inputs nearly tie (the default, checked on its own).
VARIANTS = {
    "adam": ("adam", "none", 0.0, "avg"),
    "lbfgs": ("lbfgs", "none", 0.0, "avg"),
    "lbfgs-armijo": ("lbfgs", "armijo", 0.0, "avg"),
    "adam-average": ("adam", "none", 0.8, "avg"),
    "adam-max": ("adam", "none", 0.0, "max"),
}


def main(steps: int, variant: str) -> None:
    optimizer, line_search, average_decay, pooling = VARIANTS[variant]
    if keras.backend.backend() == "torch":
        import torch

        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    rng = np.random.default_rng(1234)
    config = resolve_config(
        "gatys",
        weights=None,
        size=32,
        style_layers=["conv1_1", "conv2_1", "conv3_1"],
        content_layers=["conv2_2"],
        tv_weight=1e-4,
        tv_reduction="sum",
        learning_rate=2.0,
        # Pinned, not the preset's: with unit L-BFGS steps many pixels hit
        # 0 or 255, and with larger style terms round-off decides which.
        style_weight=1e-2,
        style_normalization="none",
        average_decay=average_decay,
        pooling=pooling,
    )
    extractor = VGG19Features(
        config.content_layers + config.style_layers, config.pooling, None
    )
    weights = []
    for w in extractor.get_weights():
        if w.ndim == 4:
            fan_in = np.prod(w.shape[:3])
            w = rng.normal(0, np.sqrt(2.0 / fan_in), w.shape)
        else:
            w = rng.normal(0, 0.1, w.shape)
        weights.append(w.astype("float32"))
    extractor.set_weights(weights)
    content = rng.uniform(0, 255, (32, 32, 3)).astype("float32")
    style = rng.uniform(0, 255, (40, 24, 3)).astype("float32")
    start = rng.uniform(0, 255, (32, 32, 3)).astype("float32")
    inputs = model_inputs(config, content, style, start)
    model = StyleTransferModel(inputs, config, extractor)
    model.compile(
        optimizer=get_optimizer(
            optimizer, config.learning_rate, line_search=line_search
        )
    )
    initial = model.evaluate_losses()
    model.optimize(steps, verbose=0)
    final = model.evaluate_losses()
    image = model.get_image()
    print(
        json.dumps(
            {
                "backend": keras.backend.backend(),
                "initial": initial,
                "final": final,
                "image_mean": float(image.mean()),
            }
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
