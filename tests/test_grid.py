import inspect
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from keras_nst.grid import CELL_SIZE
from keras_nst.grid import GAP
from keras_nst.grid import compose_grid
from keras_nst.grid import make_grid
from keras_nst.image_io import resize_image
from keras_nst.presets import resolve_config

# compose_grid with 2 contents x 3 styles, cell 20, gap 2: cell (r, c)
# starts at pixel 2 + 22 * r down and 2 + 22 * c across.
CELL = 20
PAD = 2
TINY = {
    "weights": None,
    "size": 32,
    "iterations": 1,
    "style_layers": ("conv1_1",),
    "content_layers": ("conv1_2",),
}


def _const(height, width, value):
    return np.full((height, width, 3), value, dtype=np.float32)


def _cell(grid, r, c, cell=CELL, pad=PAD):
    top = pad + r * (cell + pad)
    left = pad + c * (cell + pad)
    return grid[top : top + cell, left : left + cell]


def _matrix(contents=(10, 20), styles=(30, 40, 50), shape=(8, 8)):
    """Constant images of distinct values; results[i][j] is 100+10i+j."""
    return (
        [_const(*shape, v) for v in contents],
        [_const(*shape, v) for v in styles],
        [
            [_const(*shape, 100 + 10 * i + j) for j in range(len(styles))]
            for i in range(len(contents))
        ],
    )


def _write(path, pixels):
    Image.fromarray(pixels).save(path)
    return str(path)


# compose_grid


def test_compose_grid_shape_and_dtype():
    grid = compose_grid(*_matrix(), cell_size=CELL, gap=PAD)
    # 3 rows (styles + 2 contents), 4 columns (contents + 3 styles).
    assert grid.shape == (3 * 20 + 4 * 2, 4 * 20 + 5 * 2, 3)
    assert grid.shape == (68, 90, 3)
    assert grid.dtype == np.float32


def test_compose_grid_top_left_cell_and_gaps_are_background():
    grid = compose_grid(*_matrix(), cell_size=CELL, gap=PAD)
    # The blank cell with the gap around it.
    np.testing.assert_array_equal(grid[:24, :24], 255.0)
    # Padding strips between cells and around the border.
    for start in (0, 22, 44, 66):
        np.testing.assert_array_equal(grid[start : start + 2], 255.0)
    for start in (0, 22, 44, 66, 88):
        np.testing.assert_array_equal(grid[:, start : start + 2], 255.0)


def test_compose_grid_places_styles_contents_and_results():
    grid = compose_grid(*_matrix(), cell_size=CELL, gap=PAD)
    # First row: the styles; first column: the contents.
    for j, value in enumerate((30, 40, 50)):
        assert grid[2 + 10, 2 + 22 * (j + 1) + 10, 0] == pytest.approx(value)
    for i, value in enumerate((10, 20)):
        assert grid[2 + 22 * (i + 1) + 10, 2 + 10, 0] == pytest.approx(value)
    # Cell (i + 1, j + 1) is results[i][j], filling the whole square.
    for i in range(2):
        for j in range(3):
            np.testing.assert_allclose(
                _cell(grid, i + 1, j + 1), 100 + 10 * i + j, atol=1e-3
            )


def test_compose_grid_letterboxes_non_square_images():
    wide = _const(10, 40, 80)  # becomes 5 x 20: rows 7..11 of its cell
    tall = _const(40, 10, 160)  # becomes 20 x 5: columns 7..11
    grid = compose_grid(
        [wide], [tall], [[wide]], cell_size=CELL, gap=PAD, background=0
    )
    assert grid.shape == (2 * 20 + 3 * 2, 2 * 20 + 3 * 2, 3)
    for cell in (_cell(grid, 1, 0), _cell(grid, 1, 1)):
        np.testing.assert_array_equal(cell[:7], 0.0)
        np.testing.assert_array_equal(cell[12:], 0.0)
        np.testing.assert_allclose(cell[7:12], 80.0, atol=1e-3)
    cell = _cell(grid, 0, 1)
    np.testing.assert_array_equal(cell[:, :7], 0.0)
    np.testing.assert_array_equal(cell[:, 12:], 0.0)
    np.testing.assert_allclose(cell[:, 7:12], 160.0, atol=1e-3)
    # The blank cell and the gaps take the background colour too.
    np.testing.assert_array_equal(grid[:24, :24], 0.0)


