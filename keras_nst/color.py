"""Colour preservation: keep the content image's colours in the result.

Two ways from Gatys et al. (2016), both pure pre/post-processing around an
unchanged style transfer run:

- `"luminance"`: transfer style on luminance only. Content and style go to
  VGG as 3-channel greyscale (the style's luminance first matched to the
  content's mean and standard deviation); afterwards the result's
  luminance is combined with the content image's colour (YIQ I and Q).
- `"histogram"`: recolour the style image so that its pixels have the
  content image's mean and covariance, then run as usual.

Images are `(H, W, 3)` float32 RGB arrays in 0..255. Nothing here imports
Keras.

Reference:

- [Gatys, Bethge, Hertzmann, Shechtman, "Preserving Color in Neural
  Artistic Style Transfer" (2016)](https://arxiv.org/abs/1606.05897)
"""

import numpy as np

from keras_nst.choices import COLOR_MODES
from keras_nst.settings import check_choice

__all__ = [
    "COLOR_MODES",
    "combine_luminance",
    "finish_output",
    "luminance",
    "match_color_histogram",
    "match_luminance",
    "prepare_inputs",
    "rgb_to_yiq",
    "yiq_to_rgb",
]


# NTSC (FCC 1953) RGB -> YIQ. The I and Q rows sum to zero, so grey pixels
# have no chroma, and the Y row sums to one, so white has Y = 255.
_YIQ_FROM_RGB = np.array(
    [
        [0.299, 0.587, 0.114],
        [0.596, -0.274, -0.322],
        [0.211, -0.523, 0.312],
    ],
    dtype=np.float64,
)
# The exact inverse (not the rounded textbook one), so round trips are
# exact to float precision.
_RGB_FROM_YIQ = np.linalg.inv(_YIQ_FROM_RGB)

# Smallest covariance eigenvalue (in pixel units squared) used in matrix
# square roots: keeps greyscale or flat images (singular covariance) finite.
_EIGENVALUE_FLOOR = 1e-5


def _as_image(image: np.ndarray, name: str) -> np.ndarray:
    image = np.asarray(image, dtype=np.float64)
    if image.ndim < 1 or image.shape[-1] != 3:
        raise ValueError(
            f"Expected {name} to have shape (height, width, 3). "
            f"Received: shape={image.shape}"
        )
    return image


def rgb_to_yiq(image: np.ndarray) -> np.ndarray:
    """Converts RGB to NTSC YIQ (luminance Y, chroma I and Q).

    `Y = 0.299 R + 0.587 G + 0.114 B` keeps the RGB scale (0..255); I and
    Q are signed and zero for grey pixels.

    Args:
        image: `(H, W, 3)` RGB array.

    Returns:
        An `(H, W, 3)` float32 YIQ array.

    Reference:

    - [Gatys et al., 2016](https://arxiv.org/abs/1606.05897),
      luminance-only transfer
    """
    image = _as_image(image, "image")
    return (image @ _YIQ_FROM_RGB.T).astype(np.float32)


def yiq_to_rgb(image: np.ndarray) -> np.ndarray:
    """Converts NTSC YIQ back to RGB; the exact inverse of `rgb_to_yiq`.

    Not clipped: a YIQ triple outside the RGB cube maps outside 0..255.

    Args:
        image: `(H, W, 3)` YIQ array.

    Returns:
        An `(H, W, 3)` float32 RGB array.

    Reference:

    - [Gatys et al., 2016](https://arxiv.org/abs/1606.05897),
      luminance-only transfer
    """
    image = _as_image(image, "image")
    return (image @ _RGB_FROM_YIQ.T).astype(np.float32)


def luminance(image: np.ndarray) -> np.ndarray:
    """The luminance (YIQ Y) of an RGB image, as a 3-channel grey image.

    Repeating Y in R, G and B lets the result go through VGG like any RGB
    image.

    Args:
        image: `(H, W, 3)` RGB array in 0..255.

    Returns:
        An `(H, W, 3)` float32 array in 0..255 with three equal channels.

    Reference:

    - [Gatys et al., 2016](https://arxiv.org/abs/1606.05897),
      luminance-only transfer
    """
    image = _as_image(image, "image")
    y = np.clip(image @ _YIQ_FROM_RGB[0], 0.0, 255.0)
    return np.repeat(y[..., None], 3, axis=-1).astype(np.float32)


def match_luminance(
    style_lum: np.ndarray, content_lum: np.ndarray
) -> np.ndarray:
    """Shifts and scales the style luminance to the content's mean and std.

    `L' = (L_s - mean_s) * std_c / std_s + mean_c`, with statistics over all
    pixels. A flat style (`std_s == 0`) becomes flat at `mean_c`. The
    result is clipped to 0..255, which can move its statistics slightly
    when the content's spread is much wider than the style's.

    Args:
        style_lum: style luminance, e.g. from `luminance`; any shape.
        content_lum: content luminance; any shape (sizes may differ).

    Returns:
        A float32 array shaped like `style_lum`, in 0..255.

    Reference:

    - [Gatys et al., 2016](https://arxiv.org/abs/1606.05897),
      luminance-only transfer
    """
    style_lum = np.asarray(style_lum, dtype=np.float64)
    content_lum = np.asarray(content_lum, dtype=np.float64)
    mean_s, std_s = style_lum.mean(), style_lum.std()
    mean_c, std_c = content_lum.mean(), content_lum.std()
    scale = std_c / std_s if std_s > 0 else 0.0
    matched = (style_lum - mean_s) * scale + mean_c
    return np.clip(matched, 0.0, 255.0).astype(np.float32)


