import subprocess
import sys

import pytest

import keras_nst.fast
from keras_nst.fast.config import JOHNSON_STYLE_LAYERS
from keras_nst.fast.config import TrainConfig
from keras_nst.fast.config import resolve_train_config


def test_importing_the_package_and_its_config_imports_no_keras():
    code = (
        "import sys, keras_nst.fast, keras_nst.fast.config\n"
        "keras_nst.fast.TrainConfig, keras_nst.fast.resolve_train_config\n"
        "assert 'keras' not in sys.modules, 'keras was imported'\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-2000:]


def test_every_export_resolves():
    assert "train" in dir(keras_nst.fast)
    for name in keras_nst.fast.__all__:
        assert getattr(keras_nst.fast, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        keras_nst.fast.nothing  # noqa: B018


def test_overrides_are_checked_and_layers_made_canonical():
    config = resolve_train_config(
        style_layers="relu1_2, conv2_2", content_layers=("conv3_3",), steps=7.0
    )
    assert config.style_layers == ("block1_conv2", "block2_conv2")
    assert config.content_layers == ("block3_conv3",)
    assert config.steps == 7 and isinstance(config.steps, int)
    assert TrainConfig().style_layers == JOHNSON_STYLE_LAYERS


def test_none_overrides_mean_none():
    config = resolve_train_config(
        TrainConfig(style_size=64), weights=None, style_size=None
    )
    assert config.weights is None and config.style_size is None
    with pytest.raises(TypeError, match="steps"):
        resolve_train_config(steps=None)


@pytest.mark.parametrize(
    "overrides, error, message",
    [
        ({"stpes": 3}, ValueError, "did you mean 'steps'"),
        ({"size": 8}, ValueError, "size"),
        ({"precision": "fp16"}, ValueError, "precision"),
        ({"pooling": "min"}, ValueError, "pooling"),
        ({"style_layers": ("conv9_9",)}, ValueError, "conv9_9"),
    ],
)
def test_bad_overrides_raise(overrides, error, message):
    with pytest.raises(error, match=message):
        resolve_train_config(**overrides)


def test_only_a_train_config_is_taken():
    with pytest.raises(TypeError, match="TrainConfig or None"):
        resolve_train_config("gatys")


@pytest.mark.parametrize(
    "field", ["size", "steps", "batch_size", "filters", "seed"]
)
def test_huge_integers_are_refused(field):
    with pytest.raises(ValueError, match=field):
        resolve_train_config(**{field: 10**30})


def test_huge_integers_are_usage_errors_on_the_command_line(tmp_path):
    from tests.cli.helpers import invoke

    result = invoke(
        "train", "-s", "s.png", "--data", tmp_path, "-o", "m.keras",
        "--steps", 10**30,
    )  # fmt: skip
    assert result.exit_code == 2
    assert "Traceback" not in result.output
