import dataclasses

import pytest

from keras_nst import config as config_lib
from keras_nst.config import Config
from keras_nst.layer_names import KERAS_LAYER_NAMES
from keras_nst.layer_names import canonical_layer_name
from keras_nst.layer_names import paper_layer_name
from keras_nst.presets import PRESET_ALIASES
from keras_nst.presets import PRESETS
from keras_nst.presets import resolve_config


@pytest.mark.parametrize(
    "name", ["conv4_2", "relu4_2", "block4_conv2", " Conv4_2 "]
)
def test_layer_names_paper_and_keras(name):
    assert canonical_layer_name(name) == "block4_conv2"


def test_paper_names_round_trip_over_every_layer():
    names = [paper_layer_name(name) for name in KERAS_LAYER_NAMES]
    assert names[:3] == ["conv1_1", "conv1_2", "conv2_1"]
    assert names[-1] == "conv5_4"
    assert len(set(names)) == 16
    for keras_name, paper_name in zip(KERAS_LAYER_NAMES, names, strict=True):
        assert canonical_layer_name(paper_name) == keras_name
    assert paper_layer_name("relu3_3") == "conv3_3"


def test_unknown_layer_suggests_close_match():
    with pytest.raises(ValueError, match="did you mean 'block4_conv2'"):
        canonical_layer_name("block4_conv22")
    with pytest.raises(ValueError, match="Unknown VGG19 layer 'conv6_1'"):
        canonical_layer_name("conv6_1")


def test_default_is_gatys_preset():
    config = resolve_config()
    assert config == resolve_config("gatys") == resolve_config(Config())
    assert config.content_layers == ("block4_conv2",)
    assert config.style_layers == config_lib.GATYS_STYLE_LAYERS
    assert config.pooling == "max"


def test_presets_carry_the_published_values():
    tutorial = resolve_config("tf_tutorial")
    assert tutorial.content_layers == ("block5_conv2",)
    assert (tutorial.learning_rate, tutorial.iterations) == (5.0, 1000)
    assert (tutorial.content_weight, tutorial.style_weight) == (1e4, 1e-2)
    assert (tutorial.tv_weight, tutorial.tv_form) == (1e2, "squared")
    paper = resolve_config("gatys2016_sum")
    assert paper.content_layers == ("block4_conv2",)
    assert (paper.content_weight, paper.style_weight) == (8e-4, 8e-1)
    assert paper.iterations == 3000
    assert paper.content_loss_form == "sum"
    assert (paper.pooling, tutorial.pooling) == ("avg", "max")


def test_earlier_preset_names_are_aliases():
    for alias, name in PRESET_ALIASES.items():
        assert name in PRESETS
        assert resolve_config(alias) == resolve_config(name)
    assert not set(PRESET_ALIASES) & set(PRESETS)


def test_every_preset_resolves_and_has_a_description():
    for name, preset in PRESETS.items():
        assert preset.description
        assert isinstance(resolve_config(name), Config), name


def test_overrides_win_and_none_means_none():
    config = resolve_config(
        "tf_tutorial", iterations=7, weights=None, seed=None
    )
    assert config.iterations == 7
    assert config.style_weight == 1e-2  # not given: the preset's
    assert config.weights is None
    assert config.seed is None
    assert resolve_config(weights=None).weights is None
    assert resolve_config(style_size=None).style_size is None


def test_default_config_is_the_gatys_preset_and_presets_are_diffs():
    assert PRESETS["gatys"].config == Config()
    for name, preset in PRESETS.items():
        changed = [
            field.name
            for field in dataclasses.fields(Config)
            if getattr(preset.config, field.name)
            != getattr(Config(), field.name)
        ]
        assert (name == "gatys") == (not changed), name


