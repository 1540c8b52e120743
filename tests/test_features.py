import dataclasses

import keras
import numpy as np
import pytest
from keras import ops

from keras_nst.backend import FEATURE_DATA_FORMAT
from keras_nst.config import Config
from keras_nst.fast.config import resolve_train_config
from keras_nst.features import VGG19Features
from keras_nst.features import build_extractor
from keras_nst.features import deprocess
from keras_nst.features import min_image_side
from keras_nst.features import preprocess
from keras_nst.vgg_padding import BorderPadding2D
from keras_nst.weights import WeightsError
from tests import reference


def test_preprocess_matches_caffe_mode(rng):
    image = rng.uniform(0, 255, (1, 3, 4, 3)).astype("float32")
    got = ops.convert_to_numpy(preprocess(image))
    np.testing.assert_allclose(
        got, reference.caffe_preprocess(image), atol=1e-4
    )
    keras_version = keras.applications.vgg19.preprocess_input(image.copy())
    np.testing.assert_allclose(got, keras_version, atol=1e-4)


def test_deprocess_inverts_preprocess(rng):
    image = rng.uniform(0, 255, (1, 3, 4, 3)).astype("float32")
    back = ops.convert_to_numpy(deprocess(preprocess(image)))
    np.testing.assert_allclose(back, image, atol=1e-3)


def test_outputs_named_layers_at_any_size():
    extractor = VGG19Features(["conv1_1", "relu4_2"], weights=None)
    features = extractor(np.zeros((1, 37, 50, 3), "float32"))
    assert set(features) == {"block1_conv1", "block4_conv2"}
    assert tuple(features["block1_conv1"].shape) == (1, 37, 50, 64)
    # Three 2x2 poolings with floor: 37 -> 18 -> 9 -> 4, 50 -> 25 -> 12 -> 6.
    assert tuple(features["block4_conv2"].shape) == (1, 4, 6, 512)


def _channel_sums(features, args, layers):
    return {name: ops.sum(features[name], axis=(0, 1, 2)) for name in layers}


def test_compiled_function_of_the_features_equals_it_on_the_call(rng):
    extractor = VGG19Features(["conv1_1", "conv2_1"], weights=None)
    for layers in (("block1_conv1",), ("block2_conv1", "block1_conv1")):
        image = rng.uniform(0, 255, (1, 12, 10, 3)).astype("float32")
        got = extractor.features(image, _channel_sums, layers)
        want = _channel_sums(extractor(image), None, layers)
        assert set(got) == set(layers)
        for name in layers:
            np.testing.assert_allclose(
                ops.convert_to_numpy(got[name]),
                ops.convert_to_numpy(want[name]),
                rtol=1e-5,
            )


def test_compiled_features_equal_the_call(rng):
    extractor = VGG19Features(["conv1_1", "conv3_1"], weights=None)
    weights = extractor.get_weights()
    for size in (32, 40):  # a second shape, compiled anew on JAX
        image = rng.uniform(0, 255, (1, size, size, 3)).astype("float32")
        expected = extractor(image)
        got = extractor.features(image)
        assert set(got) == set(expected)
        for name, value in expected.items():
            np.testing.assert_allclose(
                ops.convert_to_numpy(got[name]),
                ops.convert_to_numpy(value),
                rtol=1e-5,
                atol=1e-3,
            )
    # The weights are read when called, not kept from the first call.
    extractor.set_weights([w * 0.5 for w in weights])
    halved = extractor.features(image)["block1_conv1"]
    np.testing.assert_allclose(
        ops.convert_to_numpy(halved),
        ops.convert_to_numpy(extractor(image)["block1_conv1"]),
        rtol=1e-5,
        atol=1e-3,
    )


def test_stops_after_deepest_layer():
    extractor = VGG19Features(["conv2_1"], weights=None)
    names = [layer.name for layer in extractor.network.layers]
    assert names[-1] == "block2_conv1"
    assert "block3_conv1" not in names


MAX_POOLING = "VGG19MaxPooling2D"