def combine_luminance(stylised: np.ndarray, content: np.ndarray) -> np.ndarray:
    """Puts the stylised image's luminance under the content's colours.

    Takes Y from `stylised` and I, Q from `content`, converts back to RGB
    and clips to 0..255 (so a bright luminance under a saturated colour
    can lose a little of either).

    Args:
        stylised: `(H, W, 3)` RGB result of a luminance-only transfer.
        content: `(H, W, 3)` RGB content image of the same shape.

    Returns:
        An `(H, W, 3)` float32 RGB array in 0..255.

    Raises:
        ValueError: the shapes differ or are not `(..., 3)`.

    Reference:

    - [Gatys et al., 2016](https://arxiv.org/abs/1606.05897),
      luminance-only transfer
    """
    stylised = _as_image(stylised, "stylised")
    content = _as_image(content, "content")
    if stylised.shape != content.shape:
        raise ValueError(
            "Expected stylised and content to have the same shape. "
            f"Received: shape={stylised.shape} and shape={content.shape}"
        )
    yiq = content @ _YIQ_FROM_RGB.T
    yiq[..., 0] = stylised @ _YIQ_FROM_RGB[0]
    rgb = yiq @ _RGB_FROM_YIQ.T
    return np.clip(rgb, 0.0, 255.0).astype(np.float32)


def _symmetric_power(covariance: np.ndarray, power: float) -> np.ndarray:
    """`C ** power` of a symmetric matrix by eigendecomposition."""
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    eigenvalues = np.maximum(eigenvalues, _EIGENVALUE_FLOOR) ** power
    return (eigenvectors * eigenvalues) @ eigenvectors.T


def _pixel_statistics(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pixels = image.reshape(-1, 3)
    mean = pixels.mean(axis=0)
    centred = pixels - mean
    return mean, centred.T @ centred / len(pixels)


def match_color_histogram(style: np.ndarray, content: np.ndarray) -> np.ndarray:
    """Recolours the style image to the content's colour mean and covariance.

    The paper's linear colour transfer: every style pixel `x` becomes
    `A (x - mu_s) + mu_c` with `A = C_c^(1/2) C_s^(-1/2)` (the symmetric
    "Image Analogies" variant, which the paper prefers to Cholesky), so
    `A C_s A^T = C_c`. Square roots use `eigh`; eigenvalues are floored at
    1e-5 so greyscale or flat images stay finite (their missing colour
    directions simply stay empty). The result is clipped to 0..255, which
    can shift its mean and covariance slightly away from the content's.

    Args:
        style: `(H, W, 3)` RGB style image in 0..255.
        content: `(H', W', 3)` RGB content image in 0..255.

    Returns:
        The recoloured style, an `(H, W, 3)` float32 array in 0..255.

    Reference:

    - [Gatys et al., 2016](https://arxiv.org/abs/1606.05897),
      colour histogram matching
    """
    style = _as_image(style, "style")
    content = _as_image(content, "content")
    mean_s, covariance_s = _pixel_statistics(style)
    mean_c, covariance_c = _pixel_statistics(content)
    transform = _symmetric_power(covariance_c, 0.5) @ _symmetric_power(
        covariance_s, -0.5
    )
    recoloured = (style - mean_s) @ transform.T + mean_c
    return np.clip(recoloured, 0.0, 255.0).astype(np.float32)


def prepare_inputs(
    mode: str, content: np.ndarray, style: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The content and style images to give VGG for a colour mode.

    - `"none"`: both unchanged.
    - `"histogram"`: the style recoloured by `match_color_histogram`.
    - `"luminance"`: both as 3-channel `luminance`, the style's matched to
      the content's by `match_luminance`.

    Args:
        mode: one of `COLOR_MODES`.
        content: `(H, W, 3)` RGB content image in 0..255.
        style: `(H', W', 3)` RGB style image in 0..255.

    Returns:
        `(content_for_vgg, style_for_vgg)`, float32 arrays in 0..255 with
        the input shapes.

    Raises:
        ValueError: `mode` is not one of `COLOR_MODES`.

    Reference:

    - [Gatys et al., 2016](https://arxiv.org/abs/1606.05897)
    """
    check_choice("mode", mode, COLOR_MODES)
    content = np.asarray(content, dtype=np.float32)
    style = np.asarray(style, dtype=np.float32)
    if mode == "histogram":
        return content, match_color_histogram(style, content)
    if mode == "luminance":
        content_lum = luminance(content)
        return content_lum, match_luminance(luminance(style), content_lum)
    return content, style


def finish_output(
    mode: str, result: np.ndarray, content: np.ndarray
) -> np.ndarray:
    """The final image for a colour mode, from the optimised one.

    Only `"luminance"` changes anything: the result's luminance is
    combined with the content's colours by `combine_luminance`.

    Args:
        mode: one of `COLOR_MODES`.
        result: `(H, W, 3)` RGB image from the transfer, in 0..255.
        content: `(H, W, 3)` original (colour) content image, in 0..255.

    Returns:
        An `(H, W, 3)` float32 RGB array in 0..255.

    Raises:
        ValueError: `mode` is not one of `COLOR_MODES`, or (luminance) the
            shapes differ.

    Reference:

    - [Gatys et al., 2016](https://arxiv.org/abs/1606.05897)
    """
    check_choice("mode", mode, COLOR_MODES)
    if mode == "luminance":
        return combine_luminance(result, content)
    return np.asarray(result, dtype=np.float32)
