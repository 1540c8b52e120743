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
