import json
import os

import keras
import numpy as np
import pytest
from PIL import Image

from keras_nst.callbacks import JsonlLogger
from keras_nst.callbacks import Snapshot
from keras_nst.callbacks import StopOnNaN
from keras_nst.color import combine_luminance
from keras_nst.color import match_color_histogram
from keras_nst.color import rgb_to_yiq
from keras_nst.config import Config
from keras_nst.image_io import resize_image
from keras_nst.image_io import resize_style_image
from keras_nst.inputs import model_inputs
from keras_nst.losses import layer_style_loss
from keras_nst.losses import target_gram_scale
from keras_nst.model import NonFiniteLossError
from keras_nst.model import StyleTransferModel
from keras_nst.schedule import scale_sizes
from keras_nst.style_transfer import build_model
from keras_nst.style_transfer import initial_image
from keras_nst.style_transfer import optimize
from keras_nst.style_transfer import transfer

SMALL = {"weights": None, "size": 32, "style_layers": ("conv1_1", "conv2_1")}


@pytest.fixture
def content(rng):
    return rng.uniform(0, 255, (24, 32, 3)).astype("float32")


@pytest.fixture
def style(rng):
    return rng.uniform(0, 255, (40, 20, 3)).astype("float32")


def test_noise_init_is_reproducible_per_seed(content, style):
    a = initial_image("noise", content, style, seed=3)
    b = initial_image("noise", content, style, seed=3)
    c = initial_image("noise", content, style, seed=4)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).mean() > 10
    assert a.shape == content.shape and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 255
    assert a.std() > 50  # uniform in 0..255, not a constant


def test_content_and_style_init(content, style):
    np.testing.assert_array_equal(
        initial_image("content", content, style), content
    )
    start = initial_image("style", content, style)
    assert start.shape == content.shape
    # The style image squeezed to the content's shape keeps its mean.
    assert start.mean() == pytest.approx(style.mean(), rel=0.05)


def test_file_init_is_resized_to_content(tmp_path, content, style):
    path = tmp_path / "start.png"
    Image.fromarray(np.full((10, 12, 3), 77, np.uint8)).save(path)
    start = initial_image(str(path), content, style)
    assert start.shape == content.shape
    np.testing.assert_allclose(start, 77.0, atol=1e-3)


def test_build_model_resizes_and_starts_from_init(content, style):
    model = build_model(content, style, init="noise", seed=1, **SMALL)
    image = model.get_image()
    assert image.shape == (24, 32, 3)
    expected = initial_image("noise", content, style, seed=1)
    np.testing.assert_allclose(image, expected, atol=1e-4)


def test_transfer_returns_changed_image_in_range(content, style):
    image = transfer(content, style, iterations=5, **SMALL)
    assert image.shape == (24, 32, 3)
    assert image.dtype == np.float32
    assert image.min() >= 0.0 and image.max() <= 255.0
    assert np.abs(image - content).mean() > 0.5


def test_callbacks_write_snapshots_and_log(tmp_path, content, style):
    snapshots = Snapshot(str(tmp_path / "new" / "s_{iteration:03d}.png"), 2)
    log = tmp_path / "log.jsonl"
    transfer(
        content,
        style,
        iterations=5,
        callbacks=[snapshots, JsonlLogger(str(log))],
        verbose=0,
        **SMALL,
    )
    assert snapshots.saved == [
        str(tmp_path / "new" / "s_002.png"),
        str(tmp_path / "new" / "s_004.png"),
    ]
    for path in snapshots.saved:
        with Image.open(path) as picture:
            assert picture.size == (32, 24)
    assert len(log.read_text().splitlines()) == 5


def test_overflowing_weights_raise_and_keep_the_initial_image(content, style):
    model = build_model(content, style, style_weight=1e39, **SMALL)
    start = model.get_image()
    with pytest.raises(NonFiniteLossError, match="from the first iteration"):
        model.optimize(3, verbose=0)
    np.testing.assert_array_equal(model.get_image(), start)