@pytest.mark.parametrize(
    "overrides, error, message",
    [
        (
            {"size": None},
            TypeError,
            r"size to be an integer in \[1, 65536\], not None",
        ),
        ({"size": "32"}, TypeError, "Received: size='32'"),
        ({"size": 2.5}, TypeError, "size to be an integer"),
        ({"size": True}, TypeError, "size to be an integer"),
        ({"style_weight": "1"}, TypeError, "style_weight to be a number"),
        ({"style_weight": float("nan")}, ValueError, "finite"),
        ({"tv_weight": float("inf")}, ValueError, "finite"),
        ({"pooling": None}, TypeError, "pooling to be a string"),
        ({"style_layers": 5}, TypeError, "a sequence of names"),
        ({"style_layers": [5]}, TypeError, "style_layers to be a string"),
        ({"style_layer_weights": [1, "x"] * 2 + [1]}, TypeError, "number"),
        ({"style_blend_weights": [0, 0]}, ValueError, "positive sum"),
    ],
)
def test_wrong_types_name_the_setting(overrides, error, message):
    with pytest.raises(error, match=message):
        resolve_config(**overrides)


def test_values_are_normalised():
    config = resolve_config(
        size=256.0, style_weight=2, style_layers="conv1_1, relu2_1"
    )
    assert type(config.size) is int and config.size == 256
    assert type(config.style_weight) is float
    assert config.style_layers == ("block1_conv1", "block2_conv1")


def test_config_argument_must_be_a_config():
    with pytest.raises(TypeError, match="Received: config=5"):
        resolve_config(5)


def test_every_field_is_declared_with_help_and_a_group():
    from keras_nst.settings import GROUPS

    for field in dataclasses.fields(Config):
        assert field.metadata["help"], field.name
        assert field.metadata["group"] in GROUPS, field.name


def test_paper_layer_names_are_canonicalised():
    config = resolve_config(style_layers=["conv1_1", "relu2_1"])
    assert config.style_layers == ("block1_conv1", "block2_conv1")


def test_new_layers_drop_preset_layer_weights():
    base = dataclasses.replace(
        Config(), style_layer_weights=(1.0, 1.0, 1.0, 1.0, 1.0)
    )
    config = resolve_config(base, style_layers=["conv1_1"])
    assert config.style_layer_weights is None


def test_layer_weights_must_match_layers():
    with pytest.raises(ValueError, match="one style_layer_weights entry"):
        resolve_config(style_layers=["conv1_1"], style_layer_weights=[1, 2])


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"pooling": "mean"}, "Received: pooling='mean'"),
        ({"tv_form": "l3"}, "Received: tv_form='l3'"),
        ({"init": "nowhere.png"}, "Received: init='nowhere.png'"),
        ({"style_weight": -1}, "style_weight to be a number >= 0"),
        ({"learning_rate": 0}, "learning_rate to be a number > 0"),
        ({"size": 0}, r"size to be an integer in \[1, 65536\]"),
        ({"sise": 3}, "did you mean 'size'"),
        ({"content_layers": [], "style_layers": []}, "at least one"),
    ],
)
def test_bad_values_raise_clear_errors(overrides, message):
    with pytest.raises(ValueError, match=message):
        resolve_config(**overrides)


def test_unknown_preset_suggests():
    with pytest.raises(ValueError, match="did you mean 'gatys'"):
        resolve_config("gatis")


def test_to_dict_is_json_ready():
    import json

    data = resolve_config().to_dict()
    assert json.loads(json.dumps(data))["style_layers"][0] == "block1_conv1"


@pytest.mark.parametrize(
    "overrides, match",
    [
        ({"average_decay": 1.0}, "average_decay=1.0"),
        ({"average_decay": -0.1}, "average_decay=-0.1"),
        ({"line_search": "wolfe"}, "line_search='wolfe'"),
    ],
)
def test_bad_average_and_line_search(overrides, match):
    with pytest.raises(ValueError, match=match):
        resolve_config(**overrides)