@pytest.mark.parametrize(
    "pooling, cls", [("avg", "AveragePooling2D"), ("max", MAX_POOLING)]
)
def test_pooling_swap_keeps_conv_weights(pooling, cls):
    extractor = VGG19Features(
        ["conv5_1"], pooling=pooling, weights=None, padding="zero"
    )
    kinds = {type(layer).__name__ for layer in extractor.network.layers}
    assert cls in kinds
    assert ({"AveragePooling2D", MAX_POOLING} - {cls}).isdisjoint(kinds)
    conv_count = sum("conv" in layer.name for layer in extractor.network.layers)
    assert conv_count == 13


def test_avg_and_max_share_weights_and_differ_in_output(rng):
    max_model = VGG19Features(["conv2_1"], pooling="max", weights=None)
    avg_model = VGG19Features(["conv2_1"], pooling="avg", weights=None)
    avg_model.set_weights(max_model.get_weights())
    image = rng.uniform(0, 255, (1, 16, 16, 3)).astype("float32")
    a = ops.convert_to_numpy(max_model(image)["block2_conv1"])
    b = ops.convert_to_numpy(avg_model(image)["block2_conv1"])
    assert a.shape == b.shape
    assert not np.allclose(a, b)
    # Before the first pooling both are the same convolution.
    c = ops.convert_to_numpy(
        VGG19Features(["conv1_2"], "max", None)(image)["block1_conv2"]
    )
    assert c.shape == (1, 16, 16, 64)


def test_no_trainable_weights():
    extractor = VGG19Features(["conv1_1"], weights=None)
    assert extractor.trainable_weights == []
    assert len(extractor.non_trainable_weights) == 2


def test_bad_pooling_and_layer():
    with pytest.raises(ValueError, match="Received: pooling='min'"):
        VGG19Features(["conv1_1"], pooling="min", weights=None)
    with pytest.raises(ValueError, match="Unknown VGG19 layer"):
        VGG19Features(["conv9_9"], weights=None)