class _NaNFromStep(StyleTransferModel):
    """A model whose loss turns NaN from a given step on, as a diverging
    run's does."""

    nan_from = 3

    def compute_losses(self, image):
        losses = super().compute_losses(image)
        broken = keras.ops.where(
            self.steps_taken.value + 1.0 >= self.nan_from, float("nan"), 0.0
        )
        return {**losses, "total": losses["total"] + broken}


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_nan_mid_run_keeps_the_last_finite_image(content, style, optimizer):
    # The plain iterate: the image the guard keeps is the picture.
    model = build_model(
        content, style, optimizer=optimizer, average_decay=0.0, **SMALL
    )
    guarded = _NaNFromStep(
        model_inputs(model.config, content, style),
        model.config,
        extractor=model.extractor,
    )
    guarded.compile(optimizer=model.optimizer.__class__())
    images = [guarded.get_image()]

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            images.append(self.model.get_image())

    with pytest.raises(NonFiniteLossError) as caught:
        guarded.optimize(
            50, callbacks=[Record(), StopOnNaN(interval=0.0)], verbose=0
        )
    assert len(images) == 1 + 3  # stopped right after step 3
    # Step 3's loss is that of the image after 2 steps: the last finite
    # loss was step 2's, of the image after 1 step.
    assert caught.value.iteration == 3
    assert caught.value.last_good == 1
    assert "reset to iteration 1" in str(caught.value)
    np.testing.assert_array_equal(guarded.get_image(), images[1])
    np.testing.assert_array_equal(caught.value.image, images[1])
    assert np.isfinite(guarded.get_image()).all()


def test_cli_reports_nan_in_one_line(tmp_path, content, style):
    from click.testing import CliRunner

    from keras_nst import cli

    paths = []
    for name, array in (("c.png", content), ("s.png", style)):
        Image.fromarray(array.astype(np.uint8)).save(tmp_path / name)
        paths.append(str(tmp_path / name))
    out = tmp_path / "out.png"
    result = CliRunner().invoke(
        cli.main,
        [
            "transfer", *paths, "-o", str(out), "--weights", "random",
            "--size", "32", "--iterations", "2", "--style-weight", "1e39",
            "-q",
        ],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "NaN or infinite" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_preserve_color_luminance_keeps_content_chroma(content, style):
    model = build_model(content, style, preserve_color="luminance", **SMALL)
    start = model.get_image(raw=True)
    # The run starts from (and VGG compares against) luminance only.
    np.testing.assert_allclose(start[..., 0], start[..., 1], atol=1e-3)
    np.testing.assert_allclose(start[..., 0], start[..., 2], atol=1e-3)
    model.optimize(3, verbose=0)
    raw = model.get_image(raw=True)
    picture = model.get_image()
    np.testing.assert_allclose(
        picture, combine_luminance(raw, content), atol=1e-3
    )
    # Where nothing clipped, the picture has the content's I and Q.
    inside = np.all((picture > 1) & (picture < 254), axis=-1)
    assert inside.mean() > 0.5
    np.testing.assert_allclose(
        rgb_to_yiq(picture)[inside][:, 1:],
        rgb_to_yiq(content)[inside][:, 1:],
        atol=1e-2,
    )


def test_preserve_color_histogram_recolours_style_targets(content, style):
    def build(*args, **kwargs):
        keras.utils.set_random_seed(0)  # the same random VGG19 each time
        return build_model(*args, **kwargs, **SMALL)

    plain = build(content, style)
    recoloured = build(content, style, preserve_color="histogram")
    # The model recolours the style after resizing it to the run's size.
    resized = resize_style_image(style, SMALL["size"], Config().style_detail)
    # Already at its size and detail: taken as it is.
    expected = build(
        content, match_color_histogram(resized, content), style_detail=1.0
    )
    name = "block1_conv1"
    got = keras.ops.convert_to_numpy(recoloured.style_targets[name])
    np.testing.assert_allclose(
        got,
        keras.ops.convert_to_numpy(expected.style_targets[name]),
        rtol=1e-4,
    )
    assert not np.allclose(
        got, keras.ops.convert_to_numpy(plain.style_targets[name]), rtol=1e-2
    )
    np.testing.assert_array_equal(
        recoloured.get_image(), recoloured.get_image(raw=True)
    )


def test_style_normalization_target_makes_layers_relative_errors(
    content, style
):
    model = build_model(
        content, style, style_normalization="target", init="noise", **SMALL
    )
    losses = model.style_layer_losses()
    features = model.extractor(model.get_image()[None])
    for name, value in losses.items():
        # w_l = 1/2 for two layers, times the relative Gram error.
        f = keras.ops.convert_to_numpy(features[name])[0].astype("float64")
        gram = np.einsum("hwi,hwj->ij", f, f) / (f.shape[0] * f.shape[1])
        target = keras.ops.convert_to_numpy(model.style_targets[name])[0]
        relative = np.sum((gram - target) ** 2) / np.sum(target**2)
        assert value == pytest.approx(0.5 * relative, rel=1e-4)
    total = model.evaluate_losses()["style"]
    assert total == pytest.approx(sum(losses.values()), rel=1e-4)
    for name in model.style_targets:
        target = model.style_targets[name].value
        e0 = layer_style_loss(keras.ops.zeros_like(target), target)
        e0 = float(keras.ops.convert_to_numpy(e0))
        assert e0 * target_gram_scale(target) == pytest.approx(1.0, rel=1e-4)


def test_scale_sizes():
    assert scale_sizes(1024, 3) == [512, 724, 1024]
    assert scale_sizes(256, 1) == [256]


def test_multiscale_runs_every_scale_and_numbers_across(tmp_path, content):
    style = content[::-1]
    snapshots = Snapshot(str(tmp_path / "s_{iteration}.png"), 3)
    log = tmp_path / "log.jsonl"
    model = optimize(
        content,
        style,
        scales=2,
        iterations=3,
        refine_iterations=3,
        callbacks=[snapshots, JsonlLogger(str(log))],
        verbose=0,
        **SMALL,
    )
    # size 32 over two scales: 23 px (longest side) then 32 px.
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5, 6]
    assert [r["size"] for r in records] == [[17, 23]] * 3 + [[24, 32]] * 3
    assert [os.path.basename(p) for p in snapshots.saved] == [
        "s_3.png",
        "s_6.png",
    ]
    with Image.open(snapshots.saved[0]) as first:
        assert first.size == (23, 17)
    assert model.get_image().shape == (24, 32, 3)


