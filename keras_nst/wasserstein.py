"""A Wasserstein-2 style loss: match each layer's Gaussian of features.

A layer's features at its `M` positions are samples of a distribution over
`R^C`; the loss is the squared 2-Wasserstein distance between the Gaussians
with the generated and the style image's means and covariances (Dowson &
Landau 1982; Givens & Shortt 1984):

`W2^2 = |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S2^1/2 S1 S2^1/2)^1/2)`.

`tr((S2^1/2 S1 S2^1/2)^1/2)` is the sum of the square roots of the
eigenvalues of `B^T B = S2^1/2 S1 S2^1/2`, `B = Fc S2^1/2 / sqrt(M)` with
`Fc` the centred `M x C` features, and so also of `B B^T`'s: the loss takes
the smaller. Deep layers of small images have fewer positions than
channels (64 and 512 at conv5_1 of a 128 px image); there `B B^T` is
`M x M` instead of a `C x C` matrix with `C - M + 1` zero eigenvalues.

`method="eigh"`, the default, uses eigenvalues only (their gradient has
no `1 / (l_i - l_j)` terms, the eigenvectors' has) and drops those under
`EIGENVALUE_FLOOR` of the largest, round-off of zeros where `sqrt`'s
gradient is infinite. It was the fastest stable method on CPU on all three
backends (`scripts/bench_sqrtm.py`); `"newton_schulz"` uses matmuls only.
"""

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from keras import ops

from keras_nst.types import Tensor

__all__ = [
    "METHODS",
    "WassersteinTarget",
    "blend_moments",
    "feature_moments",
    "layer_wasserstein_loss",
    "moments_wasserstein_loss",
    "sqrtm_psd",
    "target_wasserstein_scale",
    "wasserstein_target",
]

METHODS = ("eigh", "newton_schulz")
# Eigenvalues of the float32 Gram of `B` that are zero in exact arithmetic
# came out at most 2e-7 of the largest (C = 512, M = 64, every backend);
# a floor 5x above keeps them out, and drops only singular values under
# 0.1% of the largest.
EIGENVALUE_FLOOR = 1e-6
# Newton-Schulz squares the spread of the eigenvalues each iteration:
# 15 resolve eigenvalues down to ~5e-6 of the Frobenius norm. More also
# blow up round-off negative eigenvalues of rank-deficient input (x ->
# x (3 - x)^2 / 4 diverges for x < 0): NaN after 30 in float32.
NEWTON_SCHULZ_ITERATIONS = 15


class WassersteinTarget(NamedTuple):
    """A style layer's Gaussian, float32 tensors (a pytree for JAX).

    Attributes:
        mean: `(1, C)` mean of the style features.
        cov: `(1, C, C)` covariance of the style features.
        cov_sqrt: `(1, C, C)` its principal square root `S2^1/2`.
    """

    mean: Tensor
    cov: Tensor
    cov_sqrt: Tensor


def _centred(features: Tensor) -> tuple[Tensor, Tensor, int]:
    """Mean `(batch, C)`, centred features `(batch, M, C)` and `M`."""
    # float32 even under mixed bf16: eigh has no bf16 kernels, and the
    # moments need the precision.
    features = ops.cast(features, "float32")
    shape = ops.shape(features)
    positions = shape[1] * shape[2]
    flat = ops.reshape(features, (shape[0], positions, shape[3]))
    mean = ops.mean(flat, axis=1)
    return mean, flat - mean[:, None, :], positions


