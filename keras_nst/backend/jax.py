"""The optimisation step on JAX: a pure function of the model's state."""

import functools
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import jax
import keras

from keras_nst.types import Tensor

# The layout VGG19 runs in: XLA picks its own layouts; NHWC is Keras' default.
FEATURE_DATA_FORMAT = "channels_last"
# Whether bf16 can be fast without a GPU: not here. XLA's CPU backend has
# no fast bf16 convolutions; bf16 ran 1.1x slower than fp32 at 256 px on a
# CPU with avx512_bf16 (scripts/bench.py).
CPU_BF16_IS_FAST = False


class TrainStep:
    """`train_step` for `StyleTransferModel` on the JAX backend.

    Keras' JAX trainer passes the variables' values in and takes the new
    ones back. The gradient comes from `jax.value_and_grad` of the losses
    computed inside a `StatelessScope` (reads see the values passed in);
    the model's shared `apply_step` then runs inside another, which maps
    the trainable, non-trainable and optimiser variables to their values
    and collects every assignment (the optimiser's `apply` in such a scope
    is what Keras' `stateless_apply` does).
    """

    def train_step(self, state, data):
        trainable, non_trainable, optimizer_state, metrics = state

        mapping = list(
            zip(self.non_trainable_variables, non_trainable, strict=True)
        )

        def total_loss(image):
            with keras.StatelessScope(state_mapping=mapping):
                losses = self.compute_losses(image)
            return losses["total"], losses

        if self.tiled is not None:
            # Eager (the model compiles no tiled step): one tile at a time.
            # fit holds the variables' values in `state`, not in them.
            with keras.StatelessScope(state_mapping=mapping):
                losses, gradient = self.tiled.losses_and_gradient(trainable[0])
        else:
            (_, losses), gradient = jax.value_and_grad(
                total_loss, has_aux=True
            )(trainable[0])
        groups = (
            (self.trainable_variables, trainable),
            (self.non_trainable_variables, non_trainable),
            (self.optimizer.variables, optimizer_state),
        )
        mapping = [
            pair
            for variables, values in groups
            for pair in zip(variables, values, strict=True)
        ]
        with keras.StatelessScope(state_mapping=mapping) as scope:
            self.apply_step(losses, gradient)
        trainable, non_trainable, optimizer_state = (
            [scope.get_current_value(v) for v in variables]
            for variables, _ in groups
        )
        return losses, (trainable, non_trainable, optimizer_state, metrics)


def max_pool_as_reduction(xla: bool) -> bool:
    """Whether VGG19 max-pools as a max over a reshaped tensor: always.

    Everything JAX runs is compiled by XLA, whose gradient of
    `MaxPooling2D` (a select-and-scatter) took 13 times as long on a CPU:
    108 against 8 ms a step at 256 px for VGG19's four poolings
    (`keras_nst.vgg19.VGG19MaxPooling2D`).
    """
    return True


def has_accelerator() -> bool:
    """Whether JAX runs on a GPU or TPU."""
    return jax.default_backend() != "cpu"


def device_name() -> str:
    """The GPU or TPU's name, or `""` when the run is on the CPU."""
    if not has_accelerator():
        return ""
    return jax.devices()[0].device_kind


def step_jit_compile() -> bool | str:
    """Keras' choice for the optimisation step (`"auto"`).

    JAX always compiles it.
    """
    return "auto"


def prepare_network(network) -> None:
    """Nothing to do: the backend takes Keras' kernel layout as it is."""


def data_parallel():
    """Returns `keras.distribution.DataParallel` over every JAX device.

    Keras' own trainer splits each batch across the devices and averages
    the gradients.
    """
    return keras.distribution.DataParallel(
        devices=keras.distribution.list_devices()
    )


def replica_share() -> float:
    """Returns 1: each replica's share of the global mean loss.

    With `DataParallel` the step is one program over the global batch, so
    its mean loss needs no scaling.
    """
    return 1.0


