import re

import numpy as np
import pytest

from keras_nst.color import COLOR_MODES
from keras_nst.color import combine_luminance
from keras_nst.color import finish_output
from keras_nst.color import luminance
from keras_nst.color import match_color_histogram
from keras_nst.color import match_luminance
from keras_nst.color import prepare_inputs
from keras_nst.color import rgb_to_yiq
from keras_nst.color import yiq_to_rgb

# NTSC RGB -> YIQ, written out independently of keras_nst.color.
YIQ = np.array(
    [
        [0.299, 0.587, 0.114],
        [0.596, -0.274, -0.322],
        [0.211, -0.523, 0.312],
    ]
)


def _yiq(image):
    return np.asarray(image, dtype=np.float64) @ YIQ.T


def _y(image):
    return _yiq(image)[..., 0]


def _uniform(rng, shape, low, high):
    return rng.uniform(low, high, shape).astype(np.float32)


def _statistics(image):
    pixels = np.asarray(image, dtype=np.float64).reshape(-1, 3)
    mean = pixels.mean(axis=0)
    centred = pixels - mean
    return mean, centred.T @ centred / len(pixels)


def _sqrtm_svd(matrix):
    # For a symmetric positive definite matrix the SVD is its
    # eigendecomposition; a different route from the library's eigh.
    u, s, _ = np.linalg.svd(matrix)
    return (u * np.sqrt(s)) @ u.T


def _correlated(rng, shape, mean, mixing):
    noise = rng.standard_normal((*shape, 3))
    return (np.asarray(mean) + noise @ np.asarray(mixing).T).astype(np.float32)


def _low_saturation(rng, shape):
    # Grey 60..190 plus a little colour: combining any luminance in
    # 60..190 with this chroma stays inside 0..255.
    grey = rng.uniform(60, 190, shape)[..., None]
    return (grey + rng.uniform(-12, 12, (*shape, 3))).astype(np.float32)


# YIQ


def test_yiq_round_trip(rng):
    image = _uniform(rng, (6, 7, 3), 0, 255)
    yiq = rgb_to_yiq(image)
    assert yiq.dtype == np.float32
    np.testing.assert_allclose(yiq_to_rgb(yiq), image, atol=1e-3)


def test_rgb_to_yiq_matches_ntsc_matrix(rng):
    image = _uniform(rng, (4, 5, 3), 0, 255)
    np.testing.assert_allclose(rgb_to_yiq(image), _yiq(image), atol=1e-3)
    red = rgb_to_yiq(np.array([[[255.0, 0.0, 0.0]]]))
    np.testing.assert_allclose(red[0, 0], [76.245, 151.98, 53.805], atol=1e-3)


def test_yiq_to_rgb_inverts_ntsc_matrix(rng):
    image = _uniform(rng, (4, 5, 3), 0, 255)
    np.testing.assert_allclose(yiq_to_rgb(_yiq(image)), image, atol=1e-3)


def test_grey_has_no_chroma():
    grey = np.linspace(0, 255, 12).reshape(3, 4, 1).repeat(3, axis=-1)
    yiq = rgb_to_yiq(grey)
    np.testing.assert_allclose(yiq[..., 1:], 0.0, atol=1e-4)
    np.testing.assert_allclose(yiq[..., 0], grey[..., 0], atol=1e-3)


def test_yiq_rejects_non_rgb_shape():
    with pytest.raises(ValueError, match=r"Received: shape=\(4, 4\)"):
        rgb_to_yiq(np.zeros((4, 4)))


# luminance


def test_luminance_of_white_and_black():
    white = np.full((2, 3, 3), 255.0, dtype=np.float32)
    black = np.zeros((2, 3, 3), dtype=np.float32)
    np.testing.assert_allclose(luminance(white), 255.0, atol=1e-4)
    np.testing.assert_allclose(luminance(black), 0.0, atol=1e-4)


def test_luminance_three_equal_channels(rng):
    image = _uniform(rng, (5, 6, 3), 0, 255)
    lum = luminance(image)
    assert lum.shape == image.shape
    assert lum.dtype == np.float32
    np.testing.assert_array_equal(lum[..., 0], lum[..., 1])
    np.testing.assert_array_equal(lum[..., 0], lum[..., 2])
    expected = 0.299 * image[..., 0] + 0.587 * image[..., 1]
    expected += 0.114 * image[..., 2]
    np.testing.assert_allclose(lum[..., 0], expected, atol=1e-3)


# match_luminance


