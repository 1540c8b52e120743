"""Every setting of a style transfer run, its default, and the presets.

This module imports no Keras, so the command line can read defaults and
presets before it chooses a backend.
"""

import dataclasses
import difflib
import os
from collections.abc import Sequence
from typing import Any

POOLING_MODES = ("max", "avg")
"""VGG19's pooling: the original max, or average (Gatys et al.)."""
INIT_MODES = ("content", "noise", "style")
"""Where the image starts (or give `Config.init` an image file)."""
CONTENT_LOSS_FORMS = ("sum", "mean")
"""`sum`: Gatys et al.'s 1/2 sum of squares; `mean`: mean of squares."""
TV_FORMS = ("squared", "absolute")
"""The total variation penalty on neighbouring pixels' differences."""
STYLE_NORMALIZATIONS = ("none", "target")
"""`target` divides each style layer's loss by its value for an all-zero
Gram matrix, making it the relative Gram error (see `keras_nst.losses`)."""
COLOR_MODES = ("none", "luminance", "histogram")
"""Colour preservation (Gatys et al. 2016b, arXiv:1606.05897)."""
OPTIMIZERS = ("adam", "lbfgs")
"""The optimisers `Config.optimizer` may name."""
PRECISIONS = ("fp32", "bf16")
"""The VGG19 forward and backward pass's arithmetic; losses stay float32."""
LINE_SEARCHES = ("none", "armijo")
"""L-BFGS's step rule (kept here so the CLI needs no Keras)."""
LOSS_NAMES = ("total", "content", "style", "tv")
"""The loss terms every run reports, in the progress bar and the log."""

GATYS_STYLE_LAYERS = (
    "block1_conv1",
    "block2_conv1",
    "block3_conv1",
    "block4_conv1",
    "block5_conv1",
)
"""Gatys et al. (2016), section 3: conv1_1 ... conv5_1 for style (and
conv4_2 for content)."""


