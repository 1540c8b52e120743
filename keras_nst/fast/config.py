"""The settings of a fast style transfer training run, and their defaults.

Each `TrainConfig` field is declared once with `keras_nst.settings.setting`:
its default, bounds, choices and one line of help for the command line.
This module imports no Keras, so the command line can read the defaults
before it chooses a backend.
"""

import dataclasses
from typing import Any

from keras_nst.choices import MAX_ITERATIONS
from keras_nst.choices import MAX_SEED
from keras_nst.choices import MAX_SIDE
from keras_nst.choices import PADDINGS
from keras_nst.choices import POOLING_MODES
from keras_nst.choices import PRECISIONS
from keras_nst.config import weights_setting
from keras_nst.layer_names import canonical_layers
from keras_nst.settings import Settings
from keras_nst.settings import check_settings
from keras_nst.settings import replace_settings
from keras_nst.settings import setting

__all__ = [
    "CHECKPOINT_EVERY",
    "JOHNSON_STYLE_LAYERS",
    "SAMPLE_EVERY",
    "STYLIZE_BATCH_SIZE",
    "TEMPORAL_BLEND",
    "TrainConfig",
    "resolve_train_config",
]

JOHNSON_STYLE_LAYERS = (
    "block1_conv2",
    "block2_conv2",
    "block3_conv3",
    "block4_conv3",
)
"""Johnson et al. (2016), section 4.1: style at relu1_2, relu2_2, relu3_3
and relu4_3, content at relu3_3 (of VGG-16; the names exist in VGG19)."""

CHECKPOINT_EVERY = 500
"""The default number of training steps between two checkpoints."""
SAMPLE_EVERY = 500
"""The default number of training steps between two sample pictures."""

STYLIZE_BATCH_SIZE = 1
"""The default number of images (or video frames) per stylising pass."""
TEMPORAL_BLEND = 0.0
"""The default weight of the last output, warped, in a video's frames
(`keras_nst.video.blend.TemporalBlend`)."""

# Generous ceilings, so that an absurd value is a usage error up front
# rather than an overflow or an allocation failure mid-run.
MAX_BATCH_SIZE = 4096
MAX_FILTERS = 4096
MAX_RESIDUAL_BLOCKS = 100


@dataclasses.dataclass(frozen=True)
class TrainConfig(Settings):
    """Settings of a fast style transfer training run.

    Args:
        content_layers: VGG19 layers of the content loss (Johnson et al.:
            relu3_3).
        style_layers: VGG19 layers of the style loss.
        content_weight: the weight of the content loss (mean squared
            feature error).
        style_weight: the weight of the style loss; each layer's term is
            its relative Gram error (`style_normalization="target"` of
            `Config`), averaged over the batch.
        tv_weight: the weight of the squared total variation, per image.
        pooling: VGG19 pooling, `"max"` (Johnson et al.) or `"avg"`.
        padding: how VGG19's convolutions pad, as `Config.padding`:
            `"zero"` (VGG19's own; Johnson et al.), `"reflect"` or
            `"replicate"`. With zeros the border pixels move the loss
            network's features less than the others do, and the
            transform network can learn washed-out borders.
        size: the side of the square training crops.
        style_size: the longest side the style image is resized to; `None`
            uses `size`.
        batch_size: crops per step (Johnson et al.: 4).
        steps: optimisation steps (Johnson et al.: 40k on COCO).
        learning_rate: Adam's learning rate (Johnson et al.: 1e-3).
        filters: `TransformNet`'s first width (32).
        residual_blocks: `TransformNet`'s residual blocks (5).
        precision: VGG19's arithmetic, `"fp32"` or `"bf16"` (as `Config`).
        seed: seeds the crops and the network's initial weights.
        weights: VGG19 weights: `"imagenet"`, a file, or `None` (random;
            tests only).
    """

    content_layers: tuple[str, ...] = setting(
        ("block3_conv3",), "Comma-separated VGG19 layers.", "losses"
    )
    style_layers: tuple[str, ...] = setting(
        JOHNSON_STYLE_LAYERS, "Comma-separated VGG19 layers.", "losses"
    )
    content_weight: float = setting(
        1.0, "Content loss weight.", "losses", minimum=0
    )
    style_weight: float = setting(
        1e6, "Style loss weight.", "losses", minimum=0
    )
    tv_weight: float = setting(
        1e-5, "Total variation weight.", "losses", minimum=0
    )
    pooling: str = setting(
        "max", "VGG19 pooling.", "losses", choices=POOLING_MODES
    )
    # The shipped network and the fast method's weights were tuned with
    # VGG19's own zero padding; the optimisation's default is not theirs.
    padding: str = setting(
        "zero",
        "VGG19's convolution padding: zero (VGG19's own), reflect or "
        "replicate the border.",
        "losses",
        choices=PADDINGS,
    )
    size: int = setting(
        256,
        "Side of the square training crops.",
        "images",
        minimum=16,
        maximum=MAX_SIDE,
    )
    style_size: int | None = setting(
        None,
        "Longest side of the style image [default: --size].",
        "images",
        kind="int",
        minimum=16,
        maximum=MAX_SIDE,
    )
    batch_size: int = setting(
        4, "Crops per step.", "optimiser", minimum=1, maximum=MAX_BATCH_SIZE
    )
    steps: int = setting(
        2000, "Training steps.", "optimiser", minimum=1, maximum=MAX_ITERATIONS
    )
    learning_rate: float = setting(
        1e-3,
        "Adam's learning rate.",
        "optimiser",
        minimum=0,
        min_open=True,
        flags=("--learning-rate", "--lr"),
    )
    filters: int = setting(
        32,
        "Width of the network's first layer.",
        "optimiser",
        minimum=1,
        maximum=MAX_FILTERS,
    )
    residual_blocks: int = setting(
        5,
        "Residual blocks in the network.",
        "optimiser",
        minimum=0,
        maximum=MAX_RESIDUAL_BLOCKS,
    )
    precision: str = setting(
        "fp32", "VGG19 arithmetic.", "run", choices=PRECISIONS
    )
    seed: int = setting(
        0,
        "Seeds the crops and the initial network.",
        "run",
        minimum=0,
        maximum=MAX_SEED,
    )
    weights: str | None = weights_setting()


def resolve_train_config(
    config: TrainConfig | None = None, **overrides: Any
) -> TrainConfig:
    """Builds a checked `TrainConfig`; every override given is used.

    Args:
        config: a `TrainConfig`, or `None` for `TrainConfig()`.
        **overrides: `TrainConfig` fields to change. Every value given is
            used: `weights=None` means random VGG19 weights.

    Returns:
        A `TrainConfig` with canonical layer names and checked values.

    Raises:
        ValueError: an unknown field or layer, or a bad value.
        TypeError: a value of the wrong type.
    """
    if config is None:
        config = TrainConfig()
    elif not isinstance(config, TrainConfig):
        raise TypeError(
            "Expected config to be a TrainConfig or None. "
            f"Received: config={config!r}"
        )
    config = check_settings(replace_settings(config, overrides))
    content_layers, style_layers = canonical_layers(
        config.content_layers, config.style_layers
    )
    return dataclasses.replace(
        config, content_layers=content_layers, style_layers=style_layers
    )
