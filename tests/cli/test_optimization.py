import dataclasses
import json
from pathlib import Path

import click
import keras
import numpy as np
import pytest
from PIL import Image

from keras_nst import cli
from keras_nst.cli import optimization
from keras_nst.config import Config
from keras_nst.image_output import read_metadata
from tests.cli.helpers import invoke
from tests.cli.helpers import record_optimize


@pytest.fixture
def images(tmp_path, rng):
    content = tmp_path / "content.png"
    style = tmp_path / "style.jpg"
    Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(
        content
    )
    Image.fromarray(rng.integers(0, 255, (20, 20, 3), dtype=np.uint8)).save(
        style
    )
    return str(content), str(style)


def test_transfer_writes_png_with_metadata(images, tmp_path):
    content, style = images
    out = tmp_path / "out.png"
    log = tmp_path / "log.jsonl"
    result = invoke(
        "transfer",
        content,
        style,
        "-o",
        out,
        "--weights",
        "random",
        "--size",
        24,
        "--iterations",
        4,
        "--save-every",
        2,
        "--log",
        log,
        "--style-layers",
        "conv1_1,conv2_1",
        "--content-layers",
        "conv2_2",
        "-q",
    )
    assert result.exit_code == 0, result.output
    with Image.open(out) as image:
        assert image.size == (24, 18)
        assert image.mode == "RGB"
    meta = read_metadata(out)
    assert meta["iterations"] == 4
    assert meta["style_layers"] == ["block1_conv1", "block2_conv1"]
    assert meta["weights"] is None
    assert (tmp_path / "out_0002.png").exists()
    assert (tmp_path / "out_0004.png").exists()
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["step"] for line in lines] == [1, 2, 3, 4]
    assert set(lines[0]) == {
        "step",
        "size",
        "total",
        "content",
        "style",
        "tv",
    }
    assert lines[0]["size"] == [18, 24]


def test_tf_tutorial_style_options(images, tmp_path):
    content, style = images
    out = tmp_path / "r.jpg"
    result = invoke(
        "transfer",
        "-c",
        content,
        "-s",
        style,
        "-r",
        out,
        "-v",
        "--preset",
        "tf_tutorial",
        "--weights",
        "random",
        "--size",
        32,
        "--iterations",
        2,
    )
    assert result.exit_code == 0, result.output
    assert "final losses" in result.output
    with Image.open(out) as image:
        assert image.format == "JPEG"
        assert max(image.size) == 32


