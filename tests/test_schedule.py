"""The coarse-to-fine schedule: sizes, steps, style sizes, carried state."""

import gc
import weakref

import keras
import numpy as np
import pytest
from keras import ops

from keras_nst import style_transfer
from keras_nst.callbacks import JsonlLogger
from keras_nst.carry import carry_scale_state
from keras_nst.carry import resize_field
from keras_nst.config import Config
from keras_nst.image_io import resize_image
from keras_nst.presets import resolve_config
from keras_nst.schedule import scale_configs
from keras_nst.schedule import scale_iterations
from keras_nst.schedule import schedule_sizes
from keras_nst.schedule import style_side
from keras_nst.style_transfer import build_model
from keras_nst.style_transfer import optimize

SMALL = {"weights": None, "style_layers": ("conv1_1", "conv2_1")}


def _np(x):
    return ops.convert_to_numpy(x)


def test_the_default_runs_coarse_to_fine_from_256_px():
    assert schedule_sizes(Config()) == [256, 362, 512]
    assert scale_iterations(Config()) == [150, 60, 60]
    # At or below the start size, one scale of `iterations`.
    assert schedule_sizes(resolve_config(size=256)) == [256]
    assert scale_iterations(resolve_config(size=200)) == [150]


def test_schedule_grows_by_sqrt2_from_the_start_size():
    config = resolve_config(start_size=128, iterations=300)
    assert schedule_sizes(config) == [128, 181, 256, 362, 512]
    assert scale_iterations(config) == [300, *[config.refine_iterations] * 4]
    sizes = schedule_sizes(resolve_config(size=2048, start_size=128))
    assert sizes[0] == 128 and sizes[-1] == 2048 and len(sizes) == 9
    ratios = np.array(sizes[1:]) / np.array(sizes[:-1])
    np.testing.assert_allclose(ratios, 2**0.5, rtol=0.01)


def test_the_first_scale_is_never_below_the_start_size():
    # 300 / 128 is 1.66 sqrt(2) steps: the schedule starts at 150, not 106.
    start = {"start_size": 128}
    assert schedule_sizes(resolve_config(size=300, **start)) == [150, 212, 300]
    assert schedule_sizes(resolve_config(size=181, **start)) == [128, 181]


def test_a_start_at_or_above_the_size_is_one_scale_of_iterations():
    config = resolve_config(
        size=256, start_size=256, iterations=7, refine_iterations=3
    )
    assert schedule_sizes(config) == [256]
    assert scale_iterations(config) == [7]
    assert schedule_sizes(resolve_config(size=64, start_size=128)) == [64]


def test_scales_overrides_the_start_size():
    config = resolve_config(size=1024, scales=3, iterations=5, start_size=64)
    assert schedule_sizes(config) == [512, 724, 1024]
    assert scale_iterations(config) == [5, 60, 60]
    # No count for the later scales: every scale takes `iterations`.
    config = resolve_config(
        size=1024, scales=3, iterations=5, refine_iterations=None
    )
    assert scale_iterations(config) == [5, 5, 5]
    assert schedule_sizes(resolve_config(scales=1, start_size=64)) == [512]


def test_scale_configs_are_single_scales_with_their_sizes_and_steps():
    config = resolve_config(
        size=512, style_size=256, start_size=128, iterations=9,
        refine_iterations=100,
    )  # fmt: skip
    configs = scale_configs(config)
    assert [c.size for c in configs] == [128, 181, 256, 362, 512]
    assert [c.style_size for c in configs] == [64, 90, 128, 181, 256]
    assert [c.iterations for c in configs] == [9, 100, 100, 100, 100]
    assert all(schedule_sizes(c) == [c.size] for c in configs)


def test_style_scale_sizes_the_style_with_the_output_at_every_scale():
    config = resolve_config(size=512, style_scale=1.5, start_size=128)
    assert style_side(config) == 768
    configs = scale_configs(config)
    assert [style_side(c) for c in configs] == [192, 272, 384, 543, 768]
    assert style_side(resolve_config(size=100)) == 100
    assert style_side(resolve_config(size=100, style_size=40)) == 40


def test_style_scale_and_style_size_together_are_refused():
    with pytest.raises(ValueError, match="style_size or style_scale"):
        resolve_config(style_size=100, style_scale=0.5)
    with pytest.raises(ValueError, match="style_scale"):
        resolve_config(style_scale=0.0)


def test_style_scale_resizes_the_style_image_in_the_model(rng):
    content = rng.uniform(0, 255, (24, 32, 3)).astype("float32")
    style = rng.uniform(0, 255, (40, 20, 3)).astype("float32")
    keras.utils.set_random_seed(0)  # the same random VGG19 each time
    model = build_model(content, style, size=32, style_scale=0.5, **SMALL)
    # The style's longest side is half the output's: 16 px of its 40.
    gram_source = model.style_targets["block1_conv1"]
    assert tuple(gram_source.shape) == (1, 64, 64)
    keras.utils.set_random_seed(0)
    built = build_model(content, style, size=32, style_size=16, **SMALL)
    np.testing.assert_allclose(
        _np(gram_source), _np(built.style_targets["block1_conv1"]), rtol=1e-5
    )


