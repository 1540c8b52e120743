import sys

import numpy as np
import pytest

from keras_nst.allocator import release_free_memory


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="glibc's malloc_trim"
)
def test_freed_blocks_among_live_ones_go_back_to_the_system():
    # Blocks below glibc's mmap threshold come from its heap; freeing all
    # but every tenth leaves free memory between live blocks, which only
    # malloc_trim returns.
    blocks = [np.ones(64 * 1024 // 8) for _ in range(4000)]  # 256 MB
    kept = blocks[::10]
    del blocks
    before = _resident_bytes()
    assert release_free_memory()
    assert before - _resident_bytes() > 100e6
    assert all(block[0] == 1.0 for block in kept)