@pytest.mark.parametrize(
    "name, value, bounds",
    [
        ("size", 99999999999999999999, "[1, 65536]"),
        ("size", 65537, "[1, 65536]"),
        ("size", 1e300, "[1, 65536]"),
        pytest.param("size", 10**5000, "[1, 65536]", id="size-5001-digits"),
        ("style_size", 10**30, "[1, 65536]"),
        ("iterations", 10**30, "[0, 1000000000]"),
        ("scales", 10**9, "[1, 16]"),
        ("lbfgs_history", 10**6, "[1, 1000]"),
        ("seed", 2**80, "[0, 4294967295]"),
        ("seed", -1, "[0, 4294967295]"),
    ],
)
def test_huge_integers_are_out_of_range_not_overflow(name, value, bounds):
    expected = f"Expected {name} to be an integer in {bounds}. "
    with pytest.raises(ValueError) as caught:
        resolve_config(**{name: value})
    message = str(caught.value)
    assert message.startswith(expected + f"Received: {name}=")
    if isinstance(value, float) or abs(value) < 10**30:
        assert message.endswith(f"={value!r}")
    else:  # too long to show, or to print at all past 4300 digits
        assert message.endswith("-digit integer>") and len(message) < 100


def test_the_bounds_themselves_are_allowed():
    config = resolve_config(
        size=65536,
        style_size=65536,
        iterations=10**9,
        scales=16,
        lbfgs_history=1000,
        seed=2**32 - 1,
    )
    assert (config.size, config.seed) == (65536, 4294967295)
    assert resolve_config(seed=0, iterations=0, scales=1).seed == 0


@pytest.mark.parametrize(
    "overrides, received",
    [
        ({"content_weight": 10**400}, "content_weight=<a 401-digit integer>"),
        ({"style_weight": float("1e400")}, "style_weight=inf"),
        ({"tv_weight": -(10**400)}, "tv_weight=-<a 401-digit"),
        ({"learning_rate": float("nan")}, "learning_rate=nan"),
        (
            {"style_layer_weights": [1, 10**400, 1, 1, 1]},
            "style_layer_weights=[1, <a 401",
        ),
        ({"average_decay": float("-inf")}, "average_decay=-inf"),
    ],
)
def test_numbers_beyond_float_are_not_finite(overrides, received):
    with pytest.raises(ValueError, match="to be finite") as caught:
        resolve_config(**overrides)
    assert f"Received: {received}" in str(caught.value)


@pytest.mark.parametrize(
    "args, option",
    [
        (["--size", "99999999999999999999"], "--size"),
        (["--style-size", str(10**30)], "--style-size"),
        (["--iterations", str(10**30)], "--iterations"),
        (["--scales", str(10**9)], "--scales"),
        (["--lbfgs-history", str(10**6)], "--lbfgs-history"),
        (["--seed", str(2**80)], "--seed"),
        (["--seed", "-1"], "--seed"),
    ],
)
def test_huge_integers_are_usage_errors_on_the_command_line(
    args, option, tmp_path
):
    from tests.cli.helpers import invoke

    result = invoke(
        "transfer", "c.png", "s.png", "-o", tmp_path / "o.png", *args
    )
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if "Error" in line]
    assert len(errors) == 1
    assert errors[0].startswith(f"Error: Invalid value for '{option}'")
    assert "is not in the range" in errors[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("value", ["1e400", "inf", "nan"])
def test_non_finite_weights_are_refused_on_the_command_line(value, tmp_path):
    from tests.cli.helpers import invoke

    result = invoke(
        "transfer", "c.png", "s.png", "-o", tmp_path / "o.png",
        "--style-weight", value,
    )  # fmt: skip
    # Click's FloatRange takes inf and NaN; the settings' check refuses them.
    assert result.exit_code in (1, 2), result.output
    error = result.output.strip().splitlines()[-1]
    assert error.startswith("Error:")
    assert "style_weight" in error or "--style-weight" in error
    assert "Traceback" not in result.output
    assert not (tmp_path / "o.png").exists()