def test_image_too_small_for_layers(images, tmp_path):
    content, style = images
    out = tmp_path / "r.png"
    result = invoke(
        "transfer", content, style, "-o", out, "--preset", "tf_tutorial",
        "--weights", "random", "--size", 16, "--iterations", 1,
    )  # fmt: skip
    assert result.exit_code == 1
    assert "need at least 16 pixels" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.png", "{style}", "-o", "{out}"], "Image file not found"),
        (
            ["{content}", "{style}", "-o", "{tmp}/nodir/out.png"],
            "does not exist",
        ),
        (["{content}", "{style}", "-o", "{tmp}/out.gif"], ".png, .jpg"),
        (
            ["{content}", "{style}", "-o", "{out}", "--pooling", "min"],
            "Invalid value",
        ),
        (
            [
                "{content}",
                "{style}",
                "-o",
                "{out}",
                "--style-layers",
                "conv9_1",
            ],
            "Unknown VGG19 layer",
        ),
        (
            ["{content}", "{style}", "-o", "{out}", "--init", "nope.png"],
            "Received: init='nope.png'",
        ),
        (
            ["{content}", "{style}", "-o", "{out}", "--size", "0"],
            "Invalid value",
        ),
        (
            [
                "{content}",
                "{style}",
                "-o",
                "{out}",
                "--weights",
                "{tmp}/bad.h5",
            ],
            "bad.h5",
        ),
        (
            ["{content}", "{style}", "{content}", "-o", "{out}"],
            "Got unexpected extra argument",
        ),
        (["{content}", "-o", "{out}"], "Missing STYLE"),
        (["{content}", "{notimage}", "-o", "{out}"], "as an image"),
    ],
)
def test_bad_input_is_one_line_error_and_no_output(
    images, tmp_path, args, message
):
    content, style = images
    (tmp_path / "bad.h5").write_bytes(b"garbage")
    (tmp_path / "notimage.jpg").write_text("hello")
    fields = {
        "content": content,
        "style": style,
        "out": tmp_path / "out.png",
        "tmp": tmp_path,
        "notimage": tmp_path / "notimage.jpg",
    }
    result = invoke("transfer", *[a.format(**fields) for a in args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out.png").exists()


def test_cli_passes_options_to_config(images, tmp_path, monkeypatch):
    seen = {}

    record_optimize(monkeypatch, seen)
    content, style = images
    result = invoke(
        "transfer",
        content,
        style,
        "-o",
        tmp_path / "o.png",
        "--weights",
        "random",
        "--style-weight",
        "3",
        "--tv-weight",
        "0.5",
        "--learning-rate",
        "2",
        "--init",
        "noise",
        "--seed",
        "7",
        "--style-layers",
        "relu1_1,conv3_1",
        "--style-layer-weights",
        "1,2",
        "--pooling",
        "max",
        "--content-layers",
        "conv5_2",
        "--optimizer",
        "lbfgs",
        "--line-search",
        "armijo",
        "--average-decay",
        "0.9",
    )
    assert result.exit_code == 0, result.output
    config = seen["config"]
    assert config.style_weight == 3.0 and config.tv_weight == 0.5
    assert config.learning_rate == 2.0 and config.seed == 7
    assert config.init == "noise" and config.pooling == "max"
    assert config.style_layers == ("block1_conv1", "block3_conv1")
    assert config.style_layer_weights == (1.0, 2.0)
    assert config.content_layers == ("block5_conv2",)
    assert config.content_weight == 1.0  # from the gatys preset
    assert config.optimizer == "lbfgs" and config.line_search == "armijo"
    assert config.average_decay == 0.9


def test_presets_command_lists_all():
    result = invoke("presets")
    assert result.exit_code == 0
    for name in ("gatys", "tf_tutorial", "gatys2016_sum"):
        assert f"{name}:" in result.output
    assert "seed0" not in result.output


def test_preset_option_takes_the_earlier_names():
    option = next(
        param
        for param in optimization.transfer.params
        if param.name == "preset"
    )
    assert option.type.convert("seed004", option, None) == "gatys2016_sum"
    assert option.type.convert("tf_tutorial", option, None) == "tf_tutorial"
    with pytest.raises(click.BadParameter):
        option.type.convert("seed005", option, None)


def test_weights_status_reports_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    result = invoke("weights", "status")
    assert result.exit_code == 1
    assert "keras-nst weights fetch" in result.output
    assert str(tmp_path) in result.output


def test_help_shows_preset_defaults():
    result = invoke("transfer", "--help")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert (
        "--iterations INTEGER RANGE Optimisation steps at the first scale "
        "(all of them, with one). [default: 150]" in text
    )
    assert (
        "--refine-iterations INTEGER RANGE Steps at each larger scale after "
        "the first. [default: 60]" in text
    )
    assert "[default: gatys]" in text


def test_every_config_field_has_an_option():
    import dataclasses

    from keras_nst.config import Config

    names = {param.name for param in optimization.transfer.params}
    for field in dataclasses.fields(Config):
        assert field.name in names, f"no --{field.name.replace('_', '-')}"


def test_several_styles_blend(images, tmp_path):
    content, style = images
    out = tmp_path / "blend.png"
    args = ["transfer", "-c", content, "-s", style, "-s", content, "-r", out]
    small = ["--weights", "random", "--size", 24, "--iterations", 1, "-q"]
    result = invoke(*args, "--style-blend", "0.7,0.3", *small)
    assert result.exit_code == 0, result.output
    assert read_metadata(out)["style"] == [str(style), str(content)]
    assert read_metadata(out)["style_blend_weights"] == [0.7, 0.3]
    bad = invoke(*args[:-1], tmp_path / "x.png", "--style-blend", "1", *small)
    assert bad.exit_code == 2
    assert "one per style image" in bad.output


def test_grid_writes_results_matrix(images, tmp_path):
    content, style = images
    out = tmp_path / "grid.png"
    result = invoke(
        "grid", "-c", content, "-c", style, "-s", style, "-o", out,
        "--cell-size", 16, "--weights", "random", "--size", 24,
        "--iterations", 1, "--style-layers", "conv1_1", "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "cell 2/2 done" in result.output
    with Image.open(out) as image:
        # 3 rows (styles + 2 contents) x 2 columns of 16 px, 8 px padding.
        assert image.size == (2 * 16 + 3 * 8, 3 * 16 + 4 * 8)
    meta = read_metadata(out)
    assert meta["contents"] == [str(content), str(style)]
    assert meta["style_layers"] == ["block1_conv1"]


def test_grid_bad_input_is_one_line(images, tmp_path):
    content, style = images
    result = invoke(
        "grid", "-c", content, "-s", tmp_path / "missing.jpg",
        "-o", tmp_path / "g.png", "--weights", "random",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "Image file not found" in result.output
    assert not (tmp_path / "g.png").exists()


def test_run_too_large_for_memory_is_one_line_and_no_output(
    images, tmp_path, monkeypatch
):
    from keras_nst import backend
    from keras_nst import hardware

    monkeypatch.delenv("KERAS_NST_SKIP_MEMORY_CHECK", raising=False)
    monkeypatch.setattr(backend, "has_accelerator", lambda: False)
    monkeypatch.setattr(hardware, "available_bytes", lambda: 1e9)
    content, style = images
    out = tmp_path / "out.png"
    result = invoke(
        "transfer", content, style, "-o", out, "--weights", "random",
        "--size", "64", "--iterations", "1", "-q",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "Error: A 64x48 run needs about" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_options_not_given_keep_the_presets_values(
    images, tmp_path, monkeypatch
):
    seen = {}

    record_optimize(monkeypatch, seen)
    content, style = images
    result = invoke(
        "transfer", content, style, "-o", tmp_path / "o.png",
        "--preset", "tf_tutorial", "--weights", "random", "--iterations", 3,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    from keras_nst.presets import PRESETS

    # No --seed: one is drawn, so the picture records how to remake it.
    seed = seen["config"].seed
    assert isinstance(seed, int) and 0 <= seed < 2**31
    expected = dataclasses.replace(
        PRESETS["tf_tutorial"].config, weights=None, iterations=3, seed=seed
    )
    assert seen["config"] == expected


def test_help_lists_options_in_sections():
    text = invoke("transfer", "--help").output
    headings = ["Images:", "Losses:", "Optimiser:", "Output:", "Run:"]
    positions = [text.index(f"\n{heading}\n") for heading in headings]
    assert positions == sorted(positions)
    losses = text[positions[1] : positions[2]]
    assert "--style-weight" in losses and "--size" not in losses


def test_grid_takes_every_config_option_but_the_blend():
    names = {param.name for param in cli.main.commands["grid"].params}
    for field in dataclasses.fields(Config):
        if field.name == "style_blend_weights":
            assert field.name not in names
        else:
            assert field.name in names


def test_overflowing_loss_is_one_line_error(images, tmp_path):
    content, style = images
    out = tmp_path / "out.png"
    result = invoke(
        "transfer", content, style, "-o", out, "--weights", "random",
        "--size", 24, "--iterations", 3, "--tv-weight", "3e38",
        "-q",
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "NaN or infinite from the first iteration" in result.output
    assert "Traceback" not in result.output
    assert "--" not in result.output.split("Error:")[1]
    assert not out.exists()


@pytest.mark.parametrize(
    "extra", [["-o", "{content}"], ["-o", "{tmp}/sub/../content.png"],
              ["-o", "{tmp}/o.png", "--log", "{style}"]]
)  # fmt: skip
def test_an_input_is_never_overwritten(images, tmp_path, extra):
    content, style = images
    (tmp_path / "sub").mkdir()
    before = {path: Path(path).read_bytes() for path in (content, style)}
    fields = {"content": content, "style": style, "tmp": tmp_path}
    result = invoke(
        "transfer", content, style, "--weights", "random", "--size", 24,
        "--iterations", 1, "-q", *[a.format(**fields) for a in extra],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "is the input" in result.output
    assert len(result.output.strip().splitlines()) == 1
    for path, data in before.items():
        assert Path(path).read_bytes() == data
    assert not (tmp_path / "o.png").exists()


def test_a_snapshot_never_overwrites_an_input(images, tmp_path):
    content, style = images
    victim = tmp_path / "out_0001.png"
    victim.write_bytes(Path(content).read_bytes())
    before = victim.read_bytes()
    result = invoke(
        "transfer", victim, style, "-o", tmp_path / "out.png",
        "--save-every", 1, "--weights", "random", "--size", 16,
        "--iterations", 1,
    )  # fmt: skip
    assert result.exit_code == 1
    assert "would overwrite the input" in result.output
    assert victim.read_bytes() == before
    assert not (tmp_path / "out.png").exists()


def test_a_run_that_fails_at_once_leaves_no_log(images, tmp_path):
    content, style = images
    log = tmp_path / "log.jsonl"
    result = invoke(
        "transfer", content, style, "-o", tmp_path / "out.png",
        "--log", log, "--weights", "random", "--size", 32,
        "--iterations", 1, "--tv-weight", 1e40, "-q",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "NaN or infinite" in result.output
    assert not log.exists()
    assert not (tmp_path / "out.png").exists()


def test_tiled_transfer_writes_the_untiled_picture(images, tmp_path):
    content, style = images
    pictures = []
    for tile in ("0", "8"):
        keras.utils.set_random_seed(0)  # the same random VGG19 both times
        out = tmp_path / f"tile{tile}.png"
        result = invoke(
            "transfer", content, style, "-o", out, "--weights", "random",
            "--size", 32, "--iterations", 3, "--style-layers",
            "conv1_1,conv2_1", "--content-layers", "conv2_1", "--seed", 1,
            "--tile-size", tile, "-q",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert read_metadata(out)["tile_size"] == int(tile)
        pictures.append(np.asarray(Image.open(out), "int16"))
    assert np.abs(pictures[0] - pictures[1]).max() <= 1
