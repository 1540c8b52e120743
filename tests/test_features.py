import dataclasses

import keras
import numpy as np
import pytest
from keras import ops

from keras_nst.backend import FEATURE_DATA_FORMAT
from keras_nst.features import VGG19Features
from keras_nst.features import build_extractor
from keras_nst.features import deprocess
from keras_nst.features import min_image_side
from keras_nst.features import preprocess
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


def test_stops_after_deepest_layer():
    extractor = VGG19Features(["conv2_1"], weights=None)
    names = [layer.name for layer in extractor.network.layers]
    assert names[-1] == "block2_conv1"
    assert "block3_conv1" not in names


@pytest.mark.parametrize(
    "pooling, cls", [("avg", "AveragePooling2D"), ("max", "MaxPooling2D")]
)
def test_pooling_swap_keeps_conv_weights(pooling, cls):
    extractor = VGG19Features(["conv5_1"], pooling=pooling, weights=None)
    kinds = {type(layer).__name__ for layer in extractor.network.layers}
    assert cls in kinds
    assert ({"AveragePooling2D", "MaxPooling2D"} - {cls}).isdisjoint(kinds)
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


def test_global_settings_are_restored_after_a_failed_build(monkeypatch):
    before = (
        keras.config.dtype_policy().name,
        keras.config.image_data_format(),
    )
    seen = []

    def failing_vgg19(**kwargs):
        seen.append(
            (keras.config.dtype_policy().name, keras.config.image_data_format())
        )
        raise ValueError("no such file")

    monkeypatch.setattr(keras.applications, "VGG19", failing_vgg19)
    with pytest.raises(WeightsError, match="no such file"):
        VGG19Features(["conv1_1"], weights=None, precision="bf16")
    # The build saw bf16 and the backend's layout; nothing leaks out.
    assert seen == [("mixed_bfloat16", FEATURE_DATA_FORMAT)]
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

    extractor = build_extractor(Settings())
    assert extractor.layer_names == ("block2_conv1", "block1_conv1")
    assert extractor.pooling == "max" and extractor.precision == "fp32"
    kinds = {type(layer).__name__ for layer in extractor.network.layers}
    assert "MaxPooling2D" in kinds


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