def feature_moments(features: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and covariance of each batch item's features over positions.

    The population covariance `E[f f^T] - mu mu^T`, from centred features:
    the difference loses the digits in float32 when the mean is large.

    Args:
        features: `(batch, height, width, C)` tensor.

    Returns:
        `(batch, C)` means and `(batch, C, C)` covariances, float32.
    """
    mean, centred, positions = _centred(features)
    cov = ops.einsum("bpi,bpj->bij", centred, centred)
    return mean, cov / ops.cast(positions, cov.dtype)


def blend_moments(
    moments: Sequence[tuple[Tensor, Tensor]], weights: Sequence[float]
) -> tuple[Tensor, Tensor]:
    """Moments of the mixture of several style images' feature distributions.

    `mean = sum w_i mu_i`, `cov = sum w_i (S_i + mu_i mu_i^T) - mean mean^T`,
    computed as `sum w_i (S_i + (mu_i - mean)(mu_i - mean)^T)`, which is
    the same without the cancellation.

    Args:
        moments: `(mean, cov)` pairs from `feature_moments`, one per image.
        weights: the images' weights, summing to 1.

    Returns:
        The mixture's `(mean, cov)`.

    Raises:
        ValueError: not one weight per pair, or not summing to 1.
    """
    if (
        not moments
        or len(moments) != len(weights)
        or abs(sum(weights) - 1) > 1e-5
    ):
        raise ValueError(
            "Expected one weight per (mean, cov) pair, summing to 1. Received: "
            f"{len(moments)} pairs and weights={list(weights)}"
        )
    # Tensors first: NumPy's + would not take a torch tensor.
    pairs = [tuple(map(ops.convert_to_tensor, pair)) for pair in moments]
    mean = sum(w * m for w, (m, _) in zip(weights, pairs, strict=True))
    cov = 0.0
    for w, (m, c) in zip(weights, pairs, strict=True):
        offset = m - mean
        cov = cov + w * (c + ops.einsum("...i,...j->...ij", offset, offset))
    return mean, cov


def _newton_schulz(matrix: Tensor, iterations: int) -> Tensor:
    """Coupled Newton-Schulz iteration on `A / |A|_F`: `Y -> A^1/2`."""
    squares = ops.sum(ops.square(matrix), axis=(-2, -1), keepdims=True)
    # The floor keeps a zero matrix's gradient finite (sqrt'(0) = inf).
    norm = ops.sqrt(ops.maximum(squares, 1e-30))
    eye = ops.eye(ops.shape(matrix)[-1], dtype=matrix.dtype)

    def step(_, yz):
        t = 1.5 * eye - 0.5 * ops.matmul(yz[1], yz[0])
        return ops.matmul(yz[0], t), ops.matmul(t, yz[1])

    # A loop, not unrolled: XLA compiled the gradient 2x faster.
    start = (matrix / norm, ops.broadcast_to(eye, ops.shape(matrix)))
    return ops.fori_loop(0, iterations, step, start)[0] * ops.sqrt(norm)


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(
            f"Expected method to be one of {METHODS}. "
            f"Received: method={method!r}"
        )


def sqrtm_psd(
    matrix: Tensor,
    method: str = "eigh",
    iterations: int = NEWTON_SCHULZ_ITERATIONS,
) -> Tensor:
    """Principal square root of symmetric positive semi-definite matrices.

    `"eigh"`: `V diag(sqrt(max(l, 0))) V^T`, exact to round-off, but its
    gradient, through the eigenvectors, is infinite at repeated
    eigenvalues. `"newton_schulz"`: matmuls only; eigenvalues under about
    `2.25^-iterations` of the Frobenius norm are not resolved.

    Args:
        matrix: `(..., n, n)` tensor.
        method: `"eigh"` or `"newton_schulz"`.
        iterations: Newton-Schulz iterations.

    Returns:
        A tensor of the shape of `matrix`.

    Raises:
        ValueError: an unknown `method`.
    """
    _check_method(method)
    matrix = ops.convert_to_tensor(matrix)
    if method == "newton_schulz":
        return _newton_schulz(matrix, iterations)
    eigenvalues, vectors = ops.eigh(matrix)
    roots = ops.sqrt(ops.maximum(eigenvalues, 0.0))
    return ops.matmul(
        vectors * roots[..., None, :], ops.swapaxes(vectors, -1, -2)
    )


def _trace_sqrt(gram: Tensor, method: str, iterations: int) -> Tensor:
    """`tr(gram^1/2)` per batch item, with a finite gradient."""
    if method == "newton_schulz":
        return ops.trace(_newton_schulz(gram, iterations), axis1=-2, axis2=-1)
    eigenvalues = ops.eigh(gram)[0]
    largest = ops.max(eigenvalues, axis=-1, keepdims=True)
    keep = eigenvalues > ops.stop_gradient(largest) * EIGENVALUE_FLOOR
    # Double `where`: the dropped entries' sqrt must not see 0 or less,
    # or their zero cotangent times sqrt's infinite derivative is NaN.
    roots = ops.sqrt(ops.where(keep, eigenvalues, 1.0))
    return ops.sum(ops.where(keep, roots, 0.0), axis=-1)


def wasserstein_target(mean: Tensor, cov: Tensor) -> WassersteinTarget:
    """The style layer's target: its moments and `cov`'s square root.

    The root is taken once, in float64 NumPy, round-off negative
    eigenvalues clamped to 0.

    Args:
        mean: `(1, C)` (or `(C,)`) mean, e.g. from `feature_moments`.
        cov: `(1, C, C)` (or `(C, C)`) covariance.

    Returns:
        A `WassersteinTarget` of float32 tensors.

    Raises:
        ValueError: the moments of more than one distribution.
    """
    mean = np.asarray(ops.convert_to_numpy(mean), np.float64)
    channels = mean.shape[-1]
    # A reshape, not a squeeze: a batch of several raises here.
    mean = mean.reshape(channels)
    cov = np.asarray(ops.convert_to_numpy(cov), np.float64)
    cov = cov.reshape(channels, channels)
    cov = (cov + cov.T) / 2
    eigenvalues, vectors = np.linalg.eigh(cov)
    root = (vectors * np.sqrt(np.maximum(eigenvalues, 0.0))) @ vectors.T
    arrays = (a.astype("float32")[None] for a in (mean, cov, root))
    return WassersteinTarget(*map(ops.convert_to_tensor, arrays))


def layer_wasserstein_loss(
    features: Tensor,
    target: WassersteinTarget,
    method: str = "eigh",
    iterations: int = NEWTON_SCHULZ_ITERATIONS,
) -> Tensor:
    """`W2^2` between the features' Gaussian and the target's, one layer.

    Its gradient is finite also for a rank-deficient covariance (fewer
    positions than channels, dead channels).

    Args:
        features: `(batch, height, width, C)` generated image's features.
        target: the style layer's `wasserstein_target`.
        method: `"eigh"` or `"newton_schulz"`, for the trace of the root.
        iterations: Newton-Schulz iterations.

    Returns:
        A scalar float32 tensor, summed over the batch.

    Raises:
        ValueError: an unknown `method`.
    """
    _check_method(method)
    mean, centred, positions = _centred(features)
    scale = ops.sqrt(ops.cast(positions, "float32"))
    b = ops.matmul(centred, target.cov_sqrt) / scale
    channels = ops.shape(b)[-1]
    # Needs static sizes; a symbolic M falls back to the C x C Gram.
    if isinstance(positions, int) and positions < channels:
        gram = ops.matmul(b, ops.swapaxes(b, -1, -2))
    else:
        gram = ops.matmul(ops.swapaxes(b, -1, -2), b)
    own_trace = ops.sum(ops.square(centred), axis=(1, 2)) / ops.square(scale)
    target_trace = ops.trace(target.cov, axis1=-2, axis2=-1)
    distance = (
        ops.sum(ops.square(mean - target.mean), axis=-1)
        + own_trace
        + target_trace
        - 2.0 * _trace_sqrt(gram, method, iterations)
    )
    # W2^2 >= 0; round-off takes identical distributions a little below.
    return ops.sum(ops.maximum(distance, 0.0))


def moments_wasserstein_loss(
    mean: Tensor, cov: Tensor, target: WassersteinTarget
) -> Tensor:
    """`W2^2` from the features' mean `(1, C)` and covariance `(1, C, C)`.

    The loss `layer_wasserstein_loss` computes from the features, for
    moments gathered elsewhere (the tiled step, `keras_nst.tiled`); it
    takes the `C x C` Gram of `B` and the `"eigh"` trace of its root.
    """
    gram = ops.matmul(ops.matmul(target.cov_sqrt, cov), target.cov_sqrt)
    distance = (
        ops.sum(ops.square(mean - target.mean), axis=-1)
        + ops.trace(cov, axis1=-2, axis2=-1)
        + ops.trace(target.cov, axis1=-2, axis2=-1)
        - 2.0 * _trace_sqrt(gram, "eigh", NEWTON_SCHULZ_ITERATIONS)
    )
    return ops.sum(ops.maximum(distance, 0.0))


def target_wasserstein_scale(target: WassersteinTarget) -> float:
    """`1 / W2^2(target, point mass at 0)`: makes the loss relative.

    The energy `|mu2|^2 + tr(S2)` is the loss of all-zero features; scaled
    by its inverse, layers' losses compare, as `losses.target_gram_scale`
    makes the Gram loss's.

    Args:
        target: the style layer's `wasserstein_target`.

    Returns:
        A Python float; 1.0 when the energy is 0.
    """
    mean = np.asarray(ops.convert_to_numpy(target.mean), np.float64)
    cov = np.asarray(ops.convert_to_numpy(target.cov), np.float64)
    energy = float((mean**2).sum() + np.trace(cov, axis1=-2, axis2=-1).sum())
    return 1.0 / energy if energy > 0 else 1.0
