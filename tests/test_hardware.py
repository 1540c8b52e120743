import warnings

import pytest

from keras_nst import backend
from keras_nst import hardware


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
    assert lbfgs - large == 2 * 20 * 512 * 512 * 3 * 4
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
