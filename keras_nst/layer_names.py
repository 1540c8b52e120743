"""VGG19's convolution layers by the names Keras and the papers use.

Nothing here imports Keras.
"""

from keras_nst.settings import suggestion

__all__ = [
    "KERAS_LAYER_NAMES",
    "VGG19_BLOCK_CHANNELS",
    "canonical_layer_name",
    "canonical_layers",
    "layer_block",
    "paper_layer_name",
]

_VGG19_BLOCK_SIZES = (2, 2, 4, 4, 4)
KERAS_LAYER_NAMES = tuple(
    f"block{block}_conv{conv}"
    for block, convs in enumerate(_VGG19_BLOCK_SIZES, start=1)
    for conv in range(1, convs + 1)
)
"""VGG19's 16 convolution layers, `block1_conv1` ... `block5_conv4`."""

VGG19_BLOCK_CHANNELS = (64, 128, 256, 512, 512)
"""The channels of each block's convolutions."""


def layer_block(name: str) -> int:
    """The block, 1 to 5, of a Keras layer name: `block4_conv2` -> 4."""
    return int(name[len("block")])


def canonical_layer_name(name: str) -> str:
    """Returns the Keras name of a VGG19 convolution layer.

    Keras convolutions apply their ReLU, so `conv4_2`, `relu4_2` and
    `block4_conv2` all name the same output.

    Args:
        name: `block4_conv2`, `conv4_2` or `relu4_2`.

    Returns:
        The Keras layer name, e.g. `"block4_conv2"`.

    Raises:
        ValueError: the name is not a VGG19 convolution layer.
    """
    key = name.strip().lower()
    for prefix in ("conv", "relu"):
        if key.startswith(prefix) and "_" in key:
            block, _, conv = key[len(prefix) :].partition("_")
            key = f"block{block}_conv{conv}"
    if key in KERAS_LAYER_NAMES:
        return key
    raise ValueError(
        f"Unknown VGG19 layer {name!r}"
        + suggestion(key, KERAS_LAYER_NAMES)
        + " Expected a name like 'conv4_2', 'relu4_2' or 'block4_conv2'."
    )


def paper_layer_name(name: str) -> str:
    """Returns the paper's name of a VGG19 convolution layer.

    The inverse of `canonical_layer_name`: `block4_conv2` -> `conv4_2`.

    Args:
        name: any name `canonical_layer_name` accepts.

    Returns:
        The name Gatys et al. use, e.g. `"conv4_2"`.

    Raises:
        ValueError: the name is not a VGG19 convolution layer.
    """
    block, _, conv = canonical_layer_name(name).partition("_conv")
    return f"conv{block.removeprefix('block')}_{conv}"


def canonical_layers(content, style) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Content and style layers by their Keras names.

    Raises:
        ValueError: an unknown layer, or neither content nor style layers.
    """
    content = tuple(canonical_layer_name(n) for n in content)
    style = tuple(canonical_layer_name(n) for n in style)
    if not content and not style:
        raise ValueError("Expected at least one content or style layer.")
    return content, style
