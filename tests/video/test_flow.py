import numpy as np
import pytest

from keras_nst.video.flow import optical_flow
from keras_nst.video.flow import reliable_mask
from keras_nst.video.flow import warp
from keras_nst.video.flow import warping_error
from tests.video.helpers import pan_frames


def _constant(shape, dx, dy):
    flow = np.zeros((*shape, 2), np.float32)
    flow[..., 0], flow[..., 1] = dx, dy
    return flow


def test_warp_undoes_an_exact_integer_shift(rng):
    image = rng.uniform(0, 255, (20, 30, 3)).astype("float32")
    shifted = np.roll(image, (2, -3), axis=(0, 1))  # s(y, x) = i(y-2, x+3)
    # i(y, x) = s(y + 2, x - 3): the flow from image to shifted.
    back = warp(shifted, _constant((20, 30), -3, 2))
    np.testing.assert_array_equal(back[:18, 3:], image[:18, 3:])


def test_warp_is_exact_for_a_fractional_shift_of_a_linear_ramp():
    rows, cols = np.mgrid[0:16, 0:24].astype("float32")
    ramp = np.stack([2 * cols + rows, rows, cols], axis=-1)
    out = warp(ramp, _constant((16, 24), 0.25, -0.5))
    expected = np.stack(
        [2 * (cols + 0.25) + rows - 0.5, rows - 0.5, cols + 0.25], axis=-1
    )
    np.testing.assert_allclose(out[1:, :-1], expected[1:, :-1], atol=1e-4)


def test_the_flow_of_a_pan_is_its_shift(rng):
    first, second = pan_frames(rng, 2, shape=(64, 96), step=3)
    flow = optical_flow(first, second)  # first(x) = second(x - 3)
    np.testing.assert_allclose(
        flow[8:-8, 8:-8].mean(axis=(0, 1)), [-3, 0], atol=0.15
    )


def test_the_mask_drops_what_an_occluder_uncovers_and_its_edges():
    # A 10 px square moves 5 px right over a still background: in frame t
    # it covers x in [15, 25), in frame t-1 x in [10, 20).
    shape = (30, 40)
    backward = np.zeros((*shape, 2), np.float32)  # frame t -> t-1
    backward[10:20, 15:25, 0] = -5
    forward = np.zeros((*shape, 2), np.float32)  # frame t-1 -> t
    forward[10:20, 10:20, 0] = 5
    mask = reliable_mask(backward, forward)[..., 0]
    assert mask.shape == shape
    # Uncovered background (under the square at t-1, not at t): dropped.
    assert not mask[11:19, 11:14].any()
    # The square's inside and the far background: kept.
    assert mask[12:18, 18:22].all()
    assert mask[:5].all() and mask[25:].all() and mask[:, 30:].all()
    # Its moving edges are motion boundaries: dropped.
    assert not mask[12:18, 24].any()


def test_warping_error_is_zero_for_a_perfect_warp_and_counts_masked(rng):
    image = rng.uniform(0, 255, (20, 30, 3)).astype("float32")
    flow = _constant((20, 30), 0.0, 0.0)
    mask = np.ones((20, 30, 1), np.float32)
    assert warping_error(image, image, flow, mask) == 0.0
    other = image + 4.0
    assert warping_error(other, image, flow, mask) == pytest.approx(16.0)
    mask[:10] = 0.0
    other[:10] += 100.0  # only where the mask drops it
    assert warping_error(other, image, flow, mask) == pytest.approx(16.0)
    assert np.isnan(warping_error(other, image, flow, mask * 0))
