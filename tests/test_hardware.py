import dataclasses
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image
from PIL import ImageFile

from keras_nst import backend
from keras_nst import hardware
from keras_nst import memory
from keras_nst.errors import InsufficientMemoryError
from keras_nst.presets import resolve_config


@pytest.fixture
def fresh_warning():
    hardware.warn_if_bf16_is_slow.cache_clear()
    yield
    hardware.warn_if_bf16_is_slow.cache_clear()


def test_reads_bf16_flags_and_model(monkeypatch):
    info = (
        "processor\t: 0\nmodel name\t: Test CPU 9000\n"
        "flags\t\t: fpu sse avx512f avx512_bf16 amx_tile amx_bf16\n"
    )
    monkeypatch.setattr(hardware, "_cpuinfo", lambda: info)
    assert hardware.bf16_cpu_flags() == ["amx_bf16", "avx512_bf16"]
    assert hardware.cpu_name() == "Test CPU 9000"
    monkeypatch.setattr(hardware, "_cpuinfo", lambda: "flags\t: fpu avx2\n")
    assert hardware.bf16_cpu_flags() == []


@pytest.mark.parametrize(
    "flags, accelerator, fast_kernels, warns",
    [
        ([], False, True, "no bf16 units"),
        (["avx512_bf16"], False, True, None),
        (["avx512_bf16"], False, False, "no fast bf16 kernels"),
        ([], True, False, None),
    ],
)
def test_bf16_warning_only_where_it_is_slow(
    monkeypatch, fresh_warning, flags, accelerator, fast_kernels, warns
):
    monkeypatch.setattr(hardware, "bf16_cpu_flags", lambda: flags)
    monkeypatch.setattr(backend, "has_accelerator", lambda: accelerator)
    monkeypatch.setattr(backend, "CPU_BF16_IS_FAST", fast_kernels)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hardware.warn_if_bf16_is_slow()
        hardware.warn_if_bf16_is_slow()  # once per process
    messages = [str(w.message) for w in caught]
    assert len(messages) == (1 if warns else 0)
    if warns:
        assert "slower than fp32" in messages[0]
        assert warns in messages[0]


def test_memory_estimate_grows_with_pixels_and_history():
    small = hardware.estimate_run_bytes(256, 256)
    large = hardware.estimate_run_bytes(512, 512)
    assert large - small == pytest.approx(
        3 * (small - hardware.estimate_run_bytes(0, 0))
    )
    lbfgs = hardware.estimate_run_bytes(512, 512, lbfgs_history=20)
    # The s and y buffers, and the copies of both a step makes.
    assert lbfgs - large == 4 * 20 * 512 * 512 * 3 * 4
    # 2048 x 2048 with Adam fits a 24 GB machine; 4096 x 4096 does not.
    assert hardware.estimate_run_bytes(2048, 2048) < 20e9
    assert hardware.estimate_run_bytes(4096, 4096) > 24e9


def test_check_memory_refuses_a_run_that_does_not_fit(monkeypatch):
    from keras_nst.presets import resolve_config

    monkeypatch.delenv("KERAS_NST_SKIP_MEMORY_CHECK", raising=False)
    monkeypatch.setattr(backend, "has_accelerator", lambda: False)
    monkeypatch.setattr(hardware, "available_bytes", lambda: 8e9)
    config = resolve_config(optimizer="lbfgs")
    hardware.check_memory(1024, 1024, config)  # about 5 GB
    with pytest.raises(hardware.InsufficientMemoryError) as caught:
        hardware.check_memory(2000, 1500, config)
    message = str(caught.value)
    assert "2000x1500" not in message and "1500x2000" in message
    assert "8.0 GB is available" in message and "\n" not in message
    monkeypatch.setenv("KERAS_NST_SKIP_MEMORY_CHECK", "1")
    hardware.check_memory(2000, 1500, config)
    monkeypatch.delenv("KERAS_NST_SKIP_MEMORY_CHECK")
    monkeypatch.setattr(backend, "has_accelerator", lambda: True)
    hardware.check_memory(2000, 1500, config)


# check_transfer_memory: from the images' headers, before anything is read.


@pytest.fixture
def cpu_with(monkeypatch):
    """A CPU-only machine with the memory given to the returned function."""
    monkeypatch.delenv("KERAS_NST_SKIP_MEMORY_CHECK", raising=False)
    monkeypatch.setattr(backend, "has_accelerator", lambda: False)

    def set_available(gigabytes):
        monkeypatch.setattr(
            hardware, "available_bytes", lambda: gigabytes * 1e9
        )

    set_available(8)
    return set_available


@pytest.fixture
def no_decoding(monkeypatch):
    """Fails any test that decodes an image's pixels."""

    def refuse(*args, **kwargs):
        raise AssertionError("an image was decoded")

    # Every decoder's pixels go through ImageFile.load.
    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


