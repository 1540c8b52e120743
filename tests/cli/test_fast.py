import json
import os
import re
import subprocess
import sys

import keras
import numpy as np
import pytest
from PIL import Image

from keras_nst import fast
from tests.cli.helpers import invoke


def test_train_and_stylize(photos, tmp_path):
    folder, style = photos
    model = tmp_path / "m.keras"
    log = tmp_path / "log.jsonl"
    result = invoke(
        "train", "-s", style, "--data", folder, "-o", model,
        "--weights", "random", "--size", 32, "--batch-size", 2,
        "--epochs", 2, "--style-layers", "conv1_2",
        "--content-layers", "conv1_2", "--filters", 4,
        "--residual-blocks", 1, "--log", log, "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert model.exists()
    # 2 epochs over 2 images in batches of 2: 2 steps.
    state = json.loads((tmp_path / "m_checkpoint" / "state.json").read_text())
    assert state["steps"] == 2
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["step"] for line in lines] == [1, 2]
    assert {"step", "total", "content", "style", "tv"} <= set(lines[0])
    network = fast.load_transform(model)
    assert network.filters == 4 and network.residual_blocks == 1
    out = tmp_path / "styled"
    result = invoke("stylize", model, folder / "a.png", "-o", out, "--size", 30)
    assert result.exit_code == 0, result.output
    with Image.open(out / "a.png") as picture:
        assert picture.size == (30, 20)