def test_match_luminance_gives_content_statistics(rng):
    style_lum = luminance(_uniform(rng, (9, 7, 3), 60, 190))
    content_lum = luminance(_uniform(rng, (6, 8, 3), 100, 150))
    matched = match_luminance(style_lum, content_lum)
    assert matched.shape == style_lum.shape
    assert matched.dtype == np.float32
    np.testing.assert_allclose(matched.mean(), content_lum.mean(), rtol=1e-5)
    np.testing.assert_allclose(matched.std(), content_lum.std(), rtol=1e-4)
    # An increasing affine map of the style: order and shape are kept.
    np.testing.assert_allclose(
        np.corrcoef(matched.ravel(), style_lum.ravel())[0, 1], 1.0, atol=1e-6
    )


def test_match_luminance_flat_style(rng):
    flat = np.full((4, 4, 3), 80.0, dtype=np.float32)
    content_lum = luminance(_uniform(rng, (5, 5, 3), 60, 190))
    matched = match_luminance(flat, content_lum)
    assert np.isfinite(matched).all()
    np.testing.assert_allclose(matched, content_lum.mean(), rtol=1e-5)


# combine_luminance


def test_combine_luminance_takes_y_from_stylised_iq_from_content(rng):
    stylised = _uniform(rng, (6, 5, 3), 60, 190)
    content = _low_saturation(rng, (6, 5))
    combined = combine_luminance(stylised, content)
    assert combined.dtype == np.float32
    assert combined.min() > 0 and combined.max() < 255  # nothing clipped
    yiq = _yiq(combined)
    np.testing.assert_allclose(yiq[..., 0], _y(stylised), atol=1e-3)
    np.testing.assert_allclose(yiq[..., 1:], _yiq(content)[..., 1:], atol=1e-3)
    # With I = Q = 0 for grey, changing Y adds the same amount to R, G, B.
    shift = (_y(stylised) - _y(content))[..., None]
    np.testing.assert_allclose(combined, content + shift, atol=1e-3)


def test_combine_luminance_clips(rng):
    stylised = np.full((3, 3, 3), 250.0, dtype=np.float32)
    content = np.zeros((3, 3, 3), dtype=np.float32)
    content[..., 0] = 255.0  # saturated red
    combined = combine_luminance(stylised, content)
    assert combined.min() >= 0 and combined.max() <= 255
    assert combined.max() == 255


def test_combine_luminance_shape_mismatch():
    message = re.escape(
        "Expected stylised and content to have the same shape. "
        "Received: shape=(4, 5, 3) and shape=(5, 4, 3)"
    )
    with pytest.raises(ValueError, match=message):
        combine_luminance(np.zeros((4, 5, 3)), np.zeros((5, 4, 3)))


# match_color_histogram

STYLE_MIXING = [[18.0, 4.0, 0.0], [6.0, 14.0, 3.0], [-2.0, 5.0, 16.0]]
CONTENT_MIXING = [[10.0, -3.0, 2.0], [2.0, 9.0, -1.0], [4.0, 1.0, 7.0]]


def _histogram_pair(rng):
    style = _correlated(rng, (12, 10), [150, 90, 120], STYLE_MIXING)
    content = _correlated(rng, (9, 11), [110, 135, 100], CONTENT_MIXING)
    return style, content


def test_match_color_histogram_gives_content_statistics(rng):
    style, content = _histogram_pair(rng)
    recoloured = match_color_histogram(style, content)
    assert recoloured.shape == style.shape
    assert recoloured.dtype == np.float32
    assert recoloured.min() > 0 and recoloured.max() < 255  # nothing clipped
    mean, covariance = _statistics(recoloured)
    mean_c, covariance_c = _statistics(content)
    np.testing.assert_allclose(mean, mean_c, rtol=1e-4)
    scale = np.abs(covariance_c).max()
    np.testing.assert_allclose(covariance, covariance_c, atol=1e-2 * scale)


def test_match_color_histogram_uses_symmetric_square_roots(rng):
    # Any A with A C_s A^T = C_c matches the covariance; the paper's
    # "Image Analogies" variant is A = C_c^(1/2) C_s^(-1/2).
    style, content = _histogram_pair(rng)
    mean_s, covariance_s = _statistics(style)
    mean_c, covariance_c = _statistics(content)
    transform = _sqrtm_svd(covariance_c) @ np.linalg.inv(
        _sqrtm_svd(covariance_s)
    )
    np.testing.assert_allclose(
        transform @ covariance_s @ transform.T, covariance_c, rtol=1e-6
    )
    expected = (style - mean_s) @ transform.T + mean_c
    np.testing.assert_allclose(
        match_color_histogram(style, content), expected, atol=1e-3
    )