@dataclasses.dataclass(frozen=True)
class Config:
    """All settings of one style transfer run.

    Layer names may be given the Keras way (`block4_conv2`) or the paper way
    (`conv4_2`, `relu4_2`); `resolve_config` turns them into Keras names.

    Args:
        content_layers: VGG19 layers whose features the content loss matches.
        content_layer_weights: weight of each content layer; `None` gives
            every layer `1 / len(content_layers)`.
        style_layers: VGG19 layers whose Gram matrices the style loss
            matches.
        style_layer_weights: `w_l` for each style layer; `None` gives every
            layer `1 / len(style_layers)` (Gatys et al. use 1/5 for five).
        style_blend_weights: with several style images, the weight of each
            one's Gram matrices in the blended target (normalised to sum
            to 1); `None` weighs them equally.
        content_weight: `alpha`, the weight of the content loss.
        style_weight: `beta`, the weight of the style loss.
        tv_weight: `gamma`, the weight of the total variation loss.
        content_loss_form: `"sum"` is `1/2 sum (F - P)^2` (Gatys et al.);
            `"mean"` is `mean (F - P)^2`, which does not grow with the
            image size.
        style_normalization: `"none"` weighs each layer's `E_l` as in
            Gatys et al.; `"target"` divides it by `E_l` of an all-zero
            Gram (`sum A^2 / (4 N_l^2)`), so each layer's loss is its
            relative Gram error and counts as its weight says.
        tv_form: `"squared"` sums squared neighbour differences,
            `"absolute"` sums absolute ones (as `tf.image.total_variation`).
        pooling: `"avg"` replaces VGG19's max pooling by average pooling
            with the same convolution weights, `"max"` keeps it.
        init: the starting image: `"content"`, `"noise"` (uniform in
            0..255, seeded), `"style"` (the style image resized to the
            output size) or the path of an image file.
        preserve_color: keep the content's colours: `"luminance"`
            transfers style on luminance only and puts the content's
            colour back; `"histogram"` recolours the style image to the
            content's colour statistics first (`keras_nst.color`).
        size: the longest side of the output, in pixels.
        style_size: the longest side the style image is resized to before
            its Gram matrices are taken; `None` uses `size`.
        iterations: the number of optimisation steps (at each scale).
        scales: how many sizes to optimise at, coarse to fine, each
            `sqrt(2)` times the last and ending at `size`; each starts from
            the last one's result, upsampled. 1 is a single run at `size`.
        optimizer: `"adam"` (all seeds) or `"lbfgs"` (Gatys et al.,
            jcjohnson/neural-style; see `keras_nst.lbfgs.LBFGS`).
        learning_rate: Adam's step size, in pixel units (0..255). L-BFGS
            takes unit steps along its quasi-Newton direction, as
            jcjohnson/neural-style does, and ignores it.
        lbfgs_history: how many curvature pairs L-BFGS keeps.
        line_search: L-BFGS's step rule: `"none"` takes every unit step
            (jcjohnson/neural-style); `"armijo"` halves a step that does
            not decrease the loss enough and tries again (each try is one
            iteration).
        average_decay: the decay of an exponential moving average of the
            image, which becomes the output (crowsonkb/style-transfer-pytorch
            averages Adam's iterates this way); 0 turns it off, 0.9 to 0.99
            smooths Adam's noise.
        precision: `"fp32"`, or `"bf16"` to run VGG19 in bfloat16 (Keras'
            `mixed_bfloat16` policy: float32 weights, bf16 arithmetic)
            with the features cast back to float32 before the losses.
            Fast on GPUs and on CPUs with AMX or AVX-512 BF16, slower
            elsewhere.
        seed: seeds the noise initialisation; `None` draws a fresh seed.
        weights: `"imagenet"`, a path to a VGG19 notop `.h5` file, or
            `None` for random weights (tests and benchmarks only).
    """

    content_layers: tuple[str, ...] = ("block4_conv2",)
    content_layer_weights: tuple[float, ...] | None = None
    style_layers: tuple[str, ...] = GATYS_STYLE_LAYERS
    style_layer_weights: tuple[float, ...] | None = None
    style_blend_weights: tuple[float, ...] | None = None
    content_weight: float = 1.0
    style_weight: float = 1.0
    tv_weight: float = 0.0
    content_loss_form: str = "sum"
    style_normalization: str = "none"
    tv_form: str = "squared"
    pooling: str = "avg"
    init: str = "content"
    preserve_color: str = "none"
    size: int = 512
    style_size: int | None = None
    iterations: int = 500
    scales: int = 1
    optimizer: str = "adam"
    learning_rate: float = 10.0
    lbfgs_history: int = 20
    line_search: str = "none"
    average_decay: float = 0.0
    precision: str = "fp32"
    seed: int | None = None
    weights: str | None = "imagenet"

    def to_dict(self) -> dict[str, Any]:
        """Returns the settings as a JSON-serialisable dict."""
        return {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in dataclasses.asdict(self).items()
        }


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named `Config` with a one-line description of where it comes from."""

    description: str
    config: Config


PRESETS = {
    "gatys": Preset(
        "Gatys et al. layers (content conv4_2, style conv1_1..conv5_1, "
        "average pooling); each style layer normalised to its relative "
        "Gram error so all five count; size-independent content loss.",
        Config(
            content_loss_form="mean",
            # With the raw ImageNet weights conv4_1 makes up ~97% of the
            # style loss at 256 px (astronaut + Starry Night) and conv1_1
            # 0.03%; normalised, the shares are 22/7/16/20/36%. The weights
            # were chosen by looking at 256 and 512 px runs on the bundled
            # images (style 1e6 too weak, 1e7 too strong at 256 px).
            style_normalization="target",
            content_weight=1.0,
            style_weight=3e6,
            tv_weight=1e-3,
            tv_form="squared",
            learning_rate=10.0,
            iterations=500,
        ),
    ),
    "seed000": Preset(
        "Seed 000: content block5_conv2, Adam lr 5, content weight 1e4, "
        "style weight 1e-2, squared TV weight 1e2, 1000 iterations.",
        Config(
            content_layers=("block5_conv2",),
            content_loss_form="mean",
            content_weight=1e4,
            style_weight=1e-2,
            tv_weight=1e2,
            tv_form="squared",
            pooling="max",
            learning_rate=5.0,
            iterations=1000,
        ),
    ),
    "seed004": Preset(
        "Seed 004: Gatys et al. (content conv4_2, 1/2 sum squared error, "
        "average pooling), alpha 8e-4, beta 8e-1, 3000 iterations.",
        Config(
            content_loss_form="sum",
            content_weight=8e-4,
            style_weight=8e-1,
            tv_weight=0.0,
            pooling="avg",
            learning_rate=10.0,
            iterations=3000,
        ),
    ),
}
"""The presets by name; see the Presets page for what each seed chose."""
DEFAULT_PRESET = "gatys"
"""The preset a run starts from unless told otherwise."""

_VGG19_BLOCK_SIZES = (2, 2, 4, 4, 4)
KERAS_LAYER_NAMES = tuple(
    f"block{block}_conv{conv}"
    for block, convs in enumerate(_VGG19_BLOCK_SIZES, start=1)
    for conv in range(1, convs + 1)
)
"""VGG19's 16 convolution layers, `block1_conv1` ... `block5_conv4`."""


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
        + _suggestion(key, KERAS_LAYER_NAMES)
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