def test_compose_grid_shrinks_large_images_to_the_cell(rng):
    big = rng.uniform(0, 255, (60, 60, 3)).astype("float32")
    grid = compose_grid([big], [big], [[big]], cell_size=CELL, gap=PAD)
    expected = resize_image(big, CELL)
    assert expected.shape == (20, 20, 3)
    np.testing.assert_allclose(_cell(grid, 1, 1), expected, atol=1e-4)


@pytest.mark.parametrize(
    "results, received",
    [
        ("transposed", r"\(3, 2\)"),
        ("ragged", r"2 rows of lengths \[3, 2\]"),
        ("missing_row", r"\(1, 3\)"),
    ],
)
def test_compose_grid_rejects_wrong_results_shape(results, received):
    contents, styles, good = _matrix()
    results = {
        "transposed": [list(column) for column in zip(*good)],
        "ragged": [good[0], good[1][:2]],
        "missing_row": good[:1],
    }[results]
    with pytest.raises(
        ValueError,
        match=r"Expected results of shape \(2, 3\).*Received: results of "
        r"shape " + received,
    ):
        compose_grid(contents, styles, results)


def test_compose_grid_rejects_empty_contents_or_styles():
    contents, styles, _ = _matrix()
    with pytest.raises(ValueError, match="at least one image in contents"):
        compose_grid([], styles, [])
    with pytest.raises(ValueError, match="at least one image in styles"):
        compose_grid(contents, [], [[], []])


@pytest.mark.parametrize(
    "option, value",
    [
        ("cell_size", 0),
        ("cell_size", 20.0),
        ("gap", -1),
        ("background", 256),
        ("background", -1),
    ],
)
def test_compose_grid_rejects_bad_layout_options(option, value):
    with pytest.raises(ValueError, match=f"Received: {option}={value!r}"):
        compose_grid(*_matrix(), **{option: value})


# make_grid


def test_make_grid_runs_every_pair_in_row_order(tmp_path, monkeypatch):
    values = {"c0": 10, "c1": 20, "s0": 30, "s1": 40}
    paths = {
        name: _write(tmp_path / f"{name}.png", np.full((6, 6, 3), v, np.uint8))
        for name, v in values.items()
    }
    calls = []

    def fake_transfer(content, style, config=None, *, verbose, **overrides):
        calls.append((content, style, config, verbose, overrides))
        i, j = int(content[-5]), int(style[-5])  # ".../c1.png" -> 1
        return _const(6, 6, 100 + 10 * i + j)

    monkeypatch.setattr("keras_nst.style_transfer.transfer", fake_transfer)
    extractor = object()
    built = []
    monkeypatch.setattr(
        "keras_nst.features.build_extractor",
        lambda config: built.append(config) or extractor,
    )
    cells = []
    grid = make_grid(
        [paths["c0"], paths["c1"]],
        [paths["s0"], paths["s1"]],
        "tf_tutorial",
        cell_size=CELL,
        gap=PAD,
        on_cell=lambda i, j, image: cells.append((i, j, image[0, 0, 0])),
        verbose=2,
        size=16,
        iterations=3,
        padding="reflect",  # VGG19's, a Config field: not the grid's gap
    )
    assert [call[:2] for call in calls] == [
        (paths["c0"], paths["s0"]),
        (paths["c0"], paths["s1"]),
        (paths["c1"], paths["s0"]),
        (paths["c1"], paths["s1"]),
    ]
    expected_config = resolve_config(
        "tf_tutorial", size=16, iterations=3, padding="reflect"
    )
    assert built == [expected_config]  # one VGG19 for all four runs
    for call in calls:
        assert call[2:] == (
            expected_config,
            2,
            {"extractor": extractor, "callbacks": ()},
        )
    assert cells == [(0, 0, 100), (0, 1, 101), (1, 0, 110), (1, 1, 111)]
    assert grid.shape == (3 * 20 + 4 * 2, 3 * 20 + 4 * 2, 3)
    np.testing.assert_array_equal(_cell(grid, 0, 0), 255.0)
    expected = [[None, 30, 40], [10, 100, 101], [20, 110, 111]]
    for r in range(3):
        for c in range(3):
            if expected[r][c] is not None:
                np.testing.assert_allclose(
                    _cell(grid, r, c), expected[r][c], atol=1e-3
                )


