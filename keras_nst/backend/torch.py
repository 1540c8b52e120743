"""The optimisation step on PyTorch: `backward()` and a no-grad update."""

from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import torch

from keras_nst.backend.eager import features_gradient_with
from keras_nst.types import Tensor

# The layout VGG19 runs in. Keras' torch convolutions copy NHWC tensors to
# NCHW and back on every call (about 16% of a step at 256 px on a CPU); a
# channels_first VGG19 runs in PyTorch's native layout.
FEATURE_DATA_FORMAT = "channels_first"
# Whether bf16 can be fast without a GPU: yes, PyTorch's CPU kernels
# (oneDNN) use the CPU's bf16 units.
CPU_BF16_IS_FAST = True


class TrainStep:
    """`train_step` for `StyleTransferModel` on the PyTorch backend.

    The gradient comes from `backward()`; the rest of the step, the
    model's shared `apply_step`, runs under `torch.no_grad()` so the
    update is not recorded for differentiation.
    """

    def train_step(self, data):
        image = self.image.value
        if self.tiled is not None:
            losses, gradient = self.tiled.losses_and_gradient(image)
        else:
            image.grad = None
            losses = self.compute_losses(image)
            losses["total"].backward()
            gradient = image.grad
        with torch.no_grad():
            self.apply_step(losses, gradient)
        return {name: loss.detach() for name, loss in losses.items()}


def has_accelerator() -> bool:
    """Whether PyTorch sees a CUDA (or ROCm) GPU."""
    return torch.cuda.is_available()


def device_name() -> str:
    """The GPU's name, or `""` when the run is on the CPU."""
    return torch.cuda.get_device_name() if torch.cuda.is_available() else ""


def step_jit_compile() -> bool | str:
    """Keras' choice for the optimisation step (`"auto"`).

    The step runs eagerly: `torch.compile` was no faster on a CPU.
    """
    return "auto"


def max_pool_as_reduction(xla: bool) -> bool:
    """Whether VGG19 max-pools as a max over a reshaped tensor: never.

    PyTorch's `max_pool2d` gradient is the faster (55 against 83 ms a step
    at 256 px for VGG19's four poolings); nothing here runs under XLA.
    """
    return False


def prepare_network(network) -> None:
    """Stores the convolution kernels in PyTorch's memory order.

    Each kernel keeps Keras' `(h, w, in, out)` shape, with its memory laid
    out as PyTorch's `(out, in, h, w)`.

    Keras' torch convolution permutes the kernel to `(out, in, h, w)` on
    every call, and the permuted view is copied to contiguous memory,
    forward and backward: 8% of a step at 256 px on a CPU. With this
    layout the permuted view is already contiguous, so nothing is copied.
    Later assignments (`set_weights`) copy into the same memory order.
    """
    for layer in network.layers:
        kernel = getattr(layer, "kernel", None)
        if kernel is None or len(kernel.shape) != 4:
            continue
        value = kernel.value
        oihw = value.detach().permute(3, 2, 0, 1).contiguous()
        with torch.no_grad():
            value.data = oihw.permute(2, 3, 1, 0)


def data_parallel():
    """Raises `ValueError`: no data-parallel engine on PyTorch.

    Keras' PyTorch backend has none of its own (Keras documents
    `torch.nn.parallel.DistributedDataParallel` launched with `torchrun`,
    one process per device, which this package does not set up).
    """
    raise ValueError(
        "Multi-device runs use the JAX (DataParallel) and TensorFlow "
        "(MirroredStrategy) backends; the PyTorch backend runs on one device."
    )


def data_parallel_forward(network):
    """Raises `ValueError`, as `data_parallel`: one device on PyTorch."""
    data_parallel()


def replica_share() -> float:
    """1: the PyTorch backend trains on one device."""
    return 1.0


