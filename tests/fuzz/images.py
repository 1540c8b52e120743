"""Input files for the fuzz tests: good images and broken ones.

`image_spec` chooses what an input path holds, as an `ImageSpec`: a real
image (PNG, JPEG, GIF, WebP, TIFF or BMP; modes 1, L, LA, P with and
without transparency, RGB, RGBA, CMYK, I;16, I, F; 1x1 to 64x64 and
1x300 or 300x1; EXIF orientations 1-8; animated GIF, WebP and PNG), or
one that is truncated, bit-flipped, valid headers then garbage, empty,
random bytes, a directory, missing, a PNG whose header claims 50000x50000
pixels, or a settings file for `--from`. `file_bytes` makes its bytes and
`write_input` puts it at a path.
"""

import dataclasses
import io
import os
import struct
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from tests.fuzz.choosers import Chooser

# What Pillow can write in each format (found by trying; Pillow 10-13).
SAVE_MODES = {
    "PNG": ("1", "L", "LA", "P", "P+t", "RGB", "RGB+t", "RGBA", "I;16"),
    "JPEG": ("1", "L", "RGB", "CMYK"),
    "GIF": ("1", "L", "P", "P+t", "RGB", "RGBA"),
    "WEBP": ("L", "LA", "P", "RGB", "RGBA"),
    "TIFF": ("1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F"),
    "BMP": ("1", "L", "P", "RGB", "RGBA"),
}
"""Modes per format; `+t` adds a transparent colour (tRNS, GIF index)."""
EXTENSIONS = {
    "PNG": ".png", "JPEG": ".jpg", "GIF": ".gif", "WEBP": ".webp",
    "TIFF": ".tif", "BMP": ".bmp",
}  # fmt: skip
OTHER_EXTENSIONS = (
    ".png", ".jpg", ".jpeg", ".PNG", ".JPG", ".gif", ".webp", ".tiff",
    ".bmp", ".txt", "",
)  # fmt: skip
EXIF_FORMATS = ("PNG", "JPEG", "WEBP", "TIFF")
ANIMATED_FORMATS = ("GIF", "WEBP", "PNG")
EXTREME_SIZES = ((1, 300), (300, 1), (1, 1), (2, 1), (1, 2), (64, 3))
HUGE_HEADERS = ((50000, 50000), (1, 50000), (50000, 1), (2**31 - 1, 1))
"""`(width, height)` a PNG header claims, with a few bytes of pixels."""

INPUT_KINDS = (
    "image", "image", "image", "image", "truncated", "bitflip", "empty",
    "random", "directory", "missing", "huge_header", "bad_payload",
)  # fmt: skip
"""What an input path holds; a good image four times as often."""
MOSTLY_IMAGES = ("image",) * (len(INPUT_KINDS) - 4) + INPUT_KINDS
"""Three in five good images: cases with several inputs may all work."""
SETTINGS_FILES = (
    "{}", "[]", "null", "{", '{"size": "abc"}', '{"size": 16}',
    '{"style_weight": 1e400}', '{"content": "missing.png"}',
    '{"iterations": -1, "seed": 1}', '{"not_a_setting": 1}',
    '{"style": ["a.png", 3]}', '{"size": 99999999999999999999}',
    '{"keras-nst": {"size": 8}}', '"text"', "\u00e9",
)  # fmt: skip
"""What a `--from FILE` settings file may hold (kind `json`)."""


@dataclasses.dataclass(frozen=True)
class ImageSpec:
    """One input path and what it holds; `describe()` says it in a line."""

    kind: str
    format: str = "PNG"
    mode: str = "RGB"
    width: int = 8
    height: int = 8
    orientation: int | None = None
    frames: int = 1
    seed: int = 0
    cut: float = 0.5
    flips: int = 0
    extension: str = ".png"

    @property
    def usable(self) -> bool:
        """Whether the package should read it (so a run may work)."""
        return self.kind == "image"

    def describe(self) -> str:
        if self.kind in ("empty", "directory", "missing"):
            return self.kind
        if self.kind == "random":
            return f"random bytes (seed={self.seed})"
        if self.kind == "json":
            return repr(SETTINGS_FILES[self.seed % len(SETTINGS_FILES)])
        if self.kind == "huge_header":
            return f"PNG header claiming {self.width}x{self.height}"
        parts = [
            f"{self.format} {self.mode} {self.width}x{self.height}",
            f"orientation={self.orientation}" if self.orientation else "",
            f"frames={self.frames}" if self.frames > 1 else "",
            f"seed={self.seed}",
            f"cut at {self.cut:.3f}" if self.kind == "truncated" else "",
            f"{self.flips} bits flipped" if self.kind == "bitflip" else "",
            "bad payload" if self.kind == "bad_payload" else "",
        ]
        return " ".join(p for p in parts if p)


