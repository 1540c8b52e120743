import json

import keras
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
    assert seen["run"] == {"sample_every": 7, "verbose": 1}


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


def test_stylize_refuses_colliding_or_overwriting_outputs(photos, tmp_path):
    folder, style = photos
    model = "examples/models/starry_night.keras"
    (folder / "a.jpg").write_bytes((folder / "nested" / "b.jpg").read_bytes())
    result = invoke(
        "stylize", model, folder / "a.png", folder / "a.jpg",
        "-o", tmp_path / "out",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "Two outputs would be one file" in result.output
    assert not (tmp_path / "out").exists()
    before = (folder / "a.png").read_bytes()
    result = invoke("stylize", model, folder / "a.png", "-o", folder)
    assert result.exit_code == 1
    assert "is the input" in result.output
    assert (folder / "a.png").read_bytes() == before