def _suggestion(value: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(value, choices, n=1)
    return f" (did you mean {close[0]!r}?)." if close else "."


def check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    """Raises `ValueError` unless `value` is one of `choices`."""
    if value not in choices:
        raise ValueError(
            f"Expected {name} to be one of {tuple(choices)}. "
            f"Received: {name}={value!r}"
        )


def _check_positive(name: str, value: float, allow_zero: bool) -> None:
    if value < 0 or (value == 0 and not allow_zero):
        bound = "non-negative" if allow_zero else "positive"
        raise ValueError(
            f"Expected {name} to be {bound}. Received: {name}={value!r}"
        )


def _layer_weights(
    name: str, weights: Sequence[float] | None, layers: Sequence[str]
) -> tuple[float, ...] | None:
    if weights is None:
        return None
    weights = tuple(float(w) for w in weights)
    if len(weights) != len(layers):
        raise ValueError(
            f"Expected one {name} entry per layer ({len(layers)}). "
            f"Received: {name}={weights!r}"
        )
    for weight in weights:
        _check_positive(name, weight, allow_zero=True)
    return weights


def _blend_weights(weights: Sequence[float] | None) -> tuple[float, ...] | None:
    if weights is None:
        return None
    weights = tuple(float(w) for w in weights)
    for weight in weights:
        _check_positive("style_blend_weights", weight, allow_zero=True)
    if not sum(weights) > 0:
        raise ValueError(
            "Expected style_blend_weights to have a positive sum. "
            f"Received: style_blend_weights={weights!r}"
        )
    return weights


def _check_known(cls, overrides) -> None:
    known = sorted(field.name for field in dataclasses.fields(cls))
    for key in overrides:
        if key not in known:
            raise ValueError(
                f"Unknown setting {key!r}"
                + _suggestion(key, known)
                + f" Expected one of {known}."
            )


def _canonical_layers(config) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The config's content and style layers by their Keras names."""
    content = tuple(canonical_layer_name(n) for n in config.content_layers)
    style = tuple(canonical_layer_name(n) for n in config.style_layers)
    if not content and not style:
        raise ValueError("Expected at least one content or style layer.")
    return content, style


def get_preset(name: str) -> Config:
    """Returns the `Config` of the preset called `name`."""
    if name not in PRESETS:
        raise ValueError(
            f"Unknown preset {name!r}"
            + _suggestion(name, tuple(PRESETS))
            + f" Expected one of {tuple(PRESETS)}."
        )
    return PRESETS[name].config


def resolve_config(
    config: Config | str | None = None, **overrides: Any
) -> Config:
    """Builds a checked `Config` from a preset and overrides.

    Args:
        config: a `Config`, a preset name, or `None` for the default
            preset (`"gatys"`).
        **overrides: `Config` fields to change; `None` values are ignored,
            so command-line options left unset keep the preset's value.

    Returns:
        A `Config` with canonical layer names and checked values.

    Raises:
        ValueError: an unknown field, preset or layer, or a bad value.
    """
    if config is None:
        config = DEFAULT_PRESET
    if isinstance(config, str):
        config = get_preset(config)
    _check_known(Config, overrides)
    given = {k: v for k, v in overrides.items() if v is not None}
    # Layer weights belong to their layers: new layers without new weights
    # fall back to equal weights instead of keeping the preset's.
    for layers, weights in (
        ("content_layers", "content_layer_weights"),
        ("style_layers", "style_layer_weights"),
    ):
        if layers in given and weights not in given:
            given[weights] = None
    config = dataclasses.replace(config, **given)

    content_layers, style_layers = _canonical_layers(config)
    check_choice("pooling", config.pooling, POOLING_MODES)
    check_choice("tv_form", config.tv_form, TV_FORMS)
    check_choice("preserve_color", config.preserve_color, COLOR_MODES)
    check_choice(
        "style_normalization", config.style_normalization, STYLE_NORMALIZATIONS
    )
    check_choice(
        "content_loss_form", config.content_loss_form, CONTENT_LOSS_FORMS
    )
    check_choice("optimizer", config.optimizer, OPTIMIZERS)
    check_choice("line_search", config.line_search, LINE_SEARCHES)
    check_choice("precision", config.precision, PRECISIONS)
    if not 0 <= config.average_decay < 1:
        raise ValueError(
            "Expected average_decay to be in [0, 1). "
            f"Received: average_decay={config.average_decay!r}"
        )
    if config.init not in INIT_MODES and not os.path.isfile(config.init):
        raise ValueError(
            f"Expected init to be one of {INIT_MODES} or an image file. "
            f"Received: init={config.init!r}"
        )
    for name in ("content_weight", "style_weight", "tv_weight"):
        _check_positive(name, getattr(config, name), allow_zero=True)
    _check_positive("learning_rate", config.learning_rate, allow_zero=False)
    _check_positive("size", config.size, allow_zero=False)
    _check_positive("lbfgs_history", config.lbfgs_history, allow_zero=False)
    _check_positive("iterations", config.iterations, allow_zero=True)
    _check_positive("scales", config.scales, allow_zero=False)
    if config.style_size is not None:
        _check_positive("style_size", config.style_size, allow_zero=False)
    return dataclasses.replace(
        config,
        content_layers=content_layers,
        style_layers=style_layers,
        content_layer_weights=_layer_weights(
            "content_layer_weights",
            config.content_layer_weights,
            content_layers,
        ),
        style_layer_weights=_layer_weights(
            "style_layer_weights", config.style_layer_weights, style_layers
        ),
        style_blend_weights=_blend_weights(config.style_blend_weights),
        size=int(config.size),
        iterations=int(config.iterations),
    )


JOHNSON_STYLE_LAYERS = (
    "block1_conv2",
    "block2_conv2",
    "block3_conv3",
    "block4_conv3",
)
"""Johnson et al. (2016), section 4.1: style at relu1_2, relu2_2, relu3_3
and relu4_3, content at relu3_3 (of VGG-16; the names exist in VGG19)."""


@dataclasses.dataclass(frozen=True)
class TrainConfig:
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
        size: the side of the square training crops.
        style_size: the longest side the style image is resized to; `None`
            uses `size`.
        batch_size: crops per step (Johnson et al.: 4).
        steps: optimisation steps (Johnson et al.: 40k on COCO).
        learning_rate: Adam's learning rate (Johnson et al.: 1e-3).
        filters: `TransformNet`'s first width (32).
        residual_blocks: `TransformNet`'s residual blocks (5).
        seed: seeds the crops and the network's initial weights.
        weights: VGG19 weights: `"imagenet"`, a file, or `None` (tests).
    """

    content_layers: tuple[str, ...] = ("block3_conv3",)
    style_layers: tuple[str, ...] = JOHNSON_STYLE_LAYERS
    content_weight: float = 1.0
    style_weight: float = 1e6
    tv_weight: float = 1e-5
    pooling: str = "max"
    size: int = 256
    style_size: int | None = None
    batch_size: int = 4
    steps: int = 2000
    learning_rate: float = 1e-3
    filters: int = 32
    residual_blocks: int = 5
    seed: int = 0
    weights: str | None = "imagenet"

    def to_dict(self) -> dict[str, Any]:
        """Returns the settings as a JSON-serialisable dict."""
        return {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in dataclasses.asdict(self).items()
        }


def resolve_train_config(
    config: TrainConfig | None = None, **overrides: Any
) -> TrainConfig:
    """Builds a checked `TrainConfig`; `None` overrides are ignored.

    Raises:
        ValueError: an unknown field or layer, or a bad value.
    """
    config = config or TrainConfig()
    _check_known(TrainConfig, overrides)
    config = dataclasses.replace(
        config, **{k: v for k, v in overrides.items() if v is not None}
    )
    content_layers, style_layers = _canonical_layers(config)
    check_choice("pooling", config.pooling, POOLING_MODES)
    for name in ("content_weight", "style_weight", "tv_weight"):
        _check_positive(name, getattr(config, name), allow_zero=True)
    for name in (
        "size", "batch_size", "steps", "learning_rate", "filters",
    ):  # fmt: skip
        _check_positive(name, getattr(config, name), allow_zero=False)
    _check_positive("residual_blocks", config.residual_blocks, allow_zero=True)
    if config.style_size is not None:
        _check_positive("style_size", config.style_size, allow_zero=False)
    return dataclasses.replace(
        config, content_layers=content_layers, style_layers=style_layers
    )
