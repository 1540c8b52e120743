"""The named presets, and `resolve_config`: a preset plus overrides.

Each preset is `Config()` (the `gatys` preset) or a `dataclasses.replace`
of it, with a one-line description of where its values come from.
`resolve_config` turns a preset name (or a `Config`) and overrides into a
checked `Config`. Nothing here imports Keras.
"""

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

from keras_nst.choices import INIT_MODES
from keras_nst.config import Config
from keras_nst.layer_names import canonical_layers
from keras_nst.settings import check_settings
from keras_nst.settings import replace_settings
from keras_nst.settings import suggestion

__all__ = [
    "DEFAULT_PRESET",
    "PRESET_ALIASES",
    "PRESETS",
    "Preset",
    "get_preset",
    "resolve_config",
]


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named `Config` with a one-line description of where it comes from."""

    description: str
    config: Config


# The presets that reproduce published settings run one scale with the plain
# iterate as the output, VGG19's zero padding, the summed total variation
# and every pixel of the style image, as they were tuned with.
_EARLIER_SETTINGS = {
    "scales": 1,
    "start_size": None,
    "refine_iterations": None,
    "average_decay": 0.0,
    "padding": "zero",
    "tv_reduction": "sum",
    "style_detail": 1.0,
}

PRESETS = {
    "gatys": Preset(
        "Gatys et al. layers (content conv4_2, style conv1_1..conv5_1) "
        "with VGG19's max pooling (average pooling paints a mesh in flat "
        "regions); each style layer normalised to its relative Gram error "
        "so all five count; content and total variation per pixel, so "
        "the weights hold at any size; coarse to fine from "
        "256 px with Adam's moments and the average of its iterates "
        "carried across scales; VGG19 padded with copies of the border; "
        "no style detail finer than half the style image's resolution.",
        Config(),
    ),
    "tf_tutorial": Preset(
        "After the TensorFlow style transfer tutorials: content "
        "block5_conv2, style block1_conv1..block5_conv1, content weight "
        "1e4, style weight 1e-2, Adam lr 5 on 0-255 pixels (0.02 on 0-1), "
        "max pooling, 1000 iterations; a squared total variation of "
        "weight 1e2.",
        dataclasses.replace(
            Config(),
            content_layers=("block5_conv2",),
            content_weight=1e4,
            style_weight=1e-2,
            style_normalization="none",
            tv_weight=1e2,
            pooling="max",
            learning_rate=5.0,
            iterations=1000,
            **_EARLIER_SETTINGS,
        ),
    ),
    "gatys2016_sum": Preset(
        "Gatys et al. 2016 as written: content conv4_2 with the paper's "
        "1/2 sum of squared errors, average pooling, alpha 8e-4, beta 8e-1 "
        "(alpha/beta 1e-3), no total variation, 3000 iterations.",
        dataclasses.replace(
            Config(),
            content_loss_form="sum",
            content_weight=8e-4,
            style_weight=8e-1,
            style_normalization="none",
            tv_weight=0.0,
            pooling="avg",
            iterations=3000,
            **_EARLIER_SETTINGS,
        ),
    ),
}
"""The presets by name; the Presets page says what each reproduces."""
PRESET_ALIASES = {"seed000": "tf_tutorial", "seed004": "gatys2016_sum"}
"""Earlier names of presets, still accepted wherever a name is."""
DEFAULT_PRESET = "gatys"
"""The preset whose settings `Config()` holds."""


def get_preset(name: str) -> Config:
    """Returns the `Config` of the preset called `name` (or an alias)."""
    name = PRESET_ALIASES.get(name, name)
    if name not in PRESETS:
        raise ValueError(
            f"Unknown preset {name!r}"
            + suggestion(name, tuple(PRESETS))
            + f" Expected one of {tuple(PRESETS)}."
        )
    return PRESETS[name].config


def resolve_config(
    config: Config | str | None = None, **overrides: Any
) -> Config:
    """Builds a checked `Config` from a preset and overrides.

    Args:
        config: a `Config`, a preset name, or `None` for `Config()`.
        **overrides: `Config` fields to change. Every value given is
            used: `weights=None` means random weights, `seed=None` a fresh
            seed.

    Returns:
        A `Config` with canonical layer names and checked values.

    Raises:
        ValueError: an unknown field, preset or layer, or a bad value.
        TypeError: a value of the wrong type.
    """
    if config is None:
        config = Config()
    elif isinstance(config, str):
        config = get_preset(config)
    elif not isinstance(config, Config):
        raise TypeError(
            "Expected config to be a Config, a preset name or None. "
            f"Received: config={config!r}"
        )
    # Layer weights belong to their layers: new layers without new weights
    # fall back to equal weights instead of keeping the preset's.
    overrides = dict(overrides)
    for layers, weights in (
        ("content_layers", "content_layer_weights"),
        ("style_layers", "style_layer_weights"),
    ):
        if layers in overrides and weights not in overrides:
            overrides[weights] = None
    config = check_settings(replace_settings(config, overrides))
    content_layers, style_layers = canonical_layers(
        config.content_layers, config.style_layers
    )
    if config.init not in INIT_MODES and not os.path.isfile(config.init):
        raise ValueError(
            f"Expected init to be one of {INIT_MODES} or an image file. "
            f"Received: init={config.init!r}"
        )
    _check_count(
        "content_layer_weights", config.content_layer_weights, content_layers
    )
    _check_count(
        "style_layer_weights", config.style_layer_weights, style_layers
    )
    if config.style_size is not None and config.style_scale is not None:
        raise ValueError(
            "Expected style_size or style_scale, not both. Received: "
            f"style_size={config.style_size!r}, "
            f"style_scale={config.style_scale!r}"
        )
    blend = config.style_blend_weights
    if blend is not None and not sum(blend) > 0:
        raise ValueError(
            "Expected style_blend_weights to have a positive sum. "
            f"Received: style_blend_weights={blend!r}"
        )
    return dataclasses.replace(
        config, content_layers=content_layers, style_layers=style_layers
    )


def _check_count(
    name: str, weights: tuple[float, ...] | None, layers: Sequence[str]
) -> None:
    if weights is not None and len(weights) != len(layers):
        raise ValueError(
            f"Expected one {name} entry per layer ({len(layers)}). "
            f"Received: {name}={weights!r}"
        )