def image_spec(c: Chooser, kinds: Sequence[str] = INPUT_KINDS) -> ImageSpec:
    """An input file: a good image most often, else something broken."""
    kind = c.choice(kinds)
    if kind in ("empty", "directory", "missing", "random"):
        return ImageSpec(
            kind, extension=c.choice(OTHER_EXTENSIONS), seed=c.integer(0, 999)
        )
    if kind == "huge_header":
        width, height = c.choice(HUGE_HEADERS)
        return ImageSpec(kind, width=width, height=height, extension=".png")
    fmt = c.choice(tuple(SAVE_MODES))
    mode = c.choice(SAVE_MODES[fmt])
    if c.boolean(15):
        width, height = c.choice(EXTREME_SIZES)
    else:
        width, height = c.integer(1, 64), c.integer(1, 64)
    orientation = None
    if fmt in EXIF_FORMATS and c.boolean(30):
        orientation = c.integer(1, 8)
    frames = 1
    # Pillow cannot write an animated PNG with a transparent colour.
    animated = fmt in ANIMATED_FORMATS and (fmt, mode[-2:]) != ("PNG", "+t")
    if animated and c.boolean(20):
        frames = c.integer(2, 4)
    extension = EXTENSIONS[fmt]
    if c.boolean(15):
        extension = c.choice(OTHER_EXTENSIONS)
    return ImageSpec(
        kind,
        format=fmt,
        mode=mode,
        width=width,
        height=height,
        orientation=orientation,
        frames=frames,
        seed=c.integer(0, 2**16),
        cut=c.integer(0, 999) / 1000,
        flips=c.integer(1, 16),
        extension=extension,
    )


def good_image_spec(c: Chooser) -> ImageSpec:
    """A readable image that is big enough for the small layers."""
    fmt = c.choice(("PNG", "JPEG", "BMP", "TIFF"))
    mode = c.choice(("RGB", "L", "RGBA") if fmt != "JPEG" else ("RGB", "L"))
    return ImageSpec(
        "image",
        format=fmt,
        mode=mode,
        width=c.integer(8, 48),
        height=c.integer(8, 48),
        seed=c.integer(0, 2**16),
        extension=EXTENSIONS[fmt],
    )


def _pixels(mode: str, width: int, height: int, rng) -> Image.Image:
    base = mode.removesuffix("+t")
    if base == "F":
        values = rng.uniform(-100.0, 300.0, (height, width))
        if rng.random() < 0.3:
            values[rng.random((height, width)) < 0.2] = np.nan
        data = values.astype("<f4").tobytes()
    elif base == "I":
        data = rng.integers(-(2**20), 2**20, (height, width), "<i4").tobytes()
    elif base == "I;16":
        data = rng.integers(0, 2**16, (height, width), "<u2").tobytes()
    elif base == "1":
        data = rng.integers(0, 256, ((width + 7) // 8) * height, np.uint8)
        data = data.tobytes()
    else:
        bands = {"L": 1, "LA": 2, "P": 1, "RGB": 3, "RGBA": 4, "CMYK": 4}
        count = bands[base] * width * height
        data = rng.integers(0, 256, count, np.uint8).tobytes()
    image = Image.frombytes(base, (width, height), data)
    if base == "P":
        image.putpalette(rng.integers(0, 256, 768, np.uint8).tobytes())
    return image


def encode_image(spec: ImageSpec) -> bytes:
    """The bytes of the good image `spec` describes (before any damage)."""
    rng = np.random.default_rng(spec.seed)
    frames = [
        _pixels(spec.mode, spec.width, spec.height, rng)
        for _ in range(spec.frames)
    ]
    options: dict[str, Any] = {}
    if spec.mode == "P+t":
        # An index in use: Pillow may shorten the palette to those.
        options["transparency"] = frames[0].getpixel((0, 0))
    elif spec.mode == "RGB+t":
        options["transparency"] = tuple(int(v) for v in rng.integers(0, 256, 3))
    if spec.orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = spec.orientation
        options["exif"] = exif
    if spec.frames > 1:
        options.update(
            save_all=True, append_images=frames[1:], duration=40, loop=0
        )
    if spec.format == "WEBP" and rng.random() < 0.5:
        options["lossless"] = True
    buffer = io.BytesIO()
    frames[0].save(buffer, format=spec.format, **options)
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def huge_png(width: int, height: int) -> bytes:
    """A PNG with a valid header claiming `width x height`, tiny pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\x80" * 30)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", pixels)
        + _chunk(b"IEND", b"")
    )


def file_bytes(spec: ImageSpec) -> bytes | None:
    """What the file holds; `None` for a directory or a missing path."""
    if spec.kind in ("directory", "missing"):
        return None
    if spec.kind == "empty":
        return b""
    rng = np.random.default_rng(spec.seed)
    if spec.kind == "random":
        return rng.integers(
            0, 256, int(rng.integers(1, 2048)), np.uint8
        ).tobytes()
    if spec.kind == "huge_header":
        return huge_png(spec.width, spec.height)
    if spec.kind == "json":
        return SETTINGS_FILES[spec.seed % len(SETTINGS_FILES)].encode()
    data = encode_image(spec)
    if spec.kind == "truncated":
        return data[: int(spec.cut * len(data))]
    if spec.kind == "bitflip":
        damaged = bytearray(data)
        # Half the flips land in the first 64 bytes, where the headers are.
        for _ in range(spec.flips):
            span = min(len(damaged), 64) if rng.random() < 0.5 else len(damaged)
            position = int(rng.integers(0, span))
            damaged[position] ^= 1 << int(rng.integers(0, 8))
        return bytes(damaged)
    if spec.kind == "bad_payload":
        # A valid first part (the headers), then garbage.
        keep = max(8, int(spec.cut * len(data)))
        tail = rng.integers(0, 256, len(data), np.uint8).tobytes()
        return data[:keep] + tail
    return data


def write_input(spec: ImageSpec, path: str) -> None:
    """Creates what `spec` describes at `path` (nothing if missing)."""
    data = file_bytes(spec)
    if spec.kind == "directory":
        os.makedirs(path, exist_ok=True)
    elif data is not None:
        with open(path, "wb") as file:
            file.write(data)