def test_match_color_histogram_greyscale_style(rng):
    grey = _uniform(rng, (8, 8), 60, 190)[..., None].repeat(3, axis=-1)
    _, content = _histogram_pair(rng)
    recoloured = match_color_histogram(grey, content)
    assert np.isfinite(recoloured).all()
    assert recoloured.min() >= 0 and recoloured.max() <= 255
    np.testing.assert_allclose(
        recoloured.reshape(-1, 3).mean(axis=0), _statistics(content)[0], atol=1
    )


def test_match_color_histogram_flat_images(rng):
    flat = np.full((4, 4, 3), 90.0, dtype=np.float32)
    _, content = _histogram_pair(rng)
    recoloured = match_color_histogram(flat, content)
    assert np.isfinite(recoloured).all()
    np.testing.assert_allclose(
        recoloured, np.broadcast_to(_statistics(content)[0], flat.shape), 1e-4
    )
    style, _ = _histogram_pair(rng)
    onto_flat = match_color_histogram(style, flat)
    assert np.isfinite(onto_flat).all()
    np.testing.assert_allclose(onto_flat, 90.0, atol=0.5)


# prepare_inputs / finish_output


def test_color_modes():
    assert COLOR_MODES == ("none", "luminance", "histogram")


def test_prepare_inputs_none(rng):
    content = _uniform(rng, (5, 6, 3), 0, 255)
    style = _uniform(rng, (7, 4, 3), 0, 255)
    content_vgg, style_vgg = prepare_inputs("none", content, style)
    np.testing.assert_array_equal(content_vgg, content)
    np.testing.assert_array_equal(style_vgg, style)


def test_prepare_inputs_histogram(rng):
    style, content = _histogram_pair(rng)
    content_vgg, style_vgg = prepare_inputs("histogram", content, style)
    np.testing.assert_array_equal(content_vgg, content)
    assert style_vgg.shape == style.shape
    np.testing.assert_allclose(
        _statistics(style_vgg)[0], _statistics(content)[0], rtol=1e-4
    )
    np.testing.assert_allclose(
        style_vgg, match_color_histogram(style, content), atol=1e-4
    )


def test_prepare_inputs_luminance(rng):
    content = _low_saturation(rng, (6, 5))
    style = _uniform(rng, (8, 7, 3), 60, 190)
    content_vgg, style_vgg = prepare_inputs("luminance", content, style)
    assert content_vgg.shape == content.shape
    assert style_vgg.shape == style.shape
    for image in (content_vgg, style_vgg):
        np.testing.assert_array_equal(image[..., 0], image[..., 1])
        np.testing.assert_array_equal(image[..., 0], image[..., 2])
    y_content = _y(content)
    np.testing.assert_allclose(content_vgg[..., 0], y_content, atol=1e-3)
    np.testing.assert_allclose(style_vgg.mean(), y_content.mean(), rtol=1e-5)
    np.testing.assert_allclose(style_vgg.std(), y_content.std(), rtol=1e-4)


@pytest.mark.parametrize("mode", ["none", "histogram"])
def test_finish_output_leaves_result(rng, mode):
    result = _uniform(rng, (5, 6, 3), 0, 255)
    content = _uniform(rng, (5, 6, 3), 0, 255)
    np.testing.assert_array_equal(finish_output(mode, result, content), result)


def test_finish_output_luminance(rng):
    result = luminance(_uniform(rng, (6, 5, 3), 60, 190))
    content = _low_saturation(rng, (6, 5))
    output = finish_output("luminance", result, content)
    yiq = _yiq(output)
    np.testing.assert_allclose(yiq[..., 0], result[..., 0], atol=1e-3)
    np.testing.assert_allclose(yiq[..., 1:], _yiq(content)[..., 1:], atol=1e-3)
    with pytest.raises(ValueError, match="same shape"):
        finish_output("luminance", result, content[:-1])


@pytest.mark.parametrize(
    "call",
    [
        lambda image: prepare_inputs("sepia", image, image),
        lambda image: finish_output("sepia", image, image),
    ],
)
def test_bad_mode(call):
    message = re.escape(
        "Expected mode to be one of ('none', 'luminance', 'histogram'). "
        "Received: mode='sepia'"
    )
    with pytest.raises(ValueError, match=message):
        call(np.zeros((2, 2, 3), dtype=np.float32))
