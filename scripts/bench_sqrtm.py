"""Milliseconds per forward+backward of the Wasserstein style loss, by method.

For the current KERAS_BACKEND: `layer_wasserstein_loss` with each method
of `keras_nst.wasserstein` at C channels, compiled as the package runs it
(`tf.function`, `jax.jit`; PyTorch eagerly), on a full-rank input (M = 4C
positions) and a rank-deficient one (8 x 8 = 64 positions, as conv5_1 of a
128 px image). For the rank-deficient input it also reports whether the
gradient is finite and its relative error against the float64 gradient.
`naive` is the textbook loss for comparison: the trace of `sqrtm_psd`'s
eigh root of `S2^1/2 S1 S2^1/2` (its gradient goes through eigenvectors).

    KERAS_BACKEND=jax python scripts/bench_sqrtm.py --channels 64,128
"""

import os
import statistics
import sys
import time

import click
import keras
import numpy as np
from keras import ops

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from keras_nst import wasserstein as w2  # noqa: E402
from tests.reference import wasserstein_gradient  # noqa: E402

BACKEND = keras.backend.backend()


def _naive_loss(features, target):
    mean, cov = w2.feature_moments(features)
    root = target.cov_sqrt
    cross = w2.sqrtm_psd(ops.matmul(ops.matmul(root, cov), root))
    trace = ops.trace(cov + target.cov - 2.0 * cross, axis1=-2, axis2=-1)
    return ops.sum(ops.sum(ops.square(mean - target.mean), axis=-1) + trace)


def _loss_fn(method):
    if method == "naive":
        return _naive_loss
    return lambda x, target: w2.layer_wasserstein_loss(x, target, method)


def _value_and_grad(method):
    """A compiled `(features, target) -> (loss, gradient)`."""
    loss = _loss_fn(method)
    if BACKEND == "jax":
        import jax

        return jax.jit(jax.value_and_grad(loss))
    if BACKEND == "tensorflow":
        import tensorflow as tf

        @tf.function
        def step(x, target):
            with tf.GradientTape() as tape:
                tape.watch(x)
                value = loss(x, target)
            return value, tape.gradient(value, x)

        return step
    import torch

    def step(x, target):
        x = x.detach().requires_grad_(True)
        value = loss(x, target)
        return value.detach(), torch.autograd.grad(value, x)[0]

    return step


def _features(rng, shape):
    """Correlated non-negative features, like a ReLU layer's."""
    c = shape[-1]
    flat = rng.normal(size=(int(np.prod(shape[:-1])), c))
    flat = flat @ rng.normal(size=(c, c)) / np.sqrt(c)
    return np.maximum(flat + 0.3, 0).reshape(shape).astype("float32")


def _time_ms(step, x, target, repeats):
    step(x, target)  # compile, warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        _, grad = step(x, target)
        ops.convert_to_numpy(grad)  # waits for the result
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


@click.command()
@click.option("--channels", default="64,128,256,512", show_default=True)
@click.option(
    "--methods", default="eigh,newton_schulz,naive", show_default=True
)
@click.option("--repeats", default=5, show_default=True)
def main(channels, methods, repeats):
    """Times the Wasserstein loss's methods on the current backend."""
    rng = np.random.default_rng(0)
    print(f"KERAS_BACKEND={BACKEND}, median of {repeats}, ms fwd+bwd")
    print(
        f"{'method':>14} {'C':>4} {'full M=4C':>10} {'M=64':>9} "
        f"{'M=64 finite':>11} {'M=64 grad err':>13}"
    )
    for c in (int(c) for c in channels.split(",")):
        style = _features(rng, (1, 4 * c, c))
        mean2, cov2 = _moments(style)
        target = w2.wasserstein_target(mean2[None], cov2[None])
        root2 = np.asarray(ops.convert_to_numpy(target.cov_sqrt), np.float64)
        full = ops.convert_to_tensor(_features(rng, (1, 4, c, c)))
        deficient = _features(rng, (1, 8, 8, c))
        expected = wasserstein_gradient(deficient, mean2, root2[0])
        for method in methods.split(","):
            step = _value_and_grad(method)
            ms_full = _time_ms(step, full, target, repeats)
            x = ops.convert_to_tensor(deficient)
            ms_deficient = _time_ms(step, x, target, repeats)
            grad = np.asarray(ops.convert_to_numpy(step(x, target)[1]))
            finite = bool(np.isfinite(grad).all())
            error = np.linalg.norm(grad - expected) / np.linalg.norm(expected)
            print(
                f"{method:>14} {c:>4} {ms_full:>10.1f} {ms_deficient:>9.1f} "
                f"{finite!s:>11} {error:>13.1e}",
                flush=True,
            )


def _moments(style):
    flat = style.reshape(-1, style.shape[-1]).astype(np.float64)
    return flat.mean(0), np.cov(flat.T, bias=True)


if __name__ == "__main__":
    main()
