"""Runs with the real VGG19 ImageNet weights (`keras-nst weights fetch`)."""

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from keras_nst import cli
from keras_nst.image_io import load_image
from keras_nst.image_io import read_metadata
from keras_nst.style_transfer import build_model

pytestmark = pytest.mark.real_weights

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CONTENT = EXAMPLES / "astronaut.png"
STYLE = EXAMPLES / "starry_night.jpg"


def test_imagenet_features_classify_like_vgg19():
    # The ImageNet weights give the known first-layer response: block1_conv1
    # of a grey image is the same at every interior position.
    from keras_nst.features import VGG19Features

    extractor = VGG19Features(["conv1_1"], weights="imagenet")
    grey = np.full((1, 9, 9, 3), 128.0, "float32")
    f = np.asarray(extractor(grey)["block1_conv1"])
    np.testing.assert_allclose(f[0, 4, 4], f[0, 2, 6], rtol=1e-5)
    assert f.max() > 0


def test_cli_end_to_end_stylises(tmp_path):
    out = tmp_path / "out.png"
    result = CliRunner().invoke(
        cli.main,
        [
            "transfer",
            str(CONTENT),
            str(STYLE),
            "-o",
            str(out),
            "--size",
            "96",
            "--iterations",
            "40",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    image = load_image(out)
    content = load_image(CONTENT, 96)
    assert image.shape == content.shape == (96, 96, 3)
    assert np.abs(image - content).mean() > 10.0
    assert read_metadata(out)["weights"] == "imagenet"


def test_style_loss_falls_by_a_large_factor():
    model = build_model(CONTENT, STYLE, "gatys", size=96, iterations=40)
    before = model.evaluate_losses()
    model.optimize(40, verbose=0)
    after = model.evaluate_losses()
    assert after["style"] < before["style"] / 20
    assert after["total"] < before["total"] / 5
    # The picture keeps the content: its content loss stays far below the
    # content loss of the style image itself.
    assert after["content"] > 0
