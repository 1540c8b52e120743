"""Every setting of a style transfer run, its default, and the presets.

`Config()` is the default run; the presets and `resolve_config`, which
builds a checked `Config` from a preset and overrides, are in
`keras_nst.presets`. Each field is declared once with
`keras_nst.settings.setting`: its default, bounds, choices and the one
line of help the command line shows.
This module imports no Keras, so the command line can read defaults and
presets before it chooses a backend.
"""

import dataclasses
from typing import Any

from keras_nst.choices import COLOR_MODES
from keras_nst.choices import CONTENT_LOSS_FORMS
from keras_nst.choices import INIT_MODES
from keras_nst.choices import LINE_SEARCHES
from keras_nst.choices import MAX_ITERATIONS
from keras_nst.choices import MAX_LBFGS_HISTORY
from keras_nst.choices import MAX_SCALES
from keras_nst.choices import MAX_SEED
from keras_nst.choices import MAX_SIDE
from keras_nst.choices import OPTIMIZERS
from keras_nst.choices import PADDINGS
from keras_nst.choices import POOLING_MODES
from keras_nst.choices import PRECISIONS
from keras_nst.choices import STYLE_LOSSES
from keras_nst.choices import STYLE_NORMALIZATIONS
from keras_nst.choices import TV_FORMS
from keras_nst.choices import TV_REDUCTIONS
from keras_nst.settings import Settings
from keras_nst.settings import setting

__all__ = ["GATYS_STYLE_LAYERS", "Config", "weights_setting"]

GATYS_STYLE_LAYERS = (
    "block1_conv1",
    "block2_conv1",
    "block3_conv1",
    "block4_conv1",
    "block5_conv1",
)
"""Gatys et al. (2016), section 3: conv1_1 ... conv5_1 for style (and
conv4_2 for content)."""


def weights_setting() -> Any:
    """The `weights` field every settings class shares."""
    return setting(
        "imagenet",
        "VGG19 weights: imagenet, a notop .h5 file, or random (tests).",
        "run",
        optional=True,
    )