def test_make_grid_loads_images_at_the_run_size(tmp_path, monkeypatch):
    content = _write(tmp_path / "c.png", np.zeros((80, 80, 3), np.uint8))
    style = _write(tmp_path / "s.png", np.zeros((50, 50, 3), np.uint8))
    loaded = []

    def fake_load_image(path, size=None):
        loaded.append((path, size))
        return _const(4, 4, 0)

    monkeypatch.setattr("keras_nst.grid.load_image", fake_load_image)
    monkeypatch.setattr(
        "keras_nst.style_transfer.transfer",
        lambda *args, **kwargs: _const(4, 4, 0),
    )
    monkeypatch.setattr(
        "keras_nst.features.build_extractor", lambda config: None
    )
    make_grid([content], [style], "gatys2016_sum", cell_size=8, size=24)
    make_grid([content], [style], "gatys2016_sum", cell_size=8)  # preset: 512
    assert loaded == [(content, 24), (style, 24), (content, 512), (style, 512)]


def test_make_grid_checks_inputs_before_any_transfer(tmp_path, monkeypatch):
    path = _write(tmp_path / "a.png", np.zeros((4, 4, 3), np.uint8))
    calls = []
    monkeypatch.setattr(
        "keras_nst.style_transfer.transfer",
        lambda *args, **kwargs: calls.append(args),
    )
    with pytest.raises(ValueError, match="content_paths"):
        make_grid([], [path])
    with pytest.raises(ValueError, match="style_paths"):
        make_grid([path], [])
    with pytest.raises(FileNotFoundError, match="missing.png"):
        make_grid([path, str(tmp_path / "missing.png")], [path])
    with pytest.raises(ValueError, match="Received: cell_size=0"):
        make_grid([path], [path], cell_size=0)
    with pytest.raises(ValueError, match="Unknown setting 'iteration'"):
        make_grid([path], [path], iteration=3)
    assert calls == []


@pytest.fixture
def small_cpu(monkeypatch):
    """A CPU-only machine with 2 GB available, and no run may start."""
    from keras_nst import backend
    from keras_nst import hardware

    monkeypatch.delenv("KERAS_NST_SKIP_MEMORY_CHECK", raising=False)
    monkeypatch.setattr(backend, "has_accelerator", lambda: False)
    monkeypatch.setattr(hardware, "available_bytes", lambda: 2e9)
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise AssertionError("a run or a read started")

    monkeypatch.setattr("keras_nst.style_transfer.transfer", refuse)
    monkeypatch.setattr("keras_nst.grid.load_image", refuse)
    monkeypatch.setattr("keras_nst.features.build_extractor", refuse)
    return calls


