"""The optimisation step on TensorFlow: `tf.GradientTape`."""

from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import tensorflow as tf

from keras_nst.backend.eager import features_gradient_with
from keras_nst.backend.eager import features_map  # noqa: F401 - bound by the package
from keras_nst.hardware import has_avx512
from keras_nst.types import Tensor

# The layout VGG19 runs in: TensorFlow's CPU convolutions only take NHWC.
FEATURE_DATA_FORMAT = "channels_last"
# Whether bf16 can be fast without a GPU: yes, TensorFlow's CPU kernels
# (oneDNN) use the CPU's bf16 units.
CPU_BF16_IS_FAST = True


class TrainStep:
    """`train_step` for `StyleTransferModel` on the TensorFlow backend.

    The gradient comes from a `tf.GradientTape`; the rest of the step is
    the model's shared `apply_step`.
    """

    def train_step(self, data):
        if self.tiled is not None:
            losses, gradient = self.tiled.losses_and_gradient(self.image.value)
        else:
            with tf.GradientTape() as tape:
                losses = self.compute_losses(self.image.value)
            gradient = tape.gradient(losses["total"], self.image.value)
        self.apply_step(losses, gradient)
        return losses


def has_accelerator() -> bool:
    """Whether TensorFlow sees a GPU."""
    return bool(tf.config.list_physical_devices("GPU"))


def device_name() -> str:
    """The GPU's name, or `""` when the run is on the CPU."""
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return ""
    details = tf.config.experimental.get_device_details(gpus[0])
    return details.get("device_name", gpus[0].name)


def step_jit_compile() -> bool | str:
    """Whether `fit` compiles the optimisation step with XLA.

    Where oneDNN has no direct convolution for TensorFlow's NHWC layout, a
    CPU without AVX-512, its convolutions fall back to im2col and a
    matrix product, and the XLA-compiled step is faster: 1.36x at 256 px
    and 1.30x at 512 px (`scripts/bench.py --emulate-isa avx2`). With
    AVX-512 the oneDNN kernels are faster than XLA's, and on a GPU Keras'
    own choice (XLA) stands: `"auto"`.
    """
    if not has_accelerator() and has_avx512() is False:
        return True
    return "auto"


def max_pool_as_reduction(xla: bool) -> bool:
    """Whether VGG19 max-pools as a max over a reshaped tensor: under XLA.

    TensorFlow's own `MaxPool` gradient is the faster in a `tf.function`
    (13 against 79 ms a step at 256 px for VGG19's four poolings); in an
    XLA-compiled step (a CPU without AVX-512, `step_jit_compile`) it is
    the slower, 60 against 15 ms (`keras_nst.vgg19.VGG19MaxPooling2D`).

    Args:
        xla: whether XLA compiles the computation.
    """
    return xla


def prepare_network(network) -> None:
    """Nothing to do: the backend takes Keras' kernel layout as it is."""


def data_parallel():
    """Returns a `tf.distribute.MirroredStrategy` over all devices.

    Over the GPUs, or over every logical CPU device where there is no GPU;
    Keras' `fit` splits each batch across the replicas and all-reduces the
    gradients.
    """
    devices = tf.config.list_logical_devices(
        "GPU"
    ) or tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy([d.name for d in devices])


def replica_share() -> float:
    """The factor Keras' TensorFlow trainer expects on a replica's loss.

    Under `tf.distribute`, each replica's gradients are summed, and Keras'
    `train_step` treats the value `compute_loss` returns as already
    divided by the number of replicas (it multiplies it back for the
    logs), so a custom `compute_loss` returns its mean times this.
    """
    return 1.0 / tf.distribute.get_strategy().num_replicas_in_sync


def value_and_gradients(
    fn: Callable[..., tuple[Tensor, Any]], inputs: Sequence[Tensor]
) -> tuple[Tensor, Any, list[Tensor]]:
    """`fn(*inputs)`'s value, its auxiliary output, and the gradients.

    Eager, so that each call's activations are freed when it returns.

    Args:
        fn: returns `(scalar, aux)`.
        inputs: the tensors to differentiate with respect to.

    Returns:
        `(value, aux, gradients)`, one gradient per input.
    """
    inputs = [tf.convert_to_tensor(x) for x in inputs]
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        value, aux = fn(*inputs)
    return value, aux, tape.gradient(value, inputs)


features_gradient = features_gradient_with(value_and_gradients)


def compiled_forward(network) -> Callable[[Any], Any]:
    """`network(images)` for inference, a `tf.function` per input shape.

    One function per shape, not one retraced: the network's padding needs
    static sizes, and TensorFlow warns about a function that retraces
    often. The last `_FORWARD_SHAPES` shapes are kept.
    """
    functions: dict[tuple, Any] = {}

    def forward(images):
        shape = tuple(images.shape)
        if shape not in functions:
            if len(functions) >= _FORWARD_SHAPES:
                functions.pop(next(iter(functions)))
            functions[shape] = tf.function(
                lambda images: network(images, training=False)
            )
        return functions[shape](images)

    return forward


_FORWARD_SHAPES = 16


def data_parallel_forward(network) -> tuple[Callable[[Any], Any], int]:
    """`compiled_forward` over every device, and the number of devices.

    A copy of the network with mirrored weights runs on each replica of
    `data_parallel()`'s `MirroredStrategy`, on its slice of the batch; the
    batch must be a multiple of the replica count.
    """
    strategy = data_parallel()
    with strategy.scope():
        replica = network.__class__.from_config(network.get_config())
        replica.set_weights(network.get_weights())
    replicas = strategy.num_replicas_in_sync
    functions: dict[tuple, Any] = {}

    def distributed(images):
        share = tf.shape(images)[0] // replicas

        def slice_of(context):
            start = context.replica_id_in_sync_group * share
            return images[start : start + share]

        values = strategy.experimental_distribute_values_from_function(slice_of)
        outputs = strategy.run(
            lambda x: replica(x, training=False), args=(values,)
        )
        return tf.concat(strategy.experimental_local_results(outputs), 0)

    def forward(images):
        shape = tuple(images.shape)
        if shape not in functions:
            if len(functions) >= _FORWARD_SHAPES:
                functions.pop(next(iter(functions)))
            functions[shape] = tf.function(distributed)
        return functions[shape](images)

    return forward, replicas


def rowwise_conv_is_faster(
    kernel_size: int, in_channels: int, out_channels: int
) -> bool:
    """Whether `keras_nst.fast.convolution.RowwiseConv2D` should split a conv.

    oneDNN handles every shape well but a large kernel into few channels:
    9x9 from 32 to 3 channels at 256 px took 52 ms, 20 ms split into rows.
    """
    return kernel_size >= 9 and out_channels < in_channels


def take(x, index, axis: int):
    """`ops.take(x, index, axis)` for a 1-D `index`."""
    return tf.gather(x, index, axis=axis)


def conv(images, kernel, strides: tuple[int, int] = (1, 1)):
    """`ops.conv(images, kernel, strides, "valid")` on NHWC."""
    return tf.nn.conv2d(
        images, kernel, strides=(1, *strides, 1), padding="VALID"
    )


def group_norm(layer, images):
    """`layer(images)` for a `GroupNormalization`: Keras' own is fast here."""
    return layer(images)


def reflect_pad(layer, images):
    """`layer(images)` for a `ReflectionPadding2D`."""
    return layer(images)
