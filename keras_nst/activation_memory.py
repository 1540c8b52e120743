"""The memory VGG19's activations take: the calibrated cost of a step.

A step keeps every activation up to the deepest layer for the backward
pass. `BYTES_PER_PIXEL` was measured to conv5_1 with zero padding;
`bytes_per_pixel` scales it to a config's deepest layer and padding from
VGG19's channel counts. `keras_nst.memory` adds what a whole run holds
(the images, read and resized, at every scale) and checks it against the
machine. Nothing here imports Keras.
"""

from keras_nst.config import Config
from keras_nst.layer_names import KERAS_LAYER_NAMES
from keras_nst.layer_names import VGG19_BLOCK_CHANNELS
from keras_nst.layer_names import canonical_layer_name
from keras_nst.layer_names import layer_block

__all__ = [
    "BASE_BYTES",
    "BYTES_PER_PIXEL",
    "bytes_per_pixel",
    "estimate_run_bytes",
    "lbfgs_bytes",
]

# Peak resident memory of a run on the CPU: a fixed part (the framework,
# VGG19's weights) and a part per output pixel (the activations VGG19 keeps
# for the backward pass, to conv5_1). scripts/bench.py measured 0.7-1.0 GB
# and 2.1-2.4 KB per pixel between 512 and 1024 px (gatys preset, Adam,
# any backend); bf16 saved nothing on TensorFlow. 20% margin on top.
BASE_BYTES = 1.0e9
BYTES_PER_PIXEL = 2.9e3
_MEASURED_LAYER = "block5_conv1"  # the deepest layer of that measurement
# A border-padded VGG19 keeps each convolution's padded input besides its
# output: peak memory at 512 px on PyTorch rose by 35-40% with `reflect`
# or `replicate` over `zero`.
_PADDING_FACTORS = {"zero": 1.0, "reflect": 1.4, "replicate": 1.4}


def _activation_floats() -> dict[str, float]:
    """Floats per input pixel of VGG19's outputs up to each layer.

    Each block runs at a quarter of the last one's pixels; the pooling
    between blocks adds its output too.
    """
    floats, total, block = {}, 0.0, 1
    for name in KERAS_LAYER_NAMES:
        if layer_block(name) != block:
            total += VGG19_BLOCK_CHANNELS[block - 1] / 4**block
            block = layer_block(name)
        total += VGG19_BLOCK_CHANNELS[block - 1] / 4 ** (block - 1)
        floats[name] = total
    return floats


_ACTIVATION_FLOATS = _activation_floats()


def lbfgs_bytes(pixels: int, history: int) -> float:
    """L-BFGS's peak bytes over `pixels` RGB pixels with `history` pairs.

    Its `(history, H * W * 3)` float32 buffers s and y, and the new copies
    of both that each step's update makes before assigning them.
    """
    return 4 * history * pixels * 3 * 4


def estimate_run_bytes(
    height: int, width: int, lbfgs_history: int = 0
) -> float:
    """The peak host memory of a style transfer run at `height x width`.

    Calibrated on the `gatys` preset (layers to conv5_1); it counts the
    optimisation only, not reading the images (`estimate_transfer_bytes`).

    Args:
        height: the output's height in pixels.
        width: the output's width.
        lbfgs_history: L-BFGS's history size, 0 for Adam; its two
            `(history, H * W * 3)` float32 buffers, and the copies a step
            makes of them, come on top.

    Returns:
        The estimate, in bytes.
    """
    pixels = height * width
    history = lbfgs_bytes(pixels, lbfgs_history)
    return BASE_BYTES + BYTES_PER_PIXEL * pixels + history


def bytes_per_pixel(config: Config) -> float:
    """`BYTES_PER_PIXEL`, scaled to the config's deepest layer and padding."""
    layers = [*config.content_layers, *config.style_layers]
    deepest = max(
        (_ACTIVATION_FLOATS[canonical_layer_name(name)] for name in layers),
        default=_ACTIVATION_FLOATS[_MEASURED_LAYER],
    )
    depth = deepest / _ACTIVATION_FLOATS[_MEASURED_LAYER]
    return BYTES_PER_PIXEL * depth * _PADDING_FACTORS[config.padding]
