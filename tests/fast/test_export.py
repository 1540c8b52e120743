import os

import keras
import numpy as np
import pytest

from keras_nst.fast import TransformNet
from keras_nst.fast.export import EXPORT_FORMATS
from keras_nst.fast.export import MIN_EXPORT_SIDE
from keras_nst.fast.export import export_transform
from keras_nst.fast.export import exported_output
from keras_nst.fast.export import exports_any_size
from tests.cli.helpers import invoke

BACKEND = keras.backend.backend()
# What Keras 3.15 exports from each backend: format -> any size.
CAN = {
    "tensorflow": {"saved_model": True, "onnx": True},
    "jax": {"saved_model": True, "onnx": False},
    "torch": {"onnx": False},
}[BACKEND]


@pytest.fixture(scope="module")
def network():
    return TransformNet(filters=4, residual_blocks=1, seed=0)


def _path(folder, format):
    return os.path.join(folder, "net.onnx" if format == "onnx" else "net")


def _assert_matches(network, path, shape, rng):
    images = rng.uniform(0, 255, shape).astype("float32")
    expected = keras.ops.convert_to_numpy(network(images))
    got = exported_output(path, images)
    assert got.shape == shape
    np.testing.assert_allclose(got, expected, atol=2e-3)


@pytest.mark.parametrize("format", sorted(CAN))
def test_an_export_for_one_size_takes_any_batch(tmp_path, network, rng, format):
    path = export_transform(
        network, _path(tmp_path, format), format, size=(13, 10)
    )
    for batch in (1, 3):
        _assert_matches(network, path, (batch, 13, 10, 3), rng)


@pytest.mark.parametrize("format", EXPORT_FORMATS)
def test_an_export_for_any_size_gives_the_network_s_output(
    tmp_path, network, rng, format
):
    if not CAN.get(format):
        pytest.skip(f"Keras exports no {format} for any size from {BACKEND}")
    path = export_transform(network, _path(tmp_path, format), format)
    assert exports_any_size(format)
    # Odd sides (mirrored to a multiple of 4), a multiple of 4, the least.
    for shape in [(2, 37, 50, 3), (1, 64, 33, 3)] + [
        (1, side, MIN_EXPORT_SIDE + 3 - side % 4, 3)
        for side in range(MIN_EXPORT_SIDE, MIN_EXPORT_SIDE + 4)
    ]:
        _assert_matches(network, path, shape, rng)


@pytest.mark.parametrize("format", EXPORT_FORMATS)
def test_what_the_backend_cannot_export_is_refused_before_writing(
    tmp_path, network, format
):
    if format not in CAN:
        with pytest.raises(ValueError, match=f"from the {BACKEND} backend"):
            export_transform(network, _path(tmp_path, format), format)
    elif CAN[format]:
        assert exports_any_size(format)
    else:
        with pytest.raises(ValueError, match="one image size only"):
            export_transform(network, _path(tmp_path, format), format)
    assert os.listdir(tmp_path) == []


def test_bad_arguments_are_refused_and_nothing_is_overwritten(
    tmp_path, network
):
    format = sorted(CAN)[0]
    with pytest.raises(ValueError, match="format"):
        export_transform(network, tmp_path / "x", "tflite", size=(8, 8))
    with pytest.raises(ValueError, match="positive"):
        export_transform(network, _path(tmp_path, format), format, size=(0, 8))
    with pytest.raises(ValueError, match=r"\.onnx"):
        export_transform(network, tmp_path / "x.pb", "onnx", size=(8, 8))
    existing = tmp_path / ("old.onnx" if format == "onnx" else "old")
    existing.write_text("keep me")
    with pytest.raises(FileExistsError):
        export_transform(network, existing, format, size=(8, 8))
    assert existing.read_text() == "keep me"


@pytest.mark.parametrize("format", sorted(CAN))
def test_a_failed_export_leaves_nothing_behind(
    tmp_path, network, monkeypatch, format
):
    def fails(self, path, **kwargs):
        if path.endswith(".onnx"):
            with open(path, "w") as file:
                file.write("half")
        else:
            os.makedirs(os.path.join(path, "variables"))
        raise RuntimeError("converter failed")

    monkeypatch.setattr(TransformNet, "export", fails)
    with pytest.raises(RuntimeError, match="converter failed"):
        export_transform(network, _path(tmp_path, format), format, size=(8, 8))
    assert os.listdir(tmp_path) == []


def test_the_command_exports_checks_and_refuses_to_overwrite(tmp_path, network):
    model = tmp_path / "net.keras"
    network.save(model)
    format = sorted(CAN)[0]
    output = _path(tmp_path, format)
    args = ("export", model, "-o", output, "--format", format)
    result = invoke(*args, "--height", 12, "--width", 9)
    assert result.exit_code == 0, result.output
    assert f"Wrote {output} ({format}, 12x9 images" in result.output
    assert "largest difference from the network" in result.output
    again = invoke(*args, "--height", 12, "--width", 9)
    assert again.exit_code == 1 and "not overwriting" in again.output
    assert invoke(*args, "--height", 12).exit_code == 2
    if not CAN.get("saved_model"):
        refused = invoke("export", model, "-o", tmp_path / "sm")
        assert refused.exit_code == 1
        assert refused.output.count("\n") == 1 and "Error:" in refused.output
