import numpy as np
import pytest

from keras_nst.color import luminance
from keras_nst.color import match_color_histogram
from keras_nst.color import match_luminance
from keras_nst.inputs import ModelInputs
from keras_nst.inputs import model_inputs
from keras_nst.presets import resolve_config


@pytest.fixture
def images(rng):
    content = rng.uniform(0, 255, (8, 12, 3)).astype("float32")
    style = rng.uniform(0, 255, (10, 6, 3)).astype("float32")
    start = rng.uniform(0, 255, (8, 12, 3)).astype("float32")
    return content, style, start


def _config(**overrides):
    return resolve_config(
        style_layers=["conv1_1"], content_layers=["conv1_1"], **overrides
    )


def test_no_colour_mode_passes_the_images_through(images):
    content, style, start = images
    inputs = model_inputs(_config(), content, style, start)
    assert isinstance(inputs, ModelInputs)
    np.testing.assert_array_equal(inputs.content, content[None])
    assert len(inputs.styles) == 1
    np.testing.assert_array_equal(inputs.styles[0], style[None])
    np.testing.assert_array_equal(inputs.start, start[None])
    assert inputs.blend_weights == (1.0,)
    assert inputs.color_reference is None
    assert all(a.dtype == np.float32 for a in (inputs.content, inputs.start))


def test_the_start_defaults_to_the_content(images):
    content, style, _ = images
    inputs = model_inputs(_config(), content, [style, style])
    np.testing.assert_array_equal(inputs.start, content[None])
    assert inputs.blend_weights == (0.5, 0.5)


def test_luminance_prepares_every_image_and_keeps_the_colours(images):
    content, style, start = images
    inputs = model_inputs(
        _config(preserve_color="luminance"), content, style, start
    )
    np.testing.assert_allclose(inputs.content[0], luminance(content))
    np.testing.assert_allclose(
        inputs.styles[0][0],
        match_luminance(luminance(style), luminance(content)),
    )
    np.testing.assert_allclose(inputs.start[0], luminance(start))
    np.testing.assert_array_equal(inputs.color_reference, content)


def test_histogram_recolours_the_styles_only(images):
    content, style, start = images
    inputs = model_inputs(
        _config(preserve_color="histogram"), content, [style, style[::-1]]
    )
    np.testing.assert_array_equal(inputs.content[0], content)
    np.testing.assert_array_equal(inputs.start[0], content)
    for got, original in zip(inputs.styles, (style, style[::-1]), strict=True):
        np.testing.assert_allclose(
            got[0], match_color_histogram(original, content), atol=1e-4
        )
    assert inputs.color_reference is None


def test_blend_weights_are_normalised(images):
    content, style, _ = images
    config = _config(style_blend_weights=(3.0, 1.0))
    inputs = model_inputs(config, content, [style, style])
    assert inputs.blend_weights == (0.75, 0.25)
    with pytest.raises(ValueError, match="one style blend weight per style"):
        model_inputs(config, content, [style])


def test_shape_checks(images):
    content, style, start = images
    with pytest.raises(ValueError, match="initial image"):
        model_inputs(_config(), content, style, start[:, :-1])
    with pytest.raises(ValueError, match=r"shape=\(8, 8\)"):
        model_inputs(_config(), np.zeros((8, 8)), style)
    # conv5_1 is behind four poolings: 16 px at least.
    deep = resolve_config(style_layers=["conv5_1"], content_layers=[])
    with pytest.raises(
        ValueError,
        match="The style image is 6x10 pixels; the layers block5_conv1 "
        "need at least 16 pixels",
    ):
        model_inputs(deep, np.zeros((16, 16, 3)), style)
    with pytest.raises(ValueError, match="at least one style image"):
        model_inputs(_config(), content, [])
