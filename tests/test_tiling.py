import numpy as np
import pytest

from keras_nst.tiling import Reach
from keras_nst.tiling import halo
from keras_nst.tiling import is_tiled
from keras_nst.tiling import largest_region
from keras_nst.tiling import layer_reach
from keras_nst.tiling import owned_range
from keras_nst.tiling import tile_alignment
from keras_nst.tiling import tile_grid

GATYS = ("block4_conv2", "block1_conv1", "block2_conv1", "block3_conv1",
         "block4_conv1", "block5_conv1")  # fmt: skip


def test_receptive_fields_of_vgg19():
    # conv1_1 sees 3 px; conv5_1 156 px (VGG19's published field at
    # conv5_1), 70 before its 16-px grid position and 85 after.
    assert layer_reach("conv1_1") == Reach(1, 1, 1)
    assert layer_reach("conv2_1") == Reach(2, 4, 5)
    assert layer_reach("conv5_1") == Reach(16, 70, 85)
    reach = layer_reach("block5_conv1")
    assert reach.before + reach.after + 1 == 156
    assert halo(GATYS) == 80
    assert tile_alignment(GATYS) == 16
    assert halo(["conv1_1", "conv2_1"]) == 4


@pytest.mark.parametrize(
    "height, width, tile",
    [(256, 216, 128), (300, 517, 128), (97, 1000, 200), (64, 64, 16)],
)  # fmt: skip
def test_cores_and_owned_features_partition_the_image(height, width, tile):
    tiles = tile_grid(height, width, tile, GATYS)
    cover = np.zeros((height, width), int)
    margin = halo(GATYS)
    for t in tiles:
        top, bottom, left, right = t.core
        cover[top:bottom, left:right] += 1
        r_top, r_bottom, r_left, r_right = t.region
        # Aligned to the pooling grid, the halo wide or cut at the border.
        assert r_top % 16 == 0 and r_left % 16 == 0
        assert r_top == max(top - margin, 0)
        assert r_bottom == min(bottom + margin, height)
        assert r_left == max(left - margin, 0)
        assert r_right == min(right + margin, width)
        assert bottom - top <= tile // 16 * 16 and right - left <= tile
    assert (cover == 1).all()
    # Each layer's feature rows are owned once, whichever tiles they fall in.
    for stride in (1, 2, 4, 8, 16):
        starts = sorted({t.core[0] for t in tiles})
        ends = sorted({t.core[1] for t in tiles})
        owned = [
            owned_range(a, b, height, stride) for a, b in zip(starts, ends)
        ]
        rows = [q for a, b in owned for q in range(a, b)]
        assert rows == list(range(height // stride))


def test_largest_region_and_when_an_image_is_tiled():
    assert largest_region(4096, 4096, 512, GATYS) == 672 * 672
    assert largest_region(300, 4096, 512, GATYS) == 300 * 672
    assert is_tiled((1, 513, 100, 3), 512)
    assert not is_tiled((1, 512, 512, 3), 512)
    assert not is_tiled((4096, 4096, 3), 0)