def _header_only_png(path, width, height):
    """A PNG of a few bytes whose header claims `width x height` pixels."""
    Image.new("RGB", (1, 1)).save(path)
    data = bytearray(path.read_bytes())
    # IHDR's data follows the signature and the chunk's length and type;
    # its CRC covers the type and the data.
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    return str(path)


def _config(**overrides):
    # One scale and zero padding unless a test says otherwise: the
    # estimates below are of a run at `size` with VGG19's own padding.
    return resolve_config(
        weights=None, **{"scales": 1, "padding": "zero", **overrides}
    )


def test_refuses_a_huge_content_from_its_header_alone(
    tmp_path, cpu_with, no_decoding
):
    content = _header_only_png(tmp_path / "wide.png", 100_000, 600)
    style = _header_only_png(tmp_path / "style.png", 64, 64)
    with pytest.raises(InsufficientMemoryError) as caught:
        memory.check_transfer_memory(
            content, [style], _config(size=65536, style_size=64)
        )
    message = str(caught.value)
    assert message.startswith("A 65536x393 run needs about 7")
    assert "8.0 GB is available: use a smaller size" in message
    assert "KERAS_NST_SKIP_MEMORY_CHECK=1" in message and "\n" not in message
    # At the default size the same file fits: nothing was decoded either.
    memory.check_transfer_memory(content, style, _config())


def test_refuses_a_file_too_large_to_decode(tmp_path, cpu_with, no_decoding):
    content = _header_only_png(tmp_path / "big.png", 8000, 8000)
    style = _header_only_png(tmp_path / "style.png", 64, 64)
    cpu_with(2)
    with pytest.raises(InsufficientMemoryError) as caught:
        memory.check_transfer_memory(content, style, _config(size=64))
    message = str(caught.value)
    assert message.startswith(
        "A 64x64 run needs about 2.2 GB of memory and 2.0 GB is available, "
        f"at its peak reading the content image '{content}' (8000x8000): "
        "make the file smaller first"
    )


def test_refuses_a_huge_style_size_naming_the_style(
    tmp_path, cpu_with, no_decoding
):
    content = _header_only_png(tmp_path / "content.png", 64, 48)
    style = _header_only_png(tmp_path / "style.png", 40, 30)
    other = np.zeros((1, 30, 40, 3), "float32")
    config = _config(size=32, style_size=60000)
    with pytest.raises(InsufficientMemoryError) as caught:
        memory.check_transfer_memory(content, [style], config)
    message = str(caught.value)
    assert message.startswith("A 32x24 run needs about 7863.4 GB of memory")
    assert message.endswith(
        "GB is available, at its peak taking the Gram matrices of the style "
        f"image '{style}' at 60000x45000: use a smaller style_size "
        "(--style-size) or style_scale (--style-scale) (set "
        "KERAS_NST_SKIP_MEMORY_CHECK=1 to run anyway)."
    )
    with pytest.raises(InsufficientMemoryError, match="of the style array at"):
        memory.check_transfer_memory(content, [other], config)
    memory.check_transfer_memory(content, [style, other], _config(size=32))


def test_style_images_at_the_output_size_count_too(tmp_path, cpu_with):
    # A square style at the size of a wide content has 4 times its pixels.
    content = np.zeros((100, 400, 3), "float32")
    style = np.zeros((400, 400, 3), "float32")
    config = _config(size=2048)
    square = memory.estimate_transfer_bytes(content, style, config)
    wide = memory.estimate_transfer_bytes(content, content, config)
    assert square > wide + 3 * 2048 * 512 * 2.9e3
    cpu_with(square / 1e9 - 1)
    with pytest.raises(InsufficientMemoryError) as caught:
        memory.check_transfer_memory(content, style, config)
    message = str(caught.value)
    assert "Gram matrices of the style array at 2048x2048" in message
    assert "use a smaller size, or a style_size (--style-size)" in message


def test_counts_lbfgs_history(cpu_with):
    content = style = np.zeros((768, 1024, 3), "uint8")
    adam = _config(size=1024)
    lbfgs = _config(size=1024, optimizer="lbfgs", lbfgs_history=100)
    difference = memory.estimate_transfer_bytes(
        content, style, lbfgs
    ) - memory.estimate_transfer_bytes(content, style, adam)
    assert difference == 4 * 100 * 1024 * 768 * 3 * 4
    cpu_with(5)
    memory.check_transfer_memory(content, style, adam)
    with pytest.raises(InsufficientMemoryError) as caught:
        memory.check_transfer_memory(content, style, lbfgs)
    message = str(caught.value)
    assert message.startswith("A 1024x768 run needs about 7.")
    assert "or Adam instead of L-BFGS (its history takes 3.8 GB)" in message


