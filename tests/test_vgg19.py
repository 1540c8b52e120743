"""VGG19 built to the deepest needed layer, its weights read by name."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_nst.backend import value_and_gradients
from keras_nst.errors import WeightsError
from keras_nst.features import VGG19Features
from keras_nst.vgg19 import VGG19MaxPooling2D
from keras_nst.vgg19 import build_vgg19
from keras_nst.vgg19 import read_vgg19_weights

h5py = pytest.importorskip("h5py")

# block1_conv1 and block1_conv2: what `conv1_2` needs.
SHAPES = {"block1_conv1": (3, 3, 3, 64), "block1_conv2": (3, 3, 64, 64)}


def _legacy_file(
    path, rng, order=("block1_conv1", "block1_conv2"), shapes=None
):
    """A notop file in the layout keras.applications downloads."""
    shapes = shapes or SHAPES
    values = {}
    with h5py.File(path, "w") as file:
        file.attrs["layer_names"] = [n.encode() for n in ("input_1", *order)]
        for name in order:
            kernel = rng.normal(size=shapes[name]).astype("float32")
            bias = rng.normal(size=shapes[name][-1]).astype("float32")
            group = file.create_group(name)
            names = [f"{name}_W_1:0", f"{name}_b_1:0"]
            group.attrs["weight_names"] = [n.encode() for n in names]
            group[names[0]], group[names[1]] = kernel, bias
            values[name] = [kernel, bias]
    return values


def _conv_weights(network):
    return {
        layer.name: [np.asarray(w) for w in layer.get_weights()]
        for layer in network.layers
        if isinstance(layer, keras.layers.Conv2D)
    }


@pytest.mark.parametrize(
    "order",
    [("block1_conv1", "block1_conv2"), ("block1_conv2", "block1_conv1")],
)
def test_weights_are_read_by_layer_name(tmp_path, rng, order):
    path = tmp_path / "vgg19.h5"
    want = _legacy_file(path, rng, order)
    got = read_vgg19_weights(str(path), ["block1_conv1", "block1_conv2"])
    for name in SHAPES:
        for a, b in zip(got[name], want[name], strict=True):
            np.testing.assert_array_equal(a, b)
    extractor = VGG19Features(["conv1_2"], weights=str(path), padding="zero")
    built = _conv_weights(extractor.network)
    assert list(built) == ["block1_conv1", "block1_conv2"]
    for name in SHAPES:
        for a, b in zip(built[name], want[name], strict=True):
            np.testing.assert_array_equal(a, b)


def test_only_the_layers_up_to_the_deepest_are_built():
    network = build_vgg19(
        ["block2_conv1", "block1_conv1"],
        "avg",
        "reflect",
        None,
        "float32",
        "channels_last",
    )
    assert [layer.name for layer in network.layers[1:]] == [
        "block1_conv1_reflectpad",
        "block1_conv1",
        "block1_conv2_reflectpad",
        "block1_conv2",
        "block1_avgpool",
        "block2_conv1_reflectpad",
        "block2_conv1",
    ]
    assert network.name == "vgg19_avgpool_reflectpad"
    assert sorted(network.output) == ["block1_conv1", "block2_conv1"]
    convs = [x for x in network.layers if isinstance(x, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [64, 64, 128]
    assert {c.padding for c in convs} == {"valid"}


def test_a_missing_layer_is_a_weights_error(tmp_path, rng):
    path = tmp_path / "short.h5"
    _legacy_file(path, rng, order=("block1_conv1",))
    with pytest.raises(WeightsError, match="Cannot load VGG19 notop weights"):
        VGG19Features(["conv1_2"], weights=str(path))


def test_weights_of_another_shape_are_a_weights_error(tmp_path, rng):
    path = tmp_path / "other.h5"
    shapes = {**SHAPES, "block1_conv2": (3, 3, 64, 32)}
    _legacy_file(path, rng, shapes=shapes)
    with pytest.raises(WeightsError, match=r"block1_conv2.*\(3, 3, 64, 32\)"):
        VGG19Features(["conv1_2"], weights=str(path))


def test_a_keras_weights_file_loads_through_keras(tmp_path, rng):
    # A Keras 3 `.weights.h5` of keras.applications' VGG19 has no layer
    # names to read by; Keras' own loader takes it.
    vgg = keras.applications.VGG19(
        include_top=False, weights=None, input_shape=(None, None, 3)
    )
    path = str(tmp_path / "mine.weights.h5")
    vgg.save_weights(path)
    extractor = VGG19Features(["conv2_1"], weights=path, padding="zero")
    for name, values in _conv_weights(extractor.network).items():
        want = vgg.get_layer(name).get_weights()
        for a, b in zip(values, want, strict=True):
            np.testing.assert_array_equal(a, np.asarray(b))


def _pool_value_and_gradient(layer, x):
    def fn(pixels):
        pooled = layer(pixels)
        return ops.sum(pooled * ops.cos(pooled)), {"pooled": pooled}

    _, aux, (gradient,) = value_and_gradients(fn, [x])
    return ops.convert_to_numpy(aux["pooled"]), ops.convert_to_numpy(gradient)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("shape", [(8, 6), (7, 9), (3, 2)])
def test_reshaped_max_pooling_is_max_pooling(rng, data_format, shape):
    # Normal values: no ties, where the two gradients would differ.
    spatial = (*shape, 4) if data_format == "channels_last" else (4, *shape)
    x = ops.convert_to_tensor(rng.normal(size=(2, *spatial)).astype("float32"))
    plain = keras.layers.MaxPooling2D((2, 2), data_format=data_format)
    want = _pool_value_and_gradient(plain, x)
    for as_reduction in (True, False):
        pool = VGG19MaxPooling2D(as_reduction, data_format=data_format)
        got = _pool_value_and_gradient(pool, x)
        assert got[0].shape == want[0].shape
        assert pool.compute_output_shape(x.shape) == want[0].shape
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_allclose(got[1], want[1], rtol=1e-6, atol=1e-6)
    config = VGG19MaxPooling2D(True, data_format=data_format).get_config()
    again = VGG19MaxPooling2D.from_config(config)
    assert again.as_reduction and again.data_format == data_format


def _reshaped(backend: str, xla: bool) -> bool:
    # Measured per backend: XLA's MaxPooling2D gradient is slow; outside
    # XLA TensorFlow's and PyTorch's own are the faster.
    return {"jax": True, "tensorflow": xla, "torch": False}[backend]


def _pools(network):
    return [x for x in network.layers if isinstance(x, VGG19MaxPooling2D)]


def test_vgg19_max_pools_as_the_backend_says():
    network = build_vgg19(
        ["block3_conv1"], "max", "zero", None, "float32", "channels_last"
    )
    pools = _pools(network)
    assert [x.name for x in pools] == ["block1_pool", "block2_pool"]
    want = _reshaped(keras.backend.backend(), xla=False)
    assert [x.as_reduction for x in pools] == [want, want]
    image = np.zeros((1, 9, 7, 3), "float32")
    assert tuple(network(image)["block3_conv1"].shape) == (1, 2, 1, 256)


@pytest.mark.parametrize("jit_compile", [True, False])
def test_a_model_tells_vgg19_whether_xla_compiles_its_step(rng, jit_compile):
    from keras_nst.inputs import model_inputs
    from keras_nst.model import StyleTransferModel
    from keras_nst.presets import resolve_config

    config = resolve_config(
        "gatys", weights=None, size=16, content_layers=["conv2_1"],
        style_layers=["conv2_1"],
    )  # fmt: skip
    content = rng.uniform(0, 255, (16, 16, 3)).astype("float32")
    model = StyleTransferModel(model_inputs(config, content, content), config)
    model.compile(optimizer="adam", jit_compile=jit_compile)
    want = _reshaped(keras.backend.backend(), xla=jit_compile)
    assert [x.as_reduction for x in _pools(model.extractor.network)] == [want]
    if keras.backend.backend() == "torch" and jit_compile:
        return  # torch.compile, not XLA: a minute to compile, nothing new
    # The step runs in that form.
    history = model.optimize(2, verbose=0)
    assert np.isfinite(history.history["total"]).all()