def test_wrong_hdf5_file_is_a_weights_error(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as file:
        file["x"] = np.zeros(3)
    with pytest.raises(WeightsError, match="Cannot load VGG19 notop weights"):
        VGG19Features(["conv1_1"], weights=str(path))


@pytest.mark.filterwarnings("ignore:precision='bf16' will be slower")
def test_building_leaves_the_global_settings_alone(tmp_path):
    before = (
        keras.config.dtype_policy().name,
        keras.config.image_data_format(),
    )
    h5py = pytest.importorskip("h5py")
    VGG19Features(["conv1_1"], weights=None, precision="bf16")
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as file:
        file["x"] = np.zeros(3)
    with pytest.raises(WeightsError):
        VGG19Features(["conv1_1"], weights=str(path), precision="bf16")
    after = (keras.config.dtype_policy().name, keras.config.image_data_format())
    assert after == before


def test_bf16_network_keeps_its_policy_and_returns_float32(rng):
    extractor = VGG19Features(["conv2_1"], weights=None, precision="bf16")
    assert keras.config.dtype_policy().name == "float32"
    policies = {
        layer.dtype_policy.name
        for layer in extractor.network.layers
        if not isinstance(layer, keras.layers.InputLayer)
    }
    assert policies == {"mixed_bfloat16"}  # the new average pools too
    assert extractor.network.dtype_policy.name == "mixed_bfloat16"
    image = rng.uniform(0, 255, (1, 8, 8, 3)).astype("float32")
    features = extractor(image)["block2_conv1"]
    assert keras.backend.standardize_dtype(features.dtype) == "float32"


def test_build_extractor_takes_any_settings_object():
    @dataclasses.dataclass
    class Settings:  # e.g. the fast method's training config
        content_layers: tuple = ("relu2_1",)
        style_layers: tuple = ("conv1_1", "conv2_1")
        pooling: str = "max"
        weights: str | None = None
        precision: str = "fp32"
        padding: str = "zero"

    extractor = build_extractor(Settings())
    assert extractor.layer_names == ("block2_conv1", "block1_conv1")
    assert extractor.pooling == "max" and extractor.precision == "fp32"
    assert extractor.padding == "zero"
    kinds = {type(layer).__name__ for layer in extractor.network.layers}
    assert MAX_POOLING in kinds
    assert "BorderPadding2D" not in kinds
    extractor = build_extractor(Settings(padding="replicate"))
    assert extractor.padding == "replicate"
    kinds = {type(layer).__name__ for layer in extractor.network.layers}
    assert "BorderPadding2D" in kinds


@pytest.mark.parametrize(
    "layers, side",
    [(["conv1_2"], 1), (["conv2_1"], 2), (["conv1_1", "conv4_2"], 8),
     (["conv5_1"], 16)],
)  # fmt: skip
def test_min_image_side_counts_the_poolings(layers, side):
    assert min_image_side(layers) == side
    network = VGG19Features(layers, weights=None).network
    pools = [layer for layer in network.layers if "pool" in layer.name]
    assert 2 ** len(pools) == side


# The `numpy.pad` mode of each `padding`.
NUMPY_PAD_MODES = {
    "zero": "constant",
    "reflect": "reflect",
    "replicate": "edge",
}


def _gradient(function, image):
    """The gradient of a scalar `function` of `image`, on any backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.constant(image)
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = function(x)
        gradient = tape.gradient(loss, x)
    elif backend == "jax":
        import jax

        gradient = jax.grad(function)(jax.numpy.asarray(image))
    else:
        import torch

        x = torch.tensor(image, requires_grad=True)
        function(x).backward()
        gradient = x.grad
    return ops.convert_to_numpy(gradient)


def _conv1_1(extractor):
    layer = extractor.network.get_layer("block1_conv1")
    kernel, bias = (ops.convert_to_numpy(w) for w in layer.weights)
    return kernel.astype("float64"), bias.astype("float64")


def _padded(x, padding):
    """`x` (H, W, C) padded by 1 on H and W, as NumPy pads."""
    return np.pad(x, ((1, 1), (1, 1), (0, 0)), mode=NUMPY_PAD_MODES[padding])


def _reference_conv1_1(image, kernel, bias, padding):
    """block1_conv1 of one (H, W, 3) image in float64: pad, 3x3, ReLU."""
    x = _padded(reference.caffe_preprocess(image), padding)
    height, width = image.shape[:2]
    out = bias + sum(
        x[i : i + height, j : j + width] @ kernel[i, j]
        for i in range(3)
        for j in range(3)
    )
    return np.maximum(out, 0.0)


def _reference_conv1_1_gradient(image, kernel, bias, padding):
    """d/d image of sum(block1_conv1 ** 2), in float64.

    Back through the ReLU (`2 y`, zero where `y` is), the 3x3 correlation,
    the pad (each padded pixel's gradient added to the pixel it copies,
    dropped for a zero) and the channel flip of the preprocessing.
    """
    height, width = image.shape[:2]
    upstream = 2 * _reference_conv1_1(image, kernel, bias, padding)
    padded = np.zeros((height + 2, width + 2, 3))
    for i in range(3):
        for j in range(3):
            padded[i : i + height, j : j + width] += upstream @ kernel[i, j].T
    gradient = np.zeros((height, width, 3))
    if padding == "zero":
        gradient += padded[1:-1, 1:-1]
    else:
        mode = NUMPY_PAD_MODES[padding]
        rows = np.pad(np.arange(height), 1, mode=mode)
        cols = np.pad(np.arange(width), 1, mode=mode)
        np.add.at(gradient, (rows[:, None], cols[None, :]), padded)
    return gradient[..., ::-1]  # RGB -> BGR is its own adjoint


def _seeded(build, *args, **kwargs):
    keras.utils.set_random_seed(0)
    return build(*args, **kwargs)


def _shared_weights(layers, paddings, **kwargs):
    """One extractor per padding, all with the first one's weights."""
    extractors = [
        VGG19Features(layers, weights=None, padding=p, **kwargs)
        for p in paddings
    ]
    for extractor in extractors[1:]:
        extractor.set_weights(extractors[0].get_weights())
    return extractors


def test_zero_padding_is_vgg19s_own_network(rng):
    layers = ["conv1_1", "conv3_2"]
    zero = VGG19Features(layers, weights=None, pooling="max", padding="zero")
    # Built without padding=: Config's default, a copy of the border.
    default = VGG19Features(layers, weights=None, pooling="max")
    assert default.padding == Config.padding == "replicate"
    default = VGG19Features(layers, weights=None, pooling="max", padding="zero")
    default.set_weights(zero.get_weights())
    kinds = {type(layer).__name__ for layer in zero.network.layers}
    assert "BorderPadding2D" not in kinds
    convs = [
        layer
        for layer in zero.network.layers
        if isinstance(layer, keras.layers.Conv2D)
    ]
    assert len(convs) == 6 and {c.padding for c in convs} == {"same"}
    image = rng.uniform(0, 255, (1, 20, 24, 3)).astype("float32")
    got = {k: ops.convert_to_numpy(v) for k, v in zero(image).items()}
    for name, value in default(image).items():
        np.testing.assert_array_equal(got[name], ops.convert_to_numpy(value))
    # The same features as keras.applications' VGG19 itself, cut there.
    vgg = keras.applications.VGG19(
        include_top=False, weights=None, input_shape=(None, None, 3)
    )
    for layer in convs:
        vgg.get_layer(layer.name).set_weights(layer.get_weights())
    plain = keras.Model(
        vgg.input, [vgg.get_layer(n).output for n in zero.layer_names]
    )
    expected = plain(preprocess(ops.convert_to_tensor(image)))
    for name, value in zip(zero.layer_names, expected, strict=True):
        want = ops.convert_to_numpy(value)
        np.testing.assert_allclose(
            got[name], want, rtol=1e-5, atol=1e-5 * np.abs(want).max()
        )


@pytest.mark.parametrize("padding", ["zero", "reflect", "replicate"])
@pytest.mark.parametrize("shape", [(9, 7), (1, 5)])
def test_first_layer_matches_numpy_padding(rng, padding, shape):
    # (1, 5): a 1-pixel side has nothing to mirror; NumPy repeats it.
    extractor = VGG19Features(["conv1_1"], weights=None, padding=padding)
    image = rng.uniform(0, 255, (1, *shape, 3)).astype("float32")
    got = ops.convert_to_numpy(extractor(image)["block1_conv1"])[0]
    want = _reference_conv1_1(image[0], *_conv1_1(extractor), padding)
    np.testing.assert_allclose(
        got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max()
    )


@pytest.mark.parametrize("padding", ["reflect", "replicate"])
def test_border_padding_keeps_shapes_and_weights(rng, padding):
    layers = ["conv1_1", "conv5_1"]
    zero, padded = (
        _seeded(VGG19Features, layers, weights=None, padding=p)
        for p in ("zero", padding)
    )
    assert padded.padding == padding
    # The same random VGG19 twice: the new convolutions carry its weights.
    for a, b in zip(zero.get_weights(), padded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    convs = [
        layer
        for layer in padded.network.layers
        if isinstance(layer, keras.layers.Conv2D)
    ]
    pads = [
        layer
        for layer in padded.network.layers
        if isinstance(layer, BorderPadding2D)
    ]
    assert len(convs) == len(pads) == 13  # block1_conv1 to block5_conv1
    assert {c.padding for c in convs} == {"valid"}
    assert {p.mode for p in pads} == {padding}
    assert {p.data_format for p in pads} == {FEATURE_DATA_FORMAT}
    assert padded.trainable_weights == []
    # 16x40 leaves 1x2 at block5: a side with nothing to mirror.
    image = rng.uniform(0, 255, (1, 16, 40, 3)).astype("float32")
    want, got = zero(image), padded(image)
    assert tuple(got["block5_conv1"].shape) == (1, 1, 2, 512)
    for name in padded.layer_names:
        assert tuple(got[name].shape) == tuple(want[name].shape)
        assert np.isfinite(ops.convert_to_numpy(got[name])).all()
    # Away from the border the first layer is the zero-padded one.
    inner = (slice(None), slice(1, -1), slice(1, -1))
    np.testing.assert_allclose(
        ops.convert_to_numpy(got["block1_conv1"])[inner],
        ops.convert_to_numpy(want["block1_conv1"])[inner],
        rtol=1e-5,
        atol=1e-3,
    )


@pytest.mark.parametrize("padding", ["zero", "reflect", "replicate"])
def test_first_layer_gradient_matches_float64_reference(rng, padding):
    extractor = VGG19Features(["conv1_1"], weights=None, padding=padding)
    image = rng.uniform(0, 255, (1, 6, 5, 3)).astype("float32")

    def loss(x):
        return ops.sum(extractor(x)["block1_conv1"] ** 2)

    got = _gradient(loss, image)[0]
    want = _reference_conv1_1_gradient(
        image[0].astype("float64"), *_conv1_1(extractor), padding
    )
    np.testing.assert_allclose(
        got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max()
    )


def test_border_padding_gives_the_border_its_share_of_the_gradient(rng):
    # A style-like loss at block2: with zeros the 2-pixel frame's gradient
    # is about half the interior's (0.47-0.60 over 12 random networks);
    # mirrored, 0.73-0.87; copied, 0.95-1.23.
    paddings = ["zero", "reflect", "replicate"]
    extractors = _shared_weights(["conv2_1"], paddings)
    image = rng.uniform(0, 255, (1, 24, 20, 3)).astype("float32")
    frame = np.ones(image.shape[1:3], bool)
    frame[2:-2, 2:-2] = False
    interior = np.zeros_like(frame)
    interior[4:-4, 4:-4] = True
    ratios = {}
    for padding, extractor in zip(paddings, extractors, strict=True):

        def loss(x, extractor=extractor):
            return ops.sum(extractor(x)["block2_conv1"] ** 2)

        gradient = _gradient(loss, image)[0]
        assert np.isfinite(gradient).all()
        size = np.abs(gradient).sum(axis=-1)
        ratios[padding] = size[frame].mean() / size[interior].mean()
    assert ratios["zero"] < 0.7
    assert ratios["reflect"] > 1.2 * ratios["zero"]
    assert ratios["replicate"] > 0.9


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("shape", [(2, 4, 3, 5), (2, 1, 3, 1)])
def test_border_padding_layer_pads_as_numpy(rng, mode, data_format, shape):
    # (2, 1, 3, 1): a 1-pixel side to mirror, in either layout.
    images = rng.uniform(-1, 1, shape).astype("float32")
    layer = BorderPadding2D(mode, data_format=data_format)
    # NHWC viewed as NCHW: then (2, 4, 3, 5) has H 3, W 5 and 4 channels.
    spatial = (1, 2) if data_format == "channels_last" else (2, 3)
    widths = [(1, 1) if axis in spatial else (0, 0) for axis in range(4)]
    want = np.pad(images, widths, mode=NUMPY_PAD_MODES[mode])
    got = ops.convert_to_numpy(layer(images))
    np.testing.assert_array_equal(got, want)
    assert layer.compute_output_shape(images.shape) == want.shape
    symbolic = layer.compute_output_shape((None, None, None, None))
    assert symbolic == (None,) * 4
    clone = BorderPadding2D.from_config(layer.get_config())
    assert (clone.mode, clone.data_format) == (mode, data_format)
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(layer)
    )
    assert isinstance(restored, BorderPadding2D) and restored.mode == mode


def test_bad_padding():
    with pytest.raises(ValueError, match="Received: padding='mirror'"):
        VGG19Features(["conv1_1"], weights=None, padding="mirror")
    with pytest.raises(ValueError, match="Received: mode='zero'"):
        BorderPadding2D("zero")


@pytest.mark.filterwarnings("ignore:precision=.bf16. will be slower")
def test_bf16_reflect_builds_and_runs(rng):
    layers = ["block1_conv1", "block2_conv1"]
    fp32, bf16 = (
        VGG19Features(layers, weights=None, padding="reflect", precision=p)
        for p in ("fp32", "bf16")
    )
    bf16.set_weights(fp32.get_weights())
    policies = {
        layer.dtype_policy.name
        for layer in bf16.network.layers
        if not isinstance(layer, keras.layers.InputLayer)
    }
    assert policies == {"mixed_bfloat16"}  # the pads too
    image = rng.uniform(0, 255, (1, 16, 12, 3)).astype("float32")
    got, want = bf16(image), fp32(image)
    for name in layers:
        assert keras.backend.standardize_dtype(got[name].dtype) == "float32"
        a, b = ops.convert_to_numpy(got[name]), ops.convert_to_numpy(want[name])
        assert np.isfinite(a).all()
        # bfloat16 has 8 bits of mantissa.
        np.testing.assert_allclose(a, b, atol=0.05 * np.abs(b).max())


def test_train_config_padding_builds_the_extractor():
    config = resolve_train_config(
        weights=None,
        padding="reflect",
        content_layers=("conv1_1",),
        style_layers=("conv1_1",),
    )
    extractor = build_extractor(config)
    assert extractor.padding == "reflect"
    assert resolve_train_config(weights=None).padding == "zero"
    with pytest.raises(ValueError, match="padding"):
        resolve_train_config(padding="zeros")