def value_and_gradients(
    fn: Callable[..., tuple[Tensor, Any]], inputs: Sequence[Tensor]
) -> tuple[Tensor, Any, list[Tensor]]:
    """`fn(*inputs)`'s value, its auxiliary output, and the gradients.

    Args:
        fn: returns `(scalar, aux)`.
        inputs: the tensors to differentiate with respect to.

    Returns:
        `(value, aux, gradients)`, one gradient per input, all detached.
    """
    leaves = [torch.as_tensor(x).detach().requires_grad_(True) for x in inputs]
    value, aux = fn(*leaves)
    gradients = torch.autograd.grad(value, leaves)
    aux = {k: v.detach() for k, v in aux.items()} if aux else aux
    return value.detach(), aux, list(gradients)


features_gradient = features_gradient_with(value_and_gradients)


def features_map(extractor, fn):
    """`(region, args, static) -> fn(extractor(region), args, static)`.

    Unrecorded: a region cut from the image variable requires gradients,
    and autograd would keep what its backward pass needs, which this one
    never has.
    """

    def run(region, args, static):
        with torch.no_grad():
            return fn(extractor(region), args, static)

    return run


def compiled_forward(network) -> Callable[[Any], Any]:
    """`network(images)` for inference, with no autograd records."""
    prepare_network(network)

    def forward(images):
        with torch.inference_mode():
            return network(images, training=False)

    return forward


def rowwise_conv_is_faster(
    kernel_size: int, in_channels: int, out_channels: int
) -> bool:
    """Whether `keras_nst.fast.convolution.RowwiseConv2D` should split a conv.

    Only large kernels into fewer channels: oneDNN runs the transform
    network's 9x9 output convolution (32 to 3 channels) at 512 px in
    about 200 ms, split into rows in about 80 ms; split, its other
    convolutions were slower.
    """
    return kernel_size >= 9 and out_channels < in_channels


def take(x, index, axis: int):
    """`ops.take(x, index, axis)` for a 1-D `index`, as `index_select`.

    Keras' `take` flattens the index with `ravel` first, which PyTorch's
    ONNX exporter cannot express.
    """
    return torch.index_select(x, axis, index.long())


def conv(images, kernel, strides: tuple[int, int] = (1, 1)):
    """`ops.conv(images, kernel, strides, "valid")` on NHWC, without copies.

    Keras' PyTorch convolution copies NHWC input to NCHW and then to the
    channels-last memory format oneDNN wants, two copies per layer that
    cost the transform network more than some of its convolutions. An
    NHWC tensor seen as NCHW already is that format, so it goes to the
    convolution as it is.
    """
    if not isinstance(images, torch.Tensor):
        images = torch.as_tensor(images, device=kernel.device)
    # (kh, kw, in, out) -> (out, in, kh, kw) with channels-last memory.
    weights = kernel.permute(3, 0, 1, 2).contiguous().permute(0, 3, 1, 2)
    output = torch.nn.functional.conv2d(
        images.permute(0, 3, 1, 2), weights, stride=tuple(strides)
    )
    return output.permute(0, 2, 3, 1)


def group_norm(layer, images):
    """`layer(images)` for a `GroupNormalization` on NHWC `images`.

    Through `torch.nn.functional.group_norm` on the channels-last view,
    2-3x faster on a CPU than Keras' own ops (one pass, no copies).
    """
    if layer.axis not in (-1, 3) or not isinstance(images, torch.Tensor):
        return layer(images)
    channels = images.shape[-1]
    groups = channels if layer.groups == -1 else layer.groups
    output = torch.nn.functional.group_norm(
        images.permute(0, 3, 1, 2),
        groups,
        layer.gamma.value if layer.scale else None,
        layer.beta.value if layer.center else None,
        layer.epsilon,
    )
    return output.permute(0, 2, 3, 1)


def reflect_pad(layer, images):
    """`layer(images)` for a `ReflectionPadding2D` on NHWC `images`.

    `torch.nn.functional.pad` mirrors the channels-last view in one pass
    and keeps its memory format, 2x faster than the slices and flips the
    layer is built from.
    """
    if not isinstance(images, torch.Tensor):
        return layer(images)
    top, bottom, left, right = layer.padding
    output = torch.nn.functional.pad(
        images.permute(0, 3, 1, 2), (left, right, top, bottom), mode="reflect"
    )
    return output.permute(0, 2, 3, 1)
