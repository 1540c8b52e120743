"""The tiled step's VGG19 calls where eager calls are as fast as compiled.

TensorFlow and PyTorch run each region through VGG19 eagerly: as fast as
a compiled call for convolutions this large, and nothing is compiled
again for each new region shape (JAX compiles instead, `jax.py`).
"""

__all__ = ["features_gradient_with", "features_map"]


def features_map(extractor, fn):
    """`(region, args, static) -> fn(extractor(region), args, static)`."""
    return lambda region, args, static: fn(extractor(region), args, static)


def features_gradient_with(value_and_gradients):
    """`features_gradient` on a backend's `value_and_gradients`."""

    def features_gradient(extractor, fn):
        """The value of `fn(extractor(region), args, static)` and its gradient.

        Returns `(region, args, static) -> (value, gradient by region)`.
        """

        def run(region, args, static):
            value, _, (gradient,) = value_and_gradients(
                lambda x: (fn(extractor(x), args, static), None), [region]
            )
            return value, gradient

        return run

    return features_gradient
