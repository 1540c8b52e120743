"""Optical flow, warping along it, and where it can be trusted.

Conventions: a flow `(H, W, 2)` holds `(dx, dy)` in pixels. The flow from
frame `a` to frame `b` says where each pixel of `a` is in `b`:
`a(x) ~ b(x + flow(x))`. So `warp(b, flow)` brings `b` into `a`'s
coordinates; a video run warps the last stylised frame into the next with
the flow from the next frame to the last (the backward flow).

The reliability mask is the forward-backward consistency check of
Sundaram, Brox and Keutzer (2010) as Ruder, Dosovitskiy and Brox (2016,
section 3.2) use it: a pixel is left out where the two flows disagree
(a disocclusion) or where the flow changes sharply (a motion boundary).
Flow is OpenCV's (the `video` extra); the rest is NumPy.
"""

import numpy as np

from keras_nst.errors import MissingExtraError

__all__ = [
    "optical_flow",
    "reliable_mask",
    "warp",
    "warping_error",
]


def _cv2():
    try:
        import cv2
    except ImportError:
        raise MissingExtraError(
            "Optical flow needs OpenCV: pip install 'keras-nst[video]'"
        ) from None
    return cv2


def _grey(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, np.float32)
    grey = image @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.clip(np.rint(grey), 0, 255).astype(np.uint8)


def optical_flow(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The flow from `first` to `second`: `first(x) ~ second(x + flow(x))`.

    OpenCV's DIS optical flow (Kroeger et al. 2016) at its "medium"
    preset, on the frames' luminance.

    Args:
        first: `(H, W, 3)` RGB array in 0..255.
        second: the same shape.

    Returns:
        `(H, W, 2)` float32 `(dx, dy)` in pixels.
    """
    first, second = np.asarray(first), np.asarray(second)
    if first.shape != second.shape or first.ndim != 3:
        raise ValueError(
            "Expected two (H, W, 3) frames of one shape. "
            f"Received: {first.shape} and {second.shape}"
        )
    cv2 = _cv2()
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(_grey(first), _grey(second), None).astype(np.float32)


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """`image` sampled at `x + flow(x)`, bilinearly; edges are repeated.

    Args:
        image: `(H, W, C)` array.
        flow: `(H, W, 2)` `(dx, dy)`.

    Returns:
        `(H, W, C)` float32: `out(x) = image(x + flow(x))`.
    """
    image = np.asarray(image, np.float32)
    height, width = flow.shape[:2]
    if image.shape[:2] != (height, width):
        raise ValueError(
            f"Expected the image {image.shape[:2]} and the flow "
            f"{flow.shape[:2]} to have one size."
        )
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    x = np.clip(cols + flow[..., 0], 0, width - 1)
    y = np.clip(rows + flow[..., 1], 0, height - 1)
    x0 = np.minimum(np.floor(x).astype(np.int64), width - 2 if width > 1 else 0)
    y0 = np.minimum(
        np.floor(y).astype(np.int64), height - 2 if height > 1 else 0
    )
    x1 = np.minimum(x0 + 1, width - 1)
    y1 = np.minimum(y0 + 1, height - 1)
    fx = (x - x0)[..., None]
    fy = (y - y0)[..., None]
    top = image[y0, x0] * (1 - fx) + image[y0, x1] * fx
    bottom = image[y1, x0] * (1 - fx) + image[y1, x1] * fx
    return (top * (1 - fy) + bottom * fy).astype(np.float32)


def reliable_mask(backward: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Where the backward flow can be trusted: 1 there, 0 elsewhere.

    With `backward` the flow from frame t to frame t-1 (`w^` in Ruder et
    al.) and `forward` from t-1 to t (`w`), `w~(x) = w(x + w^(x))`. A pixel
    is a disocclusion where `|w~ + w^|^2 > 0.01 (|w~|^2 + |w^|^2) + 0.5`,
    and a motion boundary where `|grad u^|^2 + |grad v^|^2 > 0.01 |w^|^2 +
    0.002`; the constants are theirs.

    Args:
        backward: `(H, W, 2)`, frame t to frame t-1.
        forward: `(H, W, 2)`, frame t-1 to frame t.

    Returns:
        `(H, W, 1)` float32 of 0 and 1.
    """
    returned = warp(forward, backward)
    squared = np.sum(backward**2, axis=-1)
    disoccluded = np.sum((returned + backward) ** 2, axis=-1) > (
        0.01 * (np.sum(returned**2, axis=-1) + squared) + 0.5
    )
    gradient = sum(
        np.sum(np.square(np.gradient(backward[..., c])), axis=0)
        for c in range(2)
    )
    boundary = gradient > 0.01 * squared + 0.002
    keep = ~(disoccluded | boundary)
    return keep[..., None].astype(np.float32)


def warping_error(
    current: np.ndarray,
    previous: np.ndarray,
    backward: np.ndarray,
    mask: np.ndarray,
) -> float:
    """The temporal warping error between two consecutive stylised frames.

    The mean squared difference between `current` and `previous` warped
    into it, over the pixels (and channels) the mask keeps: the flicker
    measure of Ruder et al. (2016, section 5) and later work.

    Args:
        current: stylised frame t, `(H, W, 3)` in 0..255.
        previous: stylised frame t-1.
        backward: the flow from input frame t to input frame t-1.
        mask: `reliable_mask(backward, forward)`.

    Returns:
        The error in squared levels (0..255 scale); NaN if the mask keeps
        nothing.
    """
    difference = np.asarray(current, np.float32) - warp(previous, backward)
    kept = float(np.sum(mask)) * difference.shape[-1]
    if kept == 0:
        return float("nan")
    return float(np.sum(mask * difference**2) / kept)
