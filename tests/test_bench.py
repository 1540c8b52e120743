"""The benchmark's native PyTorch peer computes the package's losses."""

import importlib.util
import os

import keras
import numpy as np
import pytest

from keras_nst.presets import resolve_config
from keras_nst.style_transfer import build_model

torch = pytest.importorskip("torch")

_PATH = os.path.join(os.path.dirname(__file__), "..", "scripts", "bench.py")


def _bench():
    spec = importlib.util.spec_from_file_location("bench", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("pooling", ["avg", "max"])
def test_native_peer_matches_keras_losses(pooling):
    bench = _bench()
    content, style, start = bench.images(32, seed=3)
    model = build_model(
        content, style, bench.PRESET, start=start, weights=None, size=32,
        pooling=pooling, style_detail=bench.STYLE_DETAIL,
    )  # fmt: skip
    config = resolve_config(
        bench.PRESET, weights=None, size=32, pooling=pooling
    )
    native = bench.NativeStyleTransfer(
        content, style, start, config, torch.device("cpu"),
        weights=model.extractor.get_weights(),
    )  # fmt: skip
    expected = model.evaluate_losses()
    with torch.no_grad():
        got = native.losses(native.image)
    for name, value in expected.items():
        np.testing.assert_allclose(
            float(got[name]), value, rtol=2e-4, err_msg=name
        )
    # One Adam step each moves both to the same loss.
    model.optimize(1, verbose=0)
    native.step()
    with torch.no_grad():
        after = float(native.losses(native.image)["total"])
    np.testing.assert_allclose(
        after, model.evaluate_losses()["total"], rtol=2e-3
    )


def test_native_vgg_stops_at_the_deepest_layer():
    bench = _bench()
    names = [name for name, _ in bench.native_vgg(["block2_conv1"])]
    assert names == ["block1_conv1", "block1_conv2", "pool1", "block2_conv1"]


def test_markdown_table_has_a_row_per_record():
    bench = _bench()
    record = {
        "backend": "jax", "size": 256, "precision": "fp32",
        "jit_compile": True, "ms_per_iter": 512.34, "peak_mem_mb": 900.4,
        "ratio_to_native": 1.05,
    }  # fmt: skip
    table = bench.markdown_table(
        [record, dict(record, ratio_to_native=None, tile_size=128)]
    )
    lines = table.splitlines()
    assert len(lines) == 4
    assert lines[2] == "| jax | 256 | - | fp32 | yes | 512.3 | 900 | 1.05 |"
    assert lines[3].startswith("| jax | 256 | 128 |")
    assert lines[3].endswith("| 900 |  |")


# Slow, not wrong, on a CPU without bf16 units or on JAX's CPU backend.
@pytest.mark.filterwarnings("ignore:precision='bf16' will be slower")
def test_bf16_features_are_float32_and_losses_close():
    rng = np.random.default_rng(0)
    content, style = (
        rng.uniform(0, 255, (32, 32, 3)).astype("float32") for _ in range(2)
    )
    losses = {}
    for precision in ("fp32", "bf16"):
        keras.utils.set_random_seed(0)
        model = build_model(
            content, style, "gatys", weights=None, size=32,
            precision=precision, init="noise", seed=0,
        )  # fmt: skip
        features = model.extractor(model.image.value)
        assert all(
            keras.backend.standardize_dtype(f.dtype) == "float32"
            for f in features.values()
        )
        assert model.image.dtype == "float32"
        losses[precision] = model.evaluate_losses()
    assert keras.config.dtype_policy().name == "float32"  # restored
    for name in ("total", "content", "style"):
        np.testing.assert_allclose(
            losses["bf16"][name], losses["fp32"][name], rtol=0.05,
            err_msg=name,
        )  # fmt: skip