def test_train_passes_only_given_settings(photos, tmp_path, monkeypatch):
    seen = {}

    class Trainer:
        history = None

    def fake_train(style, data, output, config, **run):
        seen["config"], seen["run"] = config, run
        return Trainer()

    monkeypatch.setattr(fast, "train", fake_train)
    folder, style = photos
    result = invoke(
        "train", "-s", style, "--data", folder, "-o", tmp_path / "m.keras",
        "--weights", "random", "--precision", "bf16", "--filters", 8,
        "--sample-every", 7,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    expected = fast.TrainConfig(weights=None, precision="bf16", filters=8)
    assert seen["config"] == fast.resolve_train_config(expected)
    assert seen["run"] == {"sample_every": 7, "verbose": 1, "callbacks": []}


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "-s", "{style}", "--data", "{tmp}/none",
          "-o", "{tmp}/m.keras", "--weights", "random"], "Not a directory"),
        (["train", "-s", "{style}", "--data", "{folder}", "-o", "{tmp}/m.h5"],
         "end in .keras"),
        (["train", "-s", "{style}", "--data", "{folder}", "-o", "{tmp}/m.keras",
          "--steps", "3", "--epochs", "2"], "not both"),
        (["train", "-s", "{style}", "--data", "{folder}", "-o", "{tmp}/m.keras",
          "--filters", "0"], "Invalid value"),
        (["stylize", "{tmp}/missing.keras", "{style}", "-o", "{tmp}/out"],
         "Model file not found"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line(photos, tmp_path, args, message):
    folder, style = photos
    fields = {"style": style, "folder": folder, "tmp": tmp_path}
    result = invoke(*[a.format(**fields) for a in args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "m.keras").exists()
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(
    keras.backend.backend() != "torch", reason="the PyTorch backend's refusal"
)
def test_distribute_on_torch_is_a_one_line_refusal(photos, tmp_path):
    folder, style = photos
    model = tmp_path / "m.keras"
    result = invoke(
        "train", "-s", style, "--data", folder, "-o", model,
        "--weights", "random", "--size", 32, "--steps", 1, "--distribute",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "JAX (DataParallel) and TensorFlow" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not model.exists()
    out = tmp_path / "out"
    example = "examples/models/starry_night.keras"
    result = invoke("stylize", example, style, "-o", out, "--distribute")
    assert result.exit_code == 1
    assert "the PyTorch backend runs on one device" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_stylize_keeps_names_apart_and_never_overwrites_an_input(
    photos, tmp_path
):
    folder, style = photos
    model = "examples/models/starry_night.keras"
    (folder / "a.jpg").write_bytes((folder / "nested" / "b.jpg").read_bytes())
    out = tmp_path / "out"
    result = invoke(
        "stylize", model, folder / "a.png", folder / "a.jpg", "-o", out
    )
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(out)) == ["a_jpg.png", "a_png.png"]
    result = invoke("stylize", model, folder, "-o", out / "all", "--size", 16)
    assert result.exit_code == 0, result.output
    assert "[3/3] Wrote" in result.output
    assert sorted(
        os.path.relpath(os.path.join(root, name), out / "all")
        for root, _, names in os.walk(out / "all")
        for name in names
    ) == ["a_jpg.png", "a_png.png", "nested/b.png"]
    before = (folder / "a.png").read_bytes()
    result = invoke("stylize", model, folder / "a.png", "-o", folder)
    assert result.exit_code == 1
    assert "is the input" in result.output
    assert (folder / "a.png").read_bytes() == before


def _pictures(folder, shapes, rng):
    paths = []
    for name, shape in shapes.items():
        path = folder / name
        pixels = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(path)
        paths.append(path)
    return paths


def test_stylize_writes_images_of_any_size(tmp_path, rng):
    model = tmp_path / "m.keras"
    fast.TransformNet(filters=4, residual_blocks=1).save(model)
    shapes = {"dot.png": (1, 1), "tiny.png": (5, 3), "photo.png": (20, 30)}
    inputs = _pictures(tmp_path, shapes, rng)
    out = tmp_path / "out"
    result = invoke("stylize", model, *inputs, "-o", out, "--batch-size", 2)
    assert result.exit_code == 0, result.output
    for name, (height, width) in shapes.items():
        with Image.open(out / name) as picture:
            assert picture.size == (width, height)
    if keras.backend.backend() != "torch":
        # Over every device (here one): the same pictures.
        again = tmp_path / "distributed"
        args = ("stylize", model, *inputs, "-o", again, "--batch-size", 2)
        assert invoke(*args, "--distribute").exit_code == 0
        for name in shapes:
            with Image.open(out / name) as a, Image.open(again / name) as b:
                assert np.array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("bad", ["corrupt.png", "missing.png"])
def test_a_bad_image_is_skipped_and_the_others_written(tmp_path, rng, bad):
    model = tmp_path / "m.keras"
    fast.TransformNet(filters=4, residual_blocks=1).save(model)
    inputs = _pictures(tmp_path, {"a.png": (12, 9), "dot.png": (1, 1)}, rng)
    if bad == "corrupt.png":
        (tmp_path / bad).write_bytes(b"\x89PNG not really")
    out = tmp_path / "out"
    result = invoke(
        "stylize", model, inputs[0], tmp_path / bad, inputs[1], "-o", out
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0] == f"[1/3] Wrote {out / 'a.png'}"
    assert lines[1].startswith(f"[2/3] Skipped {tmp_path / bad}: ")
    assert lines[-1] == "Error: Skipped 1 of 3 inputs; the others are written."
    assert sorted(os.listdir(out)) == ["a.png", "dot.png"]


@pytest.mark.parametrize("kind", ["truncated", "folder"])
def test_an_unreadable_model_is_one_line_and_no_output(photos, tmp_path, kind):
    folder, _ = photos
    model = tmp_path / "m.keras"
    if kind == "folder":
        model.mkdir()
    else:
        fast.TransformNet(filters=4, residual_blocks=1).save(model)
        model.write_bytes(model.read_bytes()[:1000])
    out = tmp_path / "out"
    result = invoke("stylize", model, folder / "a.png", "-o", out)
    assert result.exit_code == 1
    assert result.output.startswith(
        f"Error: Cannot read '{model}' as a keras-nst transform network: "
    )
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_runs_too_large_for_memory_are_one_line_and_no_output(
    photos, tmp_path, monkeypatch
):
    from keras_nst import backend
    from keras_nst import hardware

    monkeypatch.delenv("KERAS_NST_SKIP_MEMORY_CHECK", raising=False)
    monkeypatch.setattr(backend, "has_accelerator", lambda: False)
    monkeypatch.setattr(hardware, "available_bytes", lambda: 1e8)
    folder, style = photos
    model = tmp_path / "m.keras"
    result = invoke(
        "train", "-s", style, "--data", folder, "-o", model,
        "--weights", "random", "--size", 32, "--steps", 1, "-q",
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.output.startswith("Error: Training on 4 crops of 32x32")
    assert len(result.output.strip().splitlines()) == 1
    assert not model.exists()
    assert not (tmp_path / "m_checkpoint").exists()
    fast.TransformNet(filters=4, residual_blocks=1).save(model)
    out = tmp_path / "out"
    result = invoke("stylize", model, folder / "a.png", "-o", out)
    assert result.exit_code == 1
    assert result.output.startswith("Error: Stylising a 60x40 image needs")
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


# TensorFlow's C++ logging: "I0000 00:00:1796175862.091718 2642 port.cc:153]"
# and the absl notice before it, oneDNN's and the CPU feature guard's.
_TF_LOG = re.compile(
    r"^[IWEF]\d{4} |absl::InitializeLog|oneDNN|cpu_feature_guard|cudart_stub",
    re.MULTILINE,
)


@pytest.mark.skipif(
    keras.backend.backend() != "jax",
    reason="trains on JAX in its own process; once per suite is enough",
)
def test_train_on_jax_prints_no_tensorflow_log_lines(photos, tmp_path):
    # Keras imports TensorFlow on JAX too, when it saves the checkpoint.
    folder, style = photos
    model = tmp_path / "m.keras"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(
        [root, *filter(None, [env.get("PYTHONPATH")])]
    )
    run = subprocess.run(
        [sys.executable, "-m", "keras_nst", "train", "-s", str(style),
         "--data", str(folder), "-o", str(model), "--backend", "jax",
         "--weights", "random", "--size", "32", "--batch-size", "2",
         "--steps", "2", "--style-layers", "conv1_2",
         "--content-layers", "conv1_2", "--filters", "4",
         "--residual-blocks", "1", "-q"],
        env=env, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert model.exists()
    assert not _TF_LOG.search(run.stderr), run.stderr[-3000:]