def test_counts_the_largest_scale(cpu_with):
    content = style = np.zeros((768, 1024, 3), "float32")

    def estimate(**overrides):
        return memory.estimate_transfer_bytes(
            content, style, _config(**overrides)
        )

    # Scales add smaller runs before the last, at `size`, and the moments
    # Adam carries from the one before it (2 x 12 bytes a pixel of about
    # half as many pixels); the models themselves are freed in between.
    single = estimate(size=1024)
    for scales in (3, None):  # None: from the default start size
        more = estimate(size=1024, scales=scales)
        assert single < more < single + 12 * 1024 * 768
    assert estimate(size=1024) > estimate(size=512) + 1.5e9
    assert estimate(size=1024, scales=3, optimizer="lbfgs") == estimate(
        size=1024, optimizer="lbfgs"
    )
    cpu_with(3)
    with pytest.raises(InsufficientMemoryError) as caught:
        memory.check_transfer_memory(
            content, style, _config(size=1024, scales=3)
        )
    message = str(caught.value)
    assert message.startswith("A 1024x768 run needs about 3.3 GB")
    assert "now 1024, at the last and largest of the scales)" in message


def test_shallow_layers_need_less():
    content = np.zeros((512, 512, 3), "float32")
    gatys = memory.estimate_transfer_bytes(content, content, _config(size=2048))
    shallow = memory.estimate_transfer_bytes(
        content,
        content,
        _config(
            size=2048, content_layers=["conv1_2"], style_layers=["conv1_1"]
        ),
    )
    assert shallow < gatys / 2


def test_border_padding_needs_more():
    content = np.zeros((768, 1024, 3), "float32")

    def activations(padding):
        # Less the part that does not depend on the padding.
        config = _config(size=1024, padding=padding)
        return memory.estimate_transfer_bytes(
            content, content, config
        ) - memory.estimate_transfer_bytes(
            content, content, dataclasses.replace(config, size=1)
        )

    zero = activations("zero")
    for padding in ("reflect", "replicate"):
        assert activations(padding) == pytest.approx(1.4 * zero, rel=0.02)


def test_a_start_image_file_counts(tmp_path, cpu_with, no_decoding):
    content = np.zeros((48, 64, 3), "float32")
    start = _header_only_png(tmp_path / "start.png", 8000, 8000)
    cpu_with(2)
    memory.check_transfer_memory(content, content, _config(size=64))
    with pytest.raises(
        InsufficientMemoryError, match="peak reading the start image"
    ):
        memory.check_transfer_memory(
            content, content, _config(size=64, init=start)
        )


def test_transfer_check_is_skipped_when_asked_and_on_a_gpu(
    tmp_path, cpu_with, monkeypatch, no_decoding
):
    big = _header_only_png(tmp_path / "big.png", 8000, 8000)
    small = np.zeros((48, 64, 3), "float32")
    huge_run = _config(size=4096)  # 36 GB of activations, 1.8 GB of images
    cpu_with(2)
    with pytest.raises(InsufficientMemoryError, match="^A 4096x3072 run"):
        memory.check_transfer_memory(small, small, huge_run)
    monkeypatch.setenv("KERAS_NST_SKIP_MEMORY_CHECK", "1")
    memory.check_transfer_memory(big, small, _config(size=64))
    memory.check_transfer_memory(small, small, huge_run)
    monkeypatch.delenv("KERAS_NST_SKIP_MEMORY_CHECK")
    # On a GPU the run is the framework's, but reading the files is not.
    monkeypatch.setattr(backend, "has_accelerator", lambda: True)
    memory.check_transfer_memory(small, small, huge_run)
    with pytest.raises(
        InsufficientMemoryError, match="peak reading the content"
    ):
        memory.check_transfer_memory(big, small, _config(size=64))
    monkeypatch.setattr(hardware, "available_bytes", lambda: None)
    memory.check_transfer_memory(big, small, _config(size=64))


def test_transfer_check_reports_missing_files(tmp_path, cpu_with):
    style = np.zeros((8, 8, 3), "float32")
    with pytest.raises(FileNotFoundError, match="missing.png"):
        memory.check_transfer_memory(
            str(tmp_path / "missing.png"), style, _config()
        )


def test_memory_names_still_import_from_hardware():
    from keras_nst.hardware import check_memory
    from keras_nst.hardware import check_transfer_memory

    assert check_memory is memory.check_memory
    assert check_transfer_memory is memory.check_transfer_memory
    assert hardware.InsufficientMemoryError is InsufficientMemoryError
    with pytest.raises(AttributeError):
        hardware.no_such_name  # noqa: B018