def test_make_grid_checks_memory_before_any_cell(
    tmp_path, small_cpu, monkeypatch
):
    from keras_nst import hardware
    from keras_nst.errors import InsufficientMemoryError

    small = _write(tmp_path / "small.png", np.zeros((48, 64, 3), np.uint8))
    square = _write(tmp_path / "square.png", np.zeros((64, 64, 3), np.uint8))
    # At 512 px a 4:3 cell needs about 1.6 GB and the square style 1.8 GB:
    # the last cell is the one that does not fit.
    monkeypatch.setattr(hardware, "available_bytes", lambda: 1.7e9)
    with pytest.raises(InsufficientMemoryError) as caught:
        # The VGG19 padding the estimate was calibrated on.
        make_grid([small, small], [small, square], size=512, padding="zero")
    message = str(caught.value)
    assert message.startswith("A 512x384 run needs about 1.8 GB of memory")
    assert "GB of it for the grid's images and results)" in message
    assert f"Gram matrices of the style image '{square}' at 512x512" in message
    # At 4096 px the first cell's run already does not fit.
    monkeypatch.setattr(hardware, "available_bytes", lambda: 2e9)
    with pytest.raises(InsufficientMemoryError, match="^A 4096x3072 run"):
        make_grid([small], [small], size=4096)
    assert small_cpu == []


def test_make_grid_counts_the_grid_it_holds(tmp_path, small_cpu):
    from keras_nst.errors import InsufficientMemoryError

    path = _write(tmp_path / "a.png", np.zeros((8, 8, 3), np.uint8))
    # Four 30000 px cells of float32 RGB are 43 GB.
    with pytest.raises(InsufficientMemoryError, match="GB of it for the grid"):
        make_grid([path], [path], size=16, cell_size=30000)
    with pytest.raises(ValueError, match="at most 65536"):
        make_grid([path], [path], size=16, cell_size=65537)
    assert small_cpu == []


def test_make_grid_on_random_weights(tmp_path, rng):
    content_paths = [
        _write(tmp_path / "c0.png", rng.integers(0, 256, (24, 32, 3), "uint8")),
        _write(tmp_path / "c1.png", rng.integers(0, 256, (32, 16, 3), "uint8")),
    ]
    style_path = _write(
        tmp_path / "s.png", rng.integers(0, 256, (32, 32, 3), "uint8")
    )
    cells = []
    grid = make_grid(
        content_paths,
        [style_path],
        cell_size=16,
        gap=2,
        on_cell=lambda i, j, image: cells.append((i, j, image)),
        **TINY,
    )
    assert grid.shape == (3 * 16 + 4 * 2, 2 * 16 + 3 * 2, 3)
    assert grid.dtype == np.float32
    assert [(i, j) for i, j, _ in cells] == [(0, 0), (1, 0)]
    assert [image.shape for *_, image in cells] == [(24, 32, 3), (32, 16, 3)]
    for _, _, image in cells:
        assert image.dtype == np.float32
        assert np.abs(image - 255.0).mean() > 10  # not blank
    # Each result sits in its cell: 24 x 32 -> 12 x 16 at row 2,
    # 32 x 16 -> 16 x 8 at column 4.
    first = _cell(grid, 1, 1, cell=16, pad=2)
    np.testing.assert_allclose(
        first[2:14], resize_image(cells[0][2], 16), atol=1e-3
    )
    second = _cell(grid, 2, 1, cell=16, pad=2)
    np.testing.assert_allclose(
        second[:, 4:12], resize_image(cells[1][2], 16), atol=1e-3
    )
    for cell in (first, second):
        assert np.abs(cell - 255.0).mean() > 10
    np.testing.assert_array_equal(_cell(grid, 0, 0, cell=16, pad=2), 255.0)


def test_importing_grid_imports_no_keras():
    code = (
        "import sys, keras_nst.grid; "
        "sys.exit(int(any(m.split('.')[0] in ('keras', 'tensorflow', 'jax', "
        "'torch') for m in sys.modules)))"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_both_grids_share_their_defaults():
    for function in (compose_grid, make_grid):
        parameters = inspect.signature(function).parameters
        assert parameters["cell_size"].default == CELL_SIZE == 256
        assert parameters["gap"].default == GAP == 8
    grid = compose_grid(
        [_const(4, 4, 0)], [_const(4, 4, 0)], [[_const(4, 4, 0)]]
    )
    assert grid.shape == (3 * GAP + 2 * CELL_SIZE,) * 2 + (3,)
