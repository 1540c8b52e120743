import concurrent.futures
import inspect
import os
import stat
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image
from PIL import ImageFile

from keras_nst.errors import ImageTooLargeError
from keras_nst.errors import KerasNSTError
from keras_nst.image_io import DEFAULT_MAX_IMAGE_PIXELS
from keras_nst.image_io import as_batch
from keras_nst.image_io import check_pixel_range
from keras_nst.image_io import get_max_image_pixels
from keras_nst.image_io import load_image
from keras_nst.image_io import read_image_shape
from keras_nst.image_io import resize_image
from keras_nst.image_io import resize_style_image
from keras_nst.image_io import set_max_image_pixels
from keras_nst.image_io import to_uint8
from keras_nst.image_output import check_output_path
from keras_nst.image_output import read_metadata
from keras_nst.image_output import save_image

EXAMPLES = os.path.join(os.path.dirname(__file__), os.pardir, "examples")

ORIENTATION = 0x0112


@pytest.fixture(autouse=True)
def _default_pixel_limit():
    yield
    set_max_image_pixels(DEFAULT_MAX_IMAGE_PIXELS)


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_header(path, width, height):
    """A small PNG whose header claims `width x height` (a bomb's shape)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b""))
        + _chunk(b"IEND", b"")
    )
    return path


def _rgb(rng, height, width):
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def _check_rgb(array, shape):
    assert array.shape == (*shape, 3)
    assert array.dtype == np.float32
    assert array.min() >= 0.0
    assert array.max() <= 255.0


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


# load_image


def test_load_rgb_png_exact(tmp_path, rng):
    pixels = _rgb(rng, 5, 7)
    path = tmp_path / "rgb.png"
    Image.fromarray(pixels).save(path)
    array = load_image(path)
    _check_rgb(array, (5, 7))
    np.testing.assert_array_equal(array, pixels.astype(np.float32))


def test_load_accepts_str_path(tmp_path, rng):
    pixels = _rgb(rng, 3, 4)
    path = tmp_path / "rgb.png"
    Image.fromarray(pixels).save(path)
    np.testing.assert_array_equal(load_image(str(path)), pixels)


@pytest.mark.parametrize("extension", [".png", ".jpg"])
@pytest.mark.parametrize(
    "orientation, corner",
    # The white block stored top-left shows top-right after a 90 degree
    # clockwise turn (6) and bottom-left after a counter-clockwise one (8).
    [(6, (slice(0, 10), slice(-10, None))), (8, (slice(-10, None), slice(10)))],
)
def test_load_applies_exif_orientation(
    tmp_path, extension, orientation, corner
):
    pixels = np.zeros((20, 40, 3), dtype=np.uint8)
    pixels[:10, :10] = 255
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    path = tmp_path / f"rotated{extension}"
    Image.fromarray(pixels).save(path, exif=exif)
    array = load_image(path)
    _check_rgb(array, (40, 20))
    assert array[corner].size == 10 * 10 * 3
    assert array[corner].mean() > 250
    # Everything outside the block stays black.
    mask = np.ones((40, 20), dtype=bool)
    mask[corner] = False
    assert array[mask].mean() < 5


def test_load_greyscale(tmp_path):
    pixels = np.array([[0, 100], [200, 255]], dtype=np.uint8)
    path = tmp_path / "grey.png"
    Image.fromarray(pixels, mode="L").save(path)
    array = load_image(path)
    _check_rgb(array, (2, 2))
    for channel in range(3):
        np.testing.assert_array_equal(array[..., channel], pixels)


def _palette_image():
    image = Image.new("P", (2, 1))
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * (256 * 3 - 6))
    image.putpixel((0, 0), 0)
    image.putpixel((1, 0), 1)
    return image


def test_load_palette(tmp_path):
    path = tmp_path / "palette.png"
    _palette_image().save(path)
    array = load_image(path)
    _check_rgb(array, (1, 2))
    np.testing.assert_array_equal(array[0], [[255, 0, 0], [0, 0, 255]])


def test_load_palette_transparency_becomes_white(tmp_path):
    path = tmp_path / "palette.png"
    _palette_image().save(path, transparency=1)
    with Image.open(path) as image:
        assert image.mode == "P"
        assert image.info["transparency"] == 1
    array = load_image(path)
    _check_rgb(array, (1, 2))
    np.testing.assert_array_equal(array[0], [[255, 0, 0], [255, 255, 255]])


@pytest.mark.parametrize(
    "cmyk, rgb",
    [
        ((0, 0, 0, 0), (255, 255, 255)),
        ((255, 0, 0, 0), (0, 255, 255)),
        ((0, 255, 255, 0), (255, 0, 0)),
        ((0, 0, 0, 255), (0, 0, 0)),
    ],
)
def test_load_cmyk_jpeg(tmp_path, cmyk, rgb):
    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (8, 8), cmyk).save(path, quality=95)
    with Image.open(path) as image:
        assert image.mode == "CMYK"
    array = load_image(path)
    _check_rgb(array, (8, 8))
    np.testing.assert_allclose(array, np.broadcast_to(rgb, array.shape), atol=3)


def test_load_16_bit_png(tmp_path):
    pixels = np.array([[0, 65535], [257, 32896]], dtype=np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(pixels).save(path)
    with Image.open(path) as image:
        assert image.mode.startswith("I")
    array = load_image(path)
    _check_rgb(array, (2, 2))
    expected = np.array([[0, 255], [1, 128]], dtype=np.float32)
    for channel in range(3):
        np.testing.assert_allclose(array[..., channel], expected, atol=1e-4)


def test_load_rgba_transparent_becomes_white(tmp_path):
    image = Image.new("RGBA", (3, 1))
    image.putpixel((0, 0), (10, 20, 30, 255))
    image.putpixel((1, 0), (0, 0, 0, 0))  # hidden black
    image.putpixel((2, 0), (0, 0, 0, 128))  # half-covered black
    path = tmp_path / "rgba.png"
    image.save(path)
    array = load_image(path)
    _check_rgb(array, (1, 3))
    np.testing.assert_array_equal(array[0, 0], [10, 20, 30])
    np.testing.assert_array_equal(array[0, 1], [255, 255, 255])
    np.testing.assert_allclose(array[0, 2], [127, 127, 127], atol=1)


def test_load_la_transparent_becomes_white(tmp_path):
    image = Image.new("LA", (2, 1))
    image.putpixel((0, 0), (100, 255))
    image.putpixel((1, 0), (0, 0))
    path = tmp_path / "la.png"
    image.save(path)
    array = load_image(path)
    _check_rgb(array, (1, 2))
    np.testing.assert_array_equal(array[0], [[100] * 3, [255] * 3])


def test_load_size_resizes_longest_side(tmp_path, rng):
    path = tmp_path / "wide.png"
    Image.fromarray(_rgb(rng, 20, 40)).save(path)
    _check_rgb(load_image(path, size=10), (5, 10))
    path = tmp_path / "tall.png"
    Image.fromarray(_rgb(rng, 40, 20)).save(path)
    _check_rgb(load_image(path, size=10), (10, 5))


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="Image file not found"):
        load_image(tmp_path / "missing.png")


@pytest.mark.parametrize("read", [load_image, read_image_shape, read_metadata])
def test_a_folder_is_not_an_image_file(tmp_path, read):
    with pytest.raises(IsADirectoryError) as error:
        read(tmp_path)
    assert str(error.value) == f"'{tmp_path}' is a folder, not an image file"
    assert isinstance(error.value, OSError)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_load_special_file_is_not_read(tmp_path):
    # Opening a pipe would wait for a writer forever.
    os.mkfifo(tmp_path / "pipe.png")
    with pytest.raises(ValueError, match="not a file"):
        load_image(tmp_path / "pipe.png")


def test_load_text_file(tmp_path):
    path = tmp_path / "x.png"
    path.write_text("not an image\n")
    with pytest.raises(ValueError, match="Cannot read"):
        load_image(path)


def test_load_empty_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="Cannot read"):
        load_image(path)


@pytest.mark.parametrize("extension", [".png", ".jpg"])
def test_load_truncated_file(tmp_path, rng, extension):
    path = tmp_path / f"full{extension}"
    Image.fromarray(_rgb(rng, 16, 16)).save(path)
    data = path.read_bytes()
    truncated = tmp_path / f"truncated{extension}"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="Cannot read"):
        load_image(truncated)


# resize_image


def test_resize_exact_shape(rng):
    image = _rgb(rng, 7, 9).astype(np.float32)
    resized = resize_image(image, (4, 13))
    _check_rgb(resized, (4, 13))


@pytest.mark.parametrize(
    "shape, size, expected",
    [
        ((20, 40), 10, (5, 10)),
        ((40, 20), 10, (10, 5)),
        ((7, 9), 18, (14, 18)),
        ((3, 100), 10, (1, 10)),  # never rounds a side down to 0
    ],
)
def test_resize_longest_side(rng, shape, size, expected):
    image = _rgb(rng, *shape).astype(np.float32)
    _check_rgb(resize_image(image, size), expected)


def test_resize_noop_keeps_values(rng):
    image = rng.uniform(0, 255, (6, 8, 3)).astype(np.float32)
    np.testing.assert_array_equal(resize_image(image, 8), image)
    np.testing.assert_array_equal(resize_image(image, (6, 8)), image)


def test_resize_accepts_uint8(rng):
    image = _rgb(rng, 6, 8)
    resized = resize_image(image, 8)
    assert resized.dtype == np.float32
    np.testing.assert_array_equal(resized, image)


@pytest.mark.parametrize("size", [(4, 5), 20, (31, 3)])
def test_resize_constant_stays_constant(size):
    image = np.full((7, 9, 3), 123.25, dtype=np.float32)
    resized = resize_image(image, size)
    # Float resampling: no rounding to whole numbers on the way.
    np.testing.assert_allclose(resized, 123.25, atol=1e-3)


def test_resize_keeps_channels_apart():
    image = np.zeros((8, 8, 3), dtype=np.float32)
    image[..., 0] = 10.0
    image[..., 1] = 200.0
    image[..., 2] = 255.0
    resized = resize_image(image, (3, 5))
    np.testing.assert_allclose(resized[..., 0], 10.0, atol=1e-3)
    np.testing.assert_allclose(resized[..., 1], 200.0, atol=1e-3)
    np.testing.assert_allclose(resized[..., 2], 255.0, atol=1e-3)


def test_resize_clips_lanczos_overshoot():
    image = np.zeros((16, 16, 3), dtype=np.float32)
    image[:, 8:] = 255.0  # a hard edge rings with Lanczos
    resized = resize_image(image, (16, 11))
    assert resized.min() >= 0.0
    assert resized.max() <= 255.0


@pytest.mark.parametrize("shape", [(4, 4), (4, 4, 4), (1, 4, 4, 3), (4, 4, 1)])
def test_resize_bad_shape(shape):
    with pytest.raises(ValueError, match=r"shape \(height, width, 3\)"):
        resize_image(np.zeros(shape, dtype=np.float32), 2)


# to_uint8


def test_to_uint8_rounds_and_clips():
    image = np.array([[[-5.0, 300.0, 1.5], [0.4, 254.6, 255.0]]])
    result = to_uint8(image)
    assert result.dtype == np.uint8
    np.testing.assert_array_equal(result, [[[0, 255, 2], [0, 255, 255]]])


def test_to_uint8_drops_batch_axis(rng):
    image = rng.uniform(0, 255, (1, 4, 5, 3))
    result = to_uint8(image)
    assert result.shape == (4, 5, 3)
    np.testing.assert_array_equal(result, np.rint(image[0]))


# check_output_path


@pytest.mark.parametrize("name", ["out.gif", "out", "out.png.txt", "out.tif"])
def test_check_output_bad_extension(tmp_path, name):
    with pytest.raises(ValueError, match=r"\.png, \.jpg, \.jpeg"):
        check_output_path(tmp_path / name)


def test_check_output_missing_folder(tmp_path):
    with pytest.raises(OSError, match="does not exist"):
        check_output_path(tmp_path / "nodir" / "out.png")


def test_check_output_path_is_folder(tmp_path):
    folder = tmp_path / "out.png"
    folder.mkdir()
    with pytest.raises(OSError, match="is a folder"):
        check_output_path(folder)


@pytest.mark.parametrize("name", ["out.png", "out.jpg", "out.jpeg", "O.PNG"])
def test_check_output_good_path(tmp_path, name):
    check_output_path(tmp_path / name)
    check_output_path(str(tmp_path / name))
    assert not (tmp_path / name).exists()


def test_check_output_relative_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    check_output_path("out.png")


# save_image


def test_save_png_lossless(tmp_path, rng):
    pixels = _rgb(rng, 9, 11)
    path = tmp_path / "out.png"
    save_image(path, pixels.astype(np.float32))
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(image), pixels)
    np.testing.assert_array_equal(load_image(path), pixels)


def test_save_rounds_floats_and_drops_batch_axis(tmp_path):
    image = np.array([[[0.4, 0.6, 300.0], [-2.0, 127.5, 254.5]]])[None]
    path = tmp_path / "out.png"
    save_image(path, image)
    np.testing.assert_array_equal(
        load_image(path), [[[0, 1, 255], [0, 128, 254]]]
    )


def test_save_metadata_round_trip(tmp_path, rng):
    metadata = {
        "iterations": 4,
        "style_layers": ["block1_conv1", "block2_conv1"],
        "nested": [[1, 2.5], {"a": None}],
        "weights": None,
        "text": "café",
    }
    path = tmp_path / "out.png"
    save_image(path, _rgb(rng, 4, 4), metadata=metadata)
    assert read_metadata(path) == metadata
    assert read_metadata(str(path)) == metadata


def test_save_metadata_tuples_become_lists(tmp_path, rng):
    path = tmp_path / "out.png"
    save_image(path, _rgb(rng, 4, 4), metadata={"layers": ("a", "b")})
    assert read_metadata(path) == {"layers": ["a", "b"]}


def test_read_metadata_without_metadata(tmp_path, rng):
    path = tmp_path / "plain.png"
    save_image(path, _rgb(rng, 4, 4))
    assert read_metadata(path) == {}
    other = tmp_path / "pillow.png"
    Image.fromarray(_rgb(rng, 4, 4)).save(other)
    assert read_metadata(other) == {}


@pytest.mark.parametrize("name", ["out.jpg", "out.jpeg", "OUT.JPG"])
def test_save_jpeg(tmp_path, rng, name):
    pixels = np.full((8, 8, 3), (200, 100, 50), dtype=np.uint8)
    path = tmp_path / name
    save_image(path, pixels, metadata={"ignored": True})
    with Image.open(path) as image:
        assert image.format == "JPEG"
        assert image.size == (8, 8)
    np.testing.assert_allclose(load_image(path), pixels, atol=4)
    assert read_metadata(path) == {}


def test_save_overwrites(tmp_path, rng):
    path = tmp_path / "out.png"
    save_image(path, np.zeros((4, 4, 3)))
    pixels = _rgb(rng, 5, 3)
    save_image(path, pixels)
    np.testing.assert_array_equal(load_image(path), pixels)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_save_checks_path_first(tmp_path, rng):
    with pytest.raises(ValueError, match=r"\.png, \.jpg, \.jpeg"):
        save_image(tmp_path / "out.gif", _rgb(rng, 4, 4))
    with pytest.raises(OSError, match="does not exist"):
        save_image(tmp_path / "nodir" / "out.png", _rgb(rng, 4, 4))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["out.png", "out.jpg"])
@pytest.mark.parametrize("existing", [False, True])
def test_save_is_atomic(tmp_path, rng, monkeypatch, name, existing):
    path = tmp_path / name
    if existing:
        path.write_bytes(b"previous contents")

    def broken_save(self, fp, *args, **kwargs):
        with open(fp, "wb") as file:
            file.write(b"\x89PNG half an image")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_image(path, _rgb(rng, 4, 4))
    if existing:
        assert path.read_bytes() == b"previous contents"
        assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    else:
        assert not path.exists()
        assert list(tmp_path.iterdir()) == []


def test_save_interrupt_leaves_no_temporary(tmp_path, rng, monkeypatch):
    def interrupted_save(self, fp, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", interrupted_save)
    with pytest.raises(KeyboardInterrupt):
        save_image(tmp_path / "out.png", _rgb(rng, 4, 4))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_save_permissions_follow_umask(tmp_path, rng, mask):
    previous = os.umask(mask)
    try:
        path = tmp_path / "out.png"
        save_image(path, _rgb(rng, 4, 4))
        assert _umask() == mask  # save_image restored the umask
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_resize_accepts_numpy_integer_size():
    image = np.zeros((8, 4, 3), dtype=np.float32)
    assert resize_image(image, np.int64(4)).shape == (4, 2, 3)


def test_to_uint8_maps_nan_to_zero():
    image = np.full((1, 2, 3), np.nan, dtype=np.float32)
    image[0, 1] = 200.0
    out = to_uint8(image)
    assert out[0, 0].tolist() == [0, 0, 0]
    assert out[0, 1].tolist() == [200, 200, 200]


def test_check_distinct_outputs(tmp_path):
    from keras_nst.image_output import check_distinct_outputs

    photo = tmp_path / "photo.png"
    photo.write_bytes(b"x")
    link = tmp_path / "link.png"
    link.symlink_to(photo)
    check_distinct_outputs([tmp_path / "a.png", tmp_path / "b.png"], [photo])
    with pytest.raises(ValueError, match="is the input"):
        check_distinct_outputs([link], [photo])
    with pytest.raises(ValueError, match="Two outputs would be one file"):
        check_distinct_outputs([tmp_path / "a.png", f"{tmp_path}/./a.png"], [])


# The pixel limit (decompression bombs)


@pytest.fixture
def recorded():
    """Every warning, even those a filter would hide or show only once."""
    with warnings.catch_warnings(record=True) as log:
        warnings.simplefilter("always")
        yield log


@pytest.mark.parametrize("read", [load_image, read_image_shape, read_metadata])
def test_bomb_is_refused_from_the_header(tmp_path, recorded, read):
    bomb = png_header(tmp_path / "bomb.png", 50000, 50000)
    with pytest.raises(ImageTooLargeError) as error:
        read(bomb)
    message = str(error.value)
    assert isinstance(error.value, KerasNSTError)
    assert isinstance(error.value, ValueError)
    assert len(message.splitlines()) == 1
    for part in (str(bomb), "50000x50000", "2,500,000,000", "268,435,456"):
        assert part in message
    assert "--max-image-pixels 2500000000" in message
    # Pillow's own DecompressionBombError/Warning never got out.
    assert recorded == []


def test_default_limit_allows_large_photos():
    # 200 megapixel phone photos load; a 50000 x 50000 bomb does not.
    assert get_max_image_pixels() == DEFAULT_MAX_IMAGE_PIXELS
    assert 16320 * 12240 <= DEFAULT_MAX_IMAGE_PIXELS < 50000 * 50000
    assert DEFAULT_MAX_IMAGE_PIXELS > Image.MAX_IMAGE_PIXELS


def test_pillow_limit_is_neither_used_nor_changed(
    tmp_path, rng, recorded, monkeypatch
):
    path = tmp_path / "photo.png"
    pixels = _rgb(rng, 20, 20)
    Image.fromarray(pixels).save(path)
    # Pillow would warn over 10 pixels and refuse over 20.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)
    np.testing.assert_array_equal(load_image(path), pixels)
    assert read_image_shape(path) == (20, 20)
    set_max_image_pixels(None)
    np.testing.assert_array_equal(load_image(path), pixels)
    assert recorded == []
    assert Image.MAX_IMAGE_PIXELS == 10


def test_pillow_limit_restored_after_reads_in_threads(tmp_path, rng):
    paths = []
    for i in range(8):
        paths.append(tmp_path / f"{i}.png")
        Image.fromarray(_rgb(rng, 6, 5)).save(paths[-1])
    before = Image.MAX_IMAGE_PIXELS
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        shapes = list(pool.map(lambda p: load_image(p).shape, paths * 4))
    assert shapes == [(6, 5, 3)] * 32
    assert before == Image.MAX_IMAGE_PIXELS


def test_set_max_image_pixels(tmp_path, rng, recorded):
    path = tmp_path / "photo.png"
    Image.fromarray(_rgb(rng, 20, 30)).save(path)
    set_max_image_pixels(599)
    with pytest.raises(ImageTooLargeError, match="30x20 = 600 pixels.* 599 "):
        load_image(path)
    with pytest.raises(ImageTooLargeError):
        read_image_shape(path)
    set_max_image_pixels(np.int64(600))
    assert get_max_image_pixels() == 600
    assert load_image(path).shape == (20, 30, 3)
    set_max_image_pixels(None)
    assert get_max_image_pixels() is None
    assert read_image_shape(png_header(tmp_path / "b.png", 50000, 50000)) == (
        50000,
        50000,
    )


@pytest.mark.parametrize("pixels", [0, -1, 1.5, True, "100"])
def test_set_max_image_pixels_rejects(pixels):
    with pytest.raises(ValueError, match="positive integer or None"):
        set_max_image_pixels(pixels)
    assert get_max_image_pixels() == DEFAULT_MAX_IMAGE_PIXELS


def test_large_image_warns_once_in_one_line(tmp_path, rng, recorded):
    path = tmp_path / "large.png"
    Image.fromarray(_rgb(rng, 20, 30)).save(path)
    set_max_image_pixels(600 * 4)
    load_image(path)
    assert recorded == []  # a quarter of the limit: not large
    set_max_image_pixels(600 * 4 - 1)
    load_image(path)
    load_image(str(path), size=10)
    read_image_shape(path)
    assert len(recorded) == 1
    message = str(recorded[0].message)
    assert len(message.splitlines()) == 1
    assert f"'{path}' is a large image (30x20" in message
    assert recorded[0].filename == __file__  # points at the caller
    other = tmp_path / "other.png"
    Image.fromarray(_rgb(rng, 20, 30)).save(other)
    read_image_shape(other)
    assert len(recorded) == 2


# read_image_shape


@pytest.mark.parametrize("extension", [".png", ".jpg"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_read_image_shape_is_upright(tmp_path, rng, extension, orientation):
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    path = tmp_path / f"photo{extension}"
    Image.fromarray(_rgb(rng, 6, 10)).save(path, exif=exif)
    shape = read_image_shape(path)
    assert shape == ((10, 6) if orientation >= 5 else (6, 10))
    assert shape == load_image(path).shape[:2]


def test_read_image_shape_finds_exif_after_the_pixels(tmp_path, rng):
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    path = tmp_path / "late.png"
    Image.fromarray(_rgb(rng, 6, 10)).save(path)
    data = path.read_bytes()
    iend = data.rindex(b"IEND") - 4
    tiff = exif.tobytes().removeprefix(b"Exif\x00\x00")
    path.write_bytes(data[:iend] + _chunk(b"eXIf", tiff) + data[iend:])
    assert load_image(path).shape == (10, 6, 3)  # Pillow applies it
    assert read_image_shape(path) == (10, 6)


def test_read_image_shape_decodes_nothing(tmp_path, rng, monkeypatch):
    paths = [tmp_path / "a.png", tmp_path / "b.jpg"]
    for path in paths:
        Image.fromarray(_rgb(rng, 6, 10)).save(path)

    def no_decoding(self):
        raise AssertionError("decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    assert [read_image_shape(p) for p in paths] == [(6, 10), (6, 10)]


def test_read_image_shape_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="Image file not found"):
        read_image_shape(tmp_path / "missing.png")
    (tmp_path / "x.png").write_text("not an image\n")
    with pytest.raises(ValueError, match="Cannot read"):
        read_image_shape(str(tmp_path / "x.png"))


# Arrays in: shapes, NaN and the 0..255 range


@pytest.mark.parametrize(
    "shape, hint",
    [
        ((8, 8, 1), "greyscale"),
        ((8, 8), "greyscale"),
        ((8, 8, 4), "alpha"),
        ((1, 8, 8, 4), "alpha"),
        ((2, 8, 8, 3), "one image at a time"),
        ((0, 8, 3), ""),
        ((8,), ""),
    ],
)
def test_save_bad_shape_is_a_clear_error(tmp_path, shape, hint):
    with pytest.raises(ValueError) as error:
        save_image(tmp_path / "out.png", np.zeros(shape, "uint8"))
    message = str(error.value)
    assert message.startswith("Expected image to be one RGB image")
    assert f"Received: image.shape={shape}" in message
    assert hint in message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_save_non_finite_is_a_clear_error(tmp_path, value):
    image = np.full((4, 4, 3), 100.0, "float32")
    image[1, 2, 0] = value
    with pytest.raises(ValueError, match="image to have finite pixel values"):
        save_image(tmp_path / "out.png", image)
    assert list(tmp_path.iterdir()) == []


def test_save_dark_picture_does_not_warn(tmp_path, recorded):
    save_image(tmp_path / "out.png", np.full((4, 4, 3), 0.6, "float32"))
    assert recorded == []
    np.testing.assert_array_equal(load_image(tmp_path / "out.png"), 1.0)


@pytest.mark.parametrize("shape", [(4, 5, 3), (1, 4, 5, 3)])
def test_as_batch(shape):
    batch = as_batch(np.ones(shape, "uint8"))
    assert batch.shape == (1, 4, 5, 3)
    assert batch.dtype == np.float32


def test_as_batch_names_the_argument():
    with pytest.raises(ValueError, match=r"style_image\.shape=\(4, 4\)"):
        as_batch(np.zeros((4, 4)), "style_image")
    with pytest.raises(ValueError, match="Expected content to have finite"):
        as_batch(np.full((4, 4, 3), np.nan), "content")


@pytest.mark.parametrize(
    "image",
    [
        np.full((4, 4, 3), 0.5, "float32"),
        np.ones((1, 4, 4, 3)),  # float64, max exactly 1
        np.linspace(-1, 1, 48).reshape(4, 4, 3),
    ],
)
def test_check_pixel_range_warns_for_0_to_1(recorded, image):
    check_pixel_range(image, "content_image")
    assert len(recorded) == 1
    message = str(recorded[0].message)
    assert len(message.splitlines()) == 1
    assert message.startswith("content_image looks like a 0..1 image")
    assert "0..255" in message and "255" in message
    assert recorded[0].filename == __file__


def test_check_pixel_range_stacklevel(recorded):
    def entry_point(image):
        check_pixel_range(image, "content_image", stacklevel=2)

    here = inspect.currentframe().f_lineno
    entry_point(np.full((4, 4, 3), 0.5))  # the warning points here
    assert recorded[0].lineno == here + 1


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((4, 4, 3), "float32"),  # black
        np.full((4, 4, 3), 2.0, "float32"),  # dark, in 0..255
        np.ones((4, 4, 3), "uint8"),  # integers are 0..255 by nature
        np.full((4, 4, 3), 200.0),
        np.zeros((0, 4, 3), "float32"),
    ],
)
def test_check_pixel_range_quiet_for_0_to_255(recorded, image):
    check_pixel_range(image, "style_image")
    assert recorded == []


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_check_pixel_range_refuses_non_finite(value):
    image = np.full((4, 4, 3), 120.0)
    image[0, 0, 0] = value
    with pytest.raises(ValueError, match="Expected style_image to have finite"):
        check_pixel_range(image, "style_image")


def test_library_refuses_a_bomb(tmp_path, rng):
    import keras_nst

    bomb = png_header(tmp_path / "bomb.png", 50000, 50000)
    style = tmp_path / "style.png"
    Image.fromarray(_rgb(rng, 16, 16)).save(style)
    with pytest.raises(ImageTooLargeError, match="50000x50000"):
        keras_nst.transfer(bomb, style)
    with pytest.raises(ImageTooLargeError, match="50000x50000"):
        keras_nst.transfer(style, bomb)


@pytest.mark.parametrize("size", [0, -3, 2**31, 10**30, (0, 4)])
def test_resize_to_an_absurd_size_is_a_value_error(size):
    with pytest.raises(
        ValueError, match=r"size to be an integer in \[1, 65536\]"
    ):
        resize_image(np.zeros((4, 4, 3), "float32"), size)


@pytest.mark.parametrize("size", ["", "32", 3.0, True, (4,), (4, "4"), None])
def test_resize_to_a_size_of_the_wrong_type_is_a_type_error(size):
    if size is None:
        # None means no resize in load_image; resize_image needs a size.
        size = [None, None]
    with pytest.raises(TypeError, match="Expected size to be an integer"):
        resize_image(np.zeros((4, 4, 3), "float32"), size)


def _checkerboard(height, width):
    # +1 and -1 alternating along both axes: the 2 px period, the finest.
    return (-1.0) ** np.add.outer(np.arange(height), np.arange(width))


def _finest_octave_power(image):
    # Power at the Nyquist frequency along both axes.
    signs = _checkerboard(*image.shape[:2])
    return float(np.mean(image[..., 0] * signs) ** 2)


def test_resize_style_image_drops_the_finest_octave_at_full_size():
    # A smooth ramp plus a 2 px checkerboard: the grain of the finest octave.
    ramp = np.linspace(40.0, 200.0, 64, dtype="float32")[None, :, None]
    signs = _checkerboard(64, 64)
    image = np.broadcast_to(ramp, (64, 64, 3)) + 20.0 * signs[..., None]
    image = image.astype("float32")
    kept = resize_style_image(image, 64, 1.0)
    limited = resize_style_image(image, 64, 0.5)
    np.testing.assert_array_equal(kept, image)
    assert _finest_octave_power(image) > 300.0
    assert _finest_octave_power(limited) < 1e-3 * _finest_octave_power(image)
    # The ramp, the content of coarser octaves, stays.
    np.testing.assert_allclose(
        limited[8:-8, 8:-8].mean(axis=0),
        np.broadcast_to(ramp, (64, 64, 3))[8:-8, 8:-8].mean(axis=0),
        atol=3.0,
    )
    assert limited.shape == image.shape


@pytest.mark.parametrize(
    ("shape", "size", "detail"),
    [((40, 30, 3), 20, 0.5), ((40, 30, 3), 10, 0.5), ((40, 30, 3), 30, 0.75)],
)
def test_resize_style_image_at_or_below_the_detail_is_a_plain_resize(
    rng, shape, size, detail
):
    image = rng.uniform(0, 255, shape).astype("float32")
    np.testing.assert_array_equal(
        resize_style_image(image, size, detail), resize_image(image, size)
    )


def test_resize_style_image_above_the_detail_goes_through_it(rng):
    image = rng.uniform(0, 255, (40, 30, 3)).astype("float32")
    # 0.5 of 40 px is 20 px: reduced to 20 px, then enlarged to 36.
    np.testing.assert_array_equal(
        resize_style_image(image, 36, 0.5),
        resize_image(resize_image(image, 20), 36),
    )
    assert resize_style_image(image, 80, 0.5).shape == (80, 60, 3)


@pytest.mark.parametrize("name", ["starry_night.jpg", "the_scream.jpg"])
def test_shipped_styles_at_512_px_keep_every_pixel_they_use(name):
    # Both files are at least 1024 px: a 512 px run takes its style image
    # as a plain resize, so the 512 px defaults are untouched by the limit.
    image = load_image(os.path.join(EXAMPLES, name))
    np.testing.assert_array_equal(
        resize_style_image(image, 512, 0.5), resize_image(image, 512)
    )