def test_available_memory_is_the_least_of_the_limits(monkeypatch):
    monkeypatch.setattr(hardware, "_meminfo", lambda key: 16e9)
    monkeypatch.setattr(hardware, "_cgroup_room", lambda: None)
    monkeypatch.setattr(hardware, "_address_space_room", lambda: None)
    assert hardware.available_bytes() == 16e9
    # A container's cgroup limit, or `ulimit -v`, below the host's memory.
    monkeypatch.setattr(hardware, "_cgroup_room", lambda: 4e9)
    assert hardware.available_bytes() == 4e9
    monkeypatch.setattr(hardware, "_address_space_room", lambda: 2e9)
    assert hardware.available_bytes() == 2e9
    monkeypatch.setattr(hardware, "_address_space_room", lambda: -1e9)
    assert hardware.available_bytes() == 0.0
    for name in ("_cgroup_room", "_address_space_room"):
        monkeypatch.setattr(hardware, name, lambda: None)
    monkeypatch.setattr(hardware, "_meminfo", lambda key: None)
    assert hardware.available_bytes() is None


def test_address_space_limit_counts(monkeypatch):
    import resource

    limit = 8 * 2**30
    monkeypatch.setattr(
        resource, "getrlimit", lambda kind: (limit, resource.RLIM_INFINITY)
    )
    room = hardware._address_space_room()
    assert room is not None and room < limit


# Tiling: a step's activations are one region's; image-sized buffers stay.


def test_tiles_bound_the_estimate_and_the_check_suggests_them(
    tmp_path, cpu_with, no_decoding
):
    content = _header_only_png(tmp_path / "print.png", 4096, 4096)
    style = _header_only_png(tmp_path / "style.png", 1024, 1024)
    whole = _config(size=4096)
    tiled = _config(size=4096, tile_size=512)
    assert memory.estimate_transfer_bytes(content, style, whole) > 45e9
    # 672 x 672 px regions (512 and an 80 px halo each side) and 120 bytes
    # a pixel of image-sized buffers.
    estimate = memory.estimate_transfer_bytes(content, style, tiled)
    assert 4e9 < estimate < 6e9
    cpu_with(6)
    memory.check_transfer_memory(content, style, tiled)
    with pytest.raises(InsufficientMemoryError) as caught:
        memory.check_transfer_memory(content, style, whole)
    message = str(caught.value)
    assert "or tiles of 512 px (--tile-size 512) (set" in message
    memory.check_transfer_memory(
        content, style, _config(size=4096, tile_size=512)
    )
    # Too little memory for any tile: no suggestion.
    cpu_with(3)
    with pytest.raises(InsufficientMemoryError) as caught:
        memory.check_transfer_memory(content, style, whole)
    assert "--tile-size" not in str(caught.value)


def test_max_memory_picks_the_largest_tile_that_fits(tmp_path, cpu_with):
    content = _header_only_png(tmp_path / "print.png", 4096, 3072)
    style = _header_only_png(tmp_path / "style.png", 512, 512)
    config = _config(size=4096, max_memory=6.0)
    fitted = memory.fit_tile_size(content, style, config)
    assert fitted.tile_size in memory.TILE_SIZES
    assert memory.estimate_transfer_bytes(content, style, fitted) <= 6e9
    larger = memory.TILE_SIZES[memory.TILE_SIZES.index(fitted.tile_size) - 1]
    over = _config(size=4096, tile_size=larger)
    assert memory.estimate_transfer_bytes(content, style, over) > 6e9
    # Untiled where it fits; a tile size given is kept.
    small = _config(size=512, max_memory=6.0)
    assert memory.fit_tile_size(content, style, small).tile_size == 0
    given = _config(size=4096, max_memory=6.0, tile_size=256)
    assert memory.fit_tile_size(content, style, given) is given
    # The budget caps what the check allows, whatever is available.
    cpu_with(64)
    with pytest.raises(InsufficientMemoryError, match="2.0 GB is available"):
        memory.check_transfer_memory(
            content, style, _config(size=2048, max_memory=2.0)
        )


def test_reads_vector_extensions(monkeypatch):
    info = "flags\t: fpu sse avx2 fma avx512f avx512_vnni amx_tile\n"
    monkeypatch.setattr(hardware, "_cpuinfo", lambda: info)
    assert hardware.cpu_vector_extensions() == [
        "AVX2", "FMA", "AVX-512", "AVX-512 VNNI", "AMX",
    ]  # fmt: skip
    assert hardware.has_avx512() is True
    monkeypatch.setattr(hardware, "_cpuinfo", lambda: "flags\t: avx2 fma\n")
    assert hardware.cpu_vector_extensions() == ["AVX2", "FMA"]
    assert hardware.has_avx512() is False
    monkeypatch.setattr(hardware, "_cpuinfo", lambda: "")
    assert hardware.cpu_vector_extensions() == []
    assert hardware.has_avx512() is None