def value_and_gradients(
    fn: Callable[..., tuple[Tensor, Any]], inputs: Sequence[Tensor]
) -> tuple[Tensor, Any, list[Tensor]]:
    """`fn(*inputs)`'s value, its auxiliary output, and the gradients.

    Run op by op, not compiled: a region's shape changes from tile to tile
    and the activations of one call are freed when it returns.

    Args:
        fn: returns `(scalar, aux)`.
        inputs: the tensors to differentiate with respect to.

    Returns:
        `(value, aux, gradients)`, one gradient per input.
    """
    (value, aux), gradients = jax.value_and_grad(
        lambda xs: fn(*xs), has_aux=True
    )(list(inputs))
    return value, aux, gradients


def features_map(extractor, fn):
    """`(region, args, static) -> fn(extractor(region), args, static)`.

    Compiled once per region shape and `static` (hashable: where the
    tile's own features lie). Op by op, each of VGG19's operations would
    be compiled again for every new shape and slice. The weights are
    passed in, read when called, not baked into the program.
    """

    @functools.partial(jax.jit, static_argnums=4)
    def run(weights, trainable, region, args, static):
        features = extractor.stateless_call(trainable, weights, region)[0]
        return fn(features, args, static)

    return lambda region, args, static: run(
        *_weights(extractor), region, args, static
    )


def features_gradient(extractor, fn):
    """The value of `fn(extractor(region), args, static)` and its gradient.

    Returns `(region, args, static) -> (value, gradient by region)`,
    compiled as `features_map`.
    """

    @functools.partial(jax.jit, static_argnums=4)
    def run(weights, trainable, region, args, static):
        def loss(pixels):
            features = extractor.stateless_call(trainable, weights, pixels)[0]
            return fn(features, args, static)

        return jax.value_and_grad(loss)(region)

    return lambda region, args, static: run(
        *_weights(extractor), region, args, static
    )


def _weights(extractor):
    return (
        [v.value for v in extractor.non_trainable_variables],
        [v.value for v in extractor.trainable_variables],
    )


def compiled_forward(network) -> Callable[[Any], Any]:
    """`network(images)` for inference, compiled once per input shape.

    Takes the network's weights as they are now.
    """
    trainable = [v.value for v in network.trainable_variables]
    non_trainable = [v.value for v in network.non_trainable_variables]
    forward = jax.jit(
        lambda trainable, non_trainable, images: network.stateless_call(
            trainable, non_trainable, images
        )[0]
    )
    return lambda images: forward(trainable, non_trainable, images)


def data_parallel_forward(network) -> tuple[Callable[[Any], Any], int]:
    """`compiled_forward` over every device, and the number of devices.

    The weights are replicated and each batch is split along its first
    axis by `keras.distribution.DataParallel`'s layouts; the batch must
    be a multiple of the device count.
    """
    distribution = data_parallel()

    def placed(variables):
        return [
            jax.device_put(
                v.value, distribution.get_variable_layout(v).backend_layout
            )
            for v in variables
        ]

    trainable = placed(network.trainable_variables)
    non_trainable = placed(network.non_trainable_variables)
    forward = jax.jit(
        lambda trainable, non_trainable, images: network.stateless_call(
            trainable, non_trainable, images
        )[0]
    )

    def run(images):
        layout = distribution.get_data_layout(images.shape).backend_layout
        return forward(trainable, non_trainable, jax.device_put(images, layout))

    return run, len(distribution.device_mesh.devices.flatten())


def rowwise_conv_is_faster(
    kernel_size: int, in_channels: int, out_channels: int
) -> bool:
    """Whether `keras_nst.fast.convolution.RowwiseConv2D` should split a conv.

    XLA's CPU convolutions are slow with large kernels or fewer output
    than input channels: 9x9 from 32 to 3 channels at 256 px took 420 ms
    against 60-75 ms split into rows (`scripts/bench_fast.py`).
    """
    return kernel_size >= 9 or (kernel_size > 1 and out_channels < in_channels)


def take(x, index, axis: int):
    """`ops.take(x, index, axis)` for a 1-D `index`."""
    return keras.ops.take(x, index, axis=axis)


def conv(images, kernel, strides: tuple[int, int] = (1, 1)):
    """`ops.conv(images, kernel, strides, "valid")` on NHWC."""
    return keras.ops.conv(images, kernel, strides=strides, padding="valid")


def group_norm(layer, images):
    """`layer(images)` for a `GroupNormalization`: Keras' own is fast here."""
    return layer(images)


def reflect_pad(layer, images):
    """`layer(images)` for a `ReflectionPadding2D`."""
    return layer(images)