def test_style_detail_limits_the_style_image_in_the_model(rng):
    content = rng.uniform(0, 255, (24, 32, 3)).astype("float32")
    style = rng.uniform(0, 255, (40, 20, 3)).astype("float32")

    def targets(image, **overrides):
        keras.utils.set_random_seed(0)  # the same random VGG19 each time
        model = build_model(content, image, size=32, **SMALL, **overrides)
        return _np(model.style_targets["block1_conv1"])

    # 32 px of a 40 px image is above half its resolution: the default
    # takes it through 20 px, as if the file had been made at 20 px.
    limited = targets(style)
    np.testing.assert_allclose(
        limited,
        targets(resize_image(style, 20), style_detail=1.0),
        rtol=1e-5,
    )
    assert not np.allclose(limited, targets(style, style_detail=1.0), rtol=1e-2)
    # At or below the limit, style_detail changes nothing.
    np.testing.assert_array_equal(
        targets(style, style_size=16),
        targets(style, style_size=16, style_detail=1.0),
    )


def _compiled(rng, size, **overrides):
    content = rng.uniform(0, 255, (24, 32, 3)).astype("float32")
    return build_model(
        content, content[::-1], size=size, average_decay=0.9, **SMALL,
        **overrides,
    )  # fmt: skip


def test_carry_resizes_adams_moments_and_rescales_them_by_the_pixels(rng):
    small = _compiled(rng, 16)
    small.optimize(3, verbose=0)
    big = build_model(
        rng.uniform(0, 255, (24, 32, 3)).astype("float32"),
        rng.uniform(0, 255, (24, 32, 3)).astype("float32"),
        size=32, start=small.get_image(raw=True), average_decay=0.9, **SMALL,
    )  # fmt: skip
    carry_scale_state(small, big)
    ratio = (12 * 16) / (24 * 32)
    momentum = _np(small.optimizer._momentums[0].value)
    velocity = _np(small.optimizer._velocities[0].value)
    np.testing.assert_allclose(
        _np(big.optimizer._momentums[0].value),
        resize_field(momentum, (24, 32)) * ratio,
        rtol=1e-5, atol=1e-12,
    )  # fmt: skip
    np.testing.assert_allclose(
        _np(big.optimizer._velocities[0].value),
        np.maximum(resize_field(velocity, (24, 32)), 0) * ratio**2,
        rtol=1e-5, atol=1e-15,
    )  # fmt: skip
    assert float(_np(big.optimizer.iterations)) == 3
    assert np.abs(_np(big.optimizer._momentums[0].value)).max() > 0
    # The average keeps its weight, holding the new start image: the
    # output is the start until the first step.
    norm = float(_np(small.average_norm))
    assert float(_np(big.average_norm)) == pytest.approx(norm)
    np.testing.assert_allclose(
        big.get_image(raw=True), _np(big.image.value)[0], rtol=1e-5
    )


def test_carried_state_makes_the_first_step_of_a_scale_continue(rng, tmp_path):
    content = rng.uniform(0, 255, (24, 32, 3)).astype("float32")
    log = tmp_path / "log.jsonl"
    model = optimize(
        content, content[::-1], size=32, start_size=16, iterations=4,
        refine_iterations=2, callbacks=[JsonlLogger(str(log))],
        verbose=0, **SMALL,
    )  # fmt: skip
    # 16, 23 and 32 px: 4 + 2 + 2 steps, and Adam counted all of them.
    assert len(log.read_text().splitlines()) == 8
    assert float(_np(model.optimizer.iterations)) == 8
    assert model.get_image().shape == (24, 32, 3)


def test_each_scale_frees_the_last_ones_model_before_it_builds(
    rng, monkeypatch
):
    # At 4096 px the last scale's model is gigabytes; the callbacks, which
    # keep the model of their last fit, must not keep it alive.
    built, alive = [], []

    def build(*args, **kwargs):
        gc.collect()
        alive.append([ref() is not None for ref in built])
        model = build_model(*args, **kwargs)
        built.append(weakref.ref(model))
        return model

    monkeypatch.setattr(style_transfer, "build_model", build)
    content = rng.uniform(0, 255, (24, 32, 3)).astype("float32")

    class Seen(keras.callbacks.Callback):
        pass

    optimize(
        content, content[::-1], size=32, start_size=16, iterations=1,
        refine_iterations=1, callbacks=[Seen()], verbose=0, **SMALL,
    )  # fmt: skip
    assert alive == [[], [False], [False, False]]
