"""A stopped run goes on from its saved state and ends where it would."""

import json
import os
import signal

import keras
import pytest

from keras_nst.callbacks import JsonlLogger
from keras_nst.callbacks import Snapshot
from keras_nst.errors import Interrupted
from keras_nst.features import build_extractor
from keras_nst.presets import resolve_config
from keras_nst.resume import load_state
from keras_nst.style_transfer import optimize

pytestmark = pytest.mark.usefixtures("default_sigint")

SETTINGS = {
    "weights": None,
    "size": 32,
    "iterations": 8,
    "refine_iterations": 8,
    "scales": 2,
    "style_layers": ["conv1_1", "conv2_1"],
    "content_layers": ["conv2_1"],
    "average_decay": 0.5,
}


class _SignalAt(keras.callbacks.Callback):
    """Sends SIGINT after `step` steps of the run."""

    def __init__(self, step):
        super().__init__()
        self.step = step
        self.seen = 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.step:
            os.kill(os.getpid(), signal.SIGINT)


@pytest.fixture
def images(rng):
    content = rng.uniform(0, 255, (24, 32, 3)).astype("float32")
    style = rng.uniform(0, 255, (32, 32, 3)).astype("float32")
    return content, style


# Stopped in the first scale (Adam) and in the last (L-BFGS).
@pytest.mark.parametrize(("optimizer", "stop_at"), [("adam", 3), ("lbfgs", 11)])
def test_resumed_run_ends_where_the_whole_run_does(
    images, tmp_path, optimizer, stop_at
):
    content, style = images
    config = resolve_config(None, optimizer=optimizer, **SETTINGS)
    # Random VGG19 weights: one extractor for both runs.
    extractor = build_extractor(config)
    run = {"config": config, "extractor": extractor, "verbose": 0}
    whole = optimize(content, style, **run)
    state = str(tmp_path / "run.state.npz")
    log = str(tmp_path / "log.jsonl")
    with pytest.raises(Interrupted) as caught:
        optimize(
            content, style, state=state, callbacks=[
                _SignalAt(stop_at), JsonlLogger(log)
            ], **run,
        )  # fmt: skip
    assert caught.value.iteration == stop_at
    assert load_state(state).done == stop_at
    snapshots = Snapshot(str(tmp_path / "s.png"), 4)
    resumed = optimize(
        content, style, state=state, resume=True,
        callbacks=[JsonlLogger(log), snapshots], **run,
    )  # fmt: skip
    expected = whole.evaluate_losses()["total"]
    got = resumed.evaluate_losses()["total"]
    assert abs(got - expected) <= 1e-4 * abs(expected)
    with open(log) as file:
        steps = [json.loads(line)["step"] for line in file]
    assert steps == list(range(1, 17))  # no step twice, none missing
    # Snapshots count on from the saved step.
    names = [os.path.basename(p) for p in snapshots.saved]
    expected_names = [f"s_{i:04d}.png" for i in (4, 8, 12, 16) if i > stop_at]
    assert names == expected_names


def test_resume_refuses_other_settings(images, tmp_path):
    content, style = images
    state = str(tmp_path / "run.state.npz")
    with pytest.raises(Interrupted):
        optimize(
            content, style, state=state, callbacks=[_SignalAt(1)],
            verbose=0, **SETTINGS,
        )  # fmt: skip
    changed = {**SETTINGS, "iterations": 9}
    with pytest.raises(ValueError, match="iterations=8"):
        optimize(content, style, state=state, resume=True, **changed)


def test_missing_or_bad_state_is_a_clear_error(images, tmp_path):
    content, style = images
    state = tmp_path / "none.state.npz"
    with pytest.raises(FileNotFoundError, match="No saved state"):
        optimize(content, style, state=state, resume=True, **SETTINGS)
    state.write_bytes(b"not a state")
    with pytest.raises(ValueError, match="as a keras-nst run state"):
        load_state(state)
    with pytest.raises(ValueError, match="state file"):
        optimize(content, style, resume=True, **SETTINGS)


def test_state_is_saved_every_n_steps(images, tmp_path):
    content, style = images
    state = tmp_path / "run.state.npz"
    optimize(content, style, state=state, state_every=5, verbose=0, **SETTINGS)
    # 16 steps: saved at 5, 10 and 15; the last one stays.
    assert load_state(state).done == 15
    assert load_state(state).scale == 1
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".keras-nst")]


def test_a_run_resumes_tiled_and_ends_where_the_whole_run_does(
    images, tmp_path
):
    # As a run stopped for memory would: tiles change how much memory a
    # step takes, not where the run goes.
    content, style = images
    config = resolve_config(None, **SETTINGS)
    extractor = build_extractor(config)
    run = {"config": config, "extractor": extractor, "verbose": 0}
    whole = optimize(content, style, **run)
    state = str(tmp_path / "run.state.npz")
    with pytest.raises(Interrupted):
        optimize(content, style, state=state, callbacks=[_SignalAt(11)], **run)
    resumed = optimize(
        content, style, state=state, resume=True, tile_size=8, **run
    )
    assert resumed.tiled is not None
    expected = whole.evaluate_losses()["total"]
    got = resumed.evaluate_losses()["total"]
    assert abs(got - expected) <= 1e-4 * abs(expected)