def test_multiscale_starts_each_scale_from_the_last_result(content, style):
    one = optimize(
        content, style, scales=2, iterations=0, refine_iterations=0,
        **SMALL,
    )  # fmt: skip
    # Zero steps: the final image is the content itself, passed through a
    # downscale to 23 px and back up: smooth, not identical.
    image = one.get_image()
    expected = resize_image(resize_image(content, 23), content.shape[:2])
    np.testing.assert_array_equal(image, expected)
    assert np.abs(image - content).mean() > 10


def test_style_blend_targets_are_weighted_gram_sums(content, style):
    def build(styles, **kwargs):
        keras.utils.set_random_seed(0)  # the same random VGG19 each time
        return build_model(content, styles, **kwargs, **SMALL)

    other = content[:, ::-1] * 0.5
    blended = build([style, other], style_blend_weights=(3.0, 1.0))
    first = build(style)
    second = build(other)
    for name in blended.style_targets:
        got = keras.ops.convert_to_numpy(blended.style_targets[name].value)
        a = keras.ops.convert_to_numpy(first.style_targets[name].value)
        b = keras.ops.convert_to_numpy(second.style_targets[name].value)
        np.testing.assert_allclose(got, 0.75 * a + 0.25 * b, rtol=1e-4)


def test_style_blend_needs_one_weight_per_style(content, style):
    with pytest.raises(ValueError, match="one style blend weight per style"):
        build_model(content, [style], style_blend_weights=(1.0, 2.0), **SMALL)


def test_a_zero_to_one_array_warns_and_nan_pixels_raise(rng):
    content = rng.uniform(0, 1, (16, 16, 3)).astype("float32")
    settings = {"weights": None, "size": 16, "style_layers": ["conv1_1"]}
    settings["content_layers"] = ["conv1_1"]
    with pytest.warns(UserWarning, match="content looks like a 0..1 image"):
        build_model(content, content * 255, **settings)
    style = content * 255
    style[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="style"):
        build_model(content * 255, style, **settings)