@dataclasses.dataclass(frozen=True)
class Config(Settings):
    """All settings of one style transfer run; `Config()` is the default.

    The defaults are the `gatys` preset: Gatys et al.'s layers with
    VGG19's own max pooling, each style layer normalised to its relative
    Gram error so all five count, and a content loss that does not grow
    with the image size. Layer names may be given the Keras way
    (`block4_conv2`) or the paper way (`conv4_2`, `relu4_2`);
    `resolve_config` turns them into Keras names.

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
        style_loss: `"gram"` matches Gram matrices (Gatys et al.); `"w2"`
            the Wasserstein-2 distance between Gaussians fitted to each
            layer's features, their means and covariances
            (`keras_nst.wasserstein`). `style_normalization="target"`
            divides either by its value at an all-zero image.
        tv_form: `"squared"` sums squared neighbour differences,
            `"absolute"` sums absolute ones (as `tf.image.total_variation`).
        tv_reduction: `"mean"` divides the total variation by the number
            of pixels, so `tv_weight` smooths as much at 2048 px as at
            256 px; `"sum"` does not (it grows with the area).
        pooling: `"max"` keeps VGG19's max pooling; `"avg"` replaces it
            by average pooling with the same convolution weights (Gatys
            et al.), which paints a fine mesh of stripes in flat regions.
        padding: how VGG19's convolutions pad: `"zero"` (VGG19's own),
            `"reflect"` (mirror) or `"replicate"` (copy the border). With
            zeros the border pixels are cheap to change and can wash out.
        init: the starting image: `"content"`, `"noise"` (uniform in
            0..255, seeded), `"style"` (the style image resized to the
            output size) or the path of an image file.
        preserve_color: keep the content's colours: `"luminance"`
            transfers style on luminance only and puts the content's
            colour back; `"histogram"` recolours the style image to the
            content's colour statistics first (`keras_nst.color`).
        size: the longest side of the output, in pixels (at most
            `MAX_SIDE`, 65536).
        style_size: the longest side the style image is resized to before
            its statistics are taken (at most `MAX_SIDE`); `None` uses
            `size`, or `style_scale`.
        style_scale: the style image's longest side as a factor of the
            output's, at every scale (jcjohnson/neural-style's
            `-style_scale`); not with `style_size`. `None` uses
            `style_size`.
        style_detail: the finest detail taken from the style image, as a
            fraction of its own resolution: a style image resized to more
            than this is first reduced to it and enlarged again, so the
            scan's and compression's grain of its finest octave does not
            become a mesh in the picture (`resize_style_image`); 1 keeps
            every pixel.
        iterations: the optimisation steps at the first scale, where
            steps are cheap and the picture's layout forms; in a run of
            one scale, all its steps (at most `MAX_ITERATIONS`).
        refine_iterations: the steps at each scale after the first, which
            refine the picture at a larger size; `None` takes `iterations`
            there too.
        start_size: the first scale's longest side: the run optimises at
            `start_size`, then at sizes `sqrt(2)` times larger, ending at
            `size`, each scale starting from the last one's picture (and
            Adam's moments) resized. At `size` or above, or `None`, one
            scale.
        scales: the number of scales instead, each `sqrt(2)` times the
            last and ending at `size` (at most `MAX_SCALES`); 1 is a single
            run at `size`. `None` takes the scales from `start_size`.
        optimizer: `"adam"` (the TensorFlow tutorials) or `"lbfgs"`
            (Gatys et al., jcjohnson/neural-style; see
            `keras_nst.lbfgs.LBFGS`).
        learning_rate: Adam's step size, in pixel units (0..255). L-BFGS
            takes unit steps along its quasi-Newton direction, as
            jcjohnson/neural-style does, and ignores it.
        lbfgs_history: how many curvature pairs L-BFGS keeps (at most
            `MAX_LBFGS_HISTORY`).
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
        tile_size: above this side in pixels, VGG19 sees the image one
            tile at a time, with the same losses and gradient
            (`keras_nst.tiled`); 0 never tiles.
        max_memory: a memory budget in GB for the check before a run;
            with `tile_size=0` the largest scales are tiled as finely as
            needed to fit it. `None`: the available memory.
        seed: seeds the noise initialisation, 0 to `MAX_SEED` (2**32 - 1);
            `None` draws a fresh seed.
        weights: `"imagenet"`, a path to a VGG19 notop `.h5` file, or
            `None` for random weights (tests and benchmarks only).
    """

    content_layers: tuple[str, ...] = setting(
        ("block4_conv2",), "Comma-separated, e.g. conv4_2.", "losses"
    )
    content_layer_weights: tuple[float, ...] | None = setting(
        None,
        "Comma-separated, one per content layer [default: equal].",
        "losses",
        kind="floats",
        minimum=0,
    )
    style_layers: tuple[str, ...] = setting(
        GATYS_STYLE_LAYERS, "Comma-separated, e.g. conv1_1,conv2_1.", "losses"
    )
    style_layer_weights: tuple[float, ...] | None = setting(
        None,
        "Comma-separated, one per style layer [default: equal].",
        "losses",
        kind="floats",
        minimum=0,
    )
    style_blend_weights: tuple[float, ...] | None = setting(
        None,
        "Comma-separated, one weight per style image [default: equal].",
        "images",
        kind="floats",
        minimum=0,
        flags=("--style-blend",),
    )
    content_weight: float = setting(1.0, "alpha.", "losses", minimum=0)
    # With max pooling more of the photo survives at the same beta; 1e7
    # paints about as clearly as 3e6 did with average pooling, judged on
    # the bundled pairs at 256 and 512 px (docs/results.md).
    style_weight: float = setting(1e7, "beta.", "losses", minimum=0)
    # 300 per pixel is 1e-3 summed at 550x550 px. Against 200, it took
    # the final total variation below the earlier default's at 512 px and
    # smooths the fine cross-hatching (docs/results.md).
    tv_weight: float = setting(
        300.0, "gamma, total variation.", "losses", minimum=0
    )
    content_loss_form: str = setting(
        "mean",
        "sum: 1/2 sum of squared errors (Gatys et al.); mean: mean squared "
        "error, the same at any size.",
        "losses",
        choices=CONTENT_LOSS_FORMS,
    )
    # With the raw ImageNet weights conv4_1 makes up ~97% of the style
    # loss at 256 px (astronaut + Starry Night) and conv1_1 0.03%;
    # normalised, the shares are 22/7/16/20/36%.
    style_normalization: str = setting(
        "target",
        "none: Gatys et al.; target: each style layer's loss divided by its "
        "target's, so layers count as their weights say.",
        "losses",
        choices=STYLE_NORMALIZATIONS,
    )
    style_loss: str = setting(
        "gram",
        "gram: Gram matrices (Gatys et al.); w2: Wasserstein-2 distance of "
        "the feature means and covariances.",
        "losses",
        choices=STYLE_LOSSES,
    )
    tv_form: str = setting(
        "squared", "Total variation form.", "losses", choices=TV_FORMS
    )
    tv_reduction: str = setting(
        "mean",
        "mean: total variation per pixel, the same weight at any size; sum: "
        "grows with the area.",
        "losses",
        choices=TV_REDUCTIONS,
    )
    # Average pooling paints a mesh of 3-5 px stripes that lowers its own
    # style loss; max pooling leaves a fainter, finer one (docs/results.md).
    pooling: str = setting(
        "max", "VGG19 pooling.", "losses", choices=POOLING_MODES
    )
    padding: str = setting(
        "replicate",
        "VGG19's convolution padding: zero (VGG19's own), reflect or "
        "replicate the border.",
        "losses",
        choices=PADDINGS,
    )
    init: str = setting(
        "content",
        f"Start image: {', '.join(INIT_MODES)} or an image file.",
        "images",
    )
    preserve_color: str = setting(
        "none",
        "Keep the content's colours: luminance-only transfer, or the style "
        "recoloured to the content's colour statistics.",
        "images",
        choices=COLOR_MODES,
    )
    size: int = setting(
        512,
        "Longest side of the output in pixels.",
        "images",
        minimum=1,
        maximum=MAX_SIDE,
    )
    style_size: int | None = setting(
        None,
        "Longest side the style image is resized to [default: --size].",
        "images",
        kind="int",
        minimum=1,
        maximum=MAX_SIDE,
    )
    style_scale: float | None = setting(
        None,
        "Style image's longest side as a factor of the output's (not with "
        "--style-size).",
        "images",
        kind="float",
        minimum=0,
        min_open=True,
        maximum=16,
    )
    # Used at its file's own resolution, a painting's finest octave (the
    # scan's grain, not brushwork) paints a 3-4 px mesh (docs/results.md).
    style_detail: float = setting(
        0.5,
        "Finest detail taken from the style image, as a fraction of its own "
        "resolution; larger, it is reduced to this and enlarged again (1: "
        "every pixel).",
        "images",
        minimum=0,
        min_open=True,
        maximum=1,
    )
    iterations: int = setting(
        150,
        "Optimisation steps at the first scale (all of them, with one).",
        "optimiser",
        minimum=0,
        maximum=MAX_ITERATIONS,
    )
    refine_iterations: int | None = setting(
        60,
        "Steps at each larger scale after the first.",
        "optimiser",
        kind="int",
        optional=True,
        minimum=0,
        maximum=MAX_ITERATIONS,
    )
    start_size: int | None = setting(
        256,
        "Longest side of the first scale; scales grow x1.41 up to --size.",
        "optimiser",
        kind="int",
        optional=True,
        minimum=1,
        maximum=MAX_SIDE,
    )
    scales: int | None = setting(
        None,
        "Number of scales, x1.41 apart, ending at --size [default: from "
        "--start-size].",
        "optimiser",
        kind="int",
        minimum=1,
        maximum=MAX_SCALES,
    )
    optimizer: str = setting(
        "adam",
        "adam, or lbfgs (quasi-Newton, unit steps).",
        "optimiser",
        choices=OPTIMIZERS,
    )
    learning_rate: float = setting(
        10.0,
        "Adam step size in pixel units (not L-BFGS).",
        "optimiser",
        minimum=0,
        min_open=True,
        flags=("--learning-rate", "--lr"),
    )
    lbfgs_history: int = setting(
        20,
        "Curvature pairs L-BFGS keeps.",
        "optimiser",
        minimum=1,
        maximum=MAX_LBFGS_HISTORY,
    )
    line_search: str = setting(
        "none",
        "L-BFGS step rule: none takes every step, armijo halves a step that "
        "does not lower the loss enough.",
        "optimiser",
        choices=LINE_SEARCHES,
    )
    average_decay: float = setting(
        0.9,
        "Output the moving average of the iterates with this decay (e.g. "
        "0.95; 0 is off).",
        "optimiser",
        minimum=0,
        maximum=1,
        max_open=True,
    )
    precision: str = setting(
        "fp32",
        "VGG19 arithmetic: bf16 is faster on GPUs and CPUs with bf16 units.",
        "run",
        choices=PRECISIONS,
    )
    tile_size: int = setting(
        0,
        "Tile side in pixels: a larger image goes through VGG19 a tile at a "
        "time, with the same gradient (0: whole).",
        "run",
        minimum=0,
        maximum=MAX_SIDE,
    )
    max_memory: float | None = setting(
        None,
        "Memory budget in GB; with no --tile-size, tiles what would not "
        "fit [default: the available memory].",
        "run",
        kind="float",
        minimum=0,
        min_open=True,
    )
    seed: int | None = setting(
        None,
        "Seed for the noise start [default: fresh].",
        "run",
        kind="int",
        minimum=0,
        maximum=MAX_SEED,
    )
    weights: str | None = weights_setting()
