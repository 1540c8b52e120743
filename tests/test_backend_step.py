"""The step each backend's `train_step` takes: its gradient, then the shared
`ImageStep.apply_step` (non-finite guard, optimiser update, clip)."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_nst.errors import NonFiniteLossError
from keras_nst.inputs import model_inputs
from keras_nst.lbfgs import LBFGS
from keras_nst.model import StyleTransferModel
from keras_nst.presets import resolve_config

SIZE = 16
SMALL = {
    "weights": None,
    "size": SIZE,
    "content_layers": ("conv1_1",),
    "style_layers": ("conv1_1", "conv2_1"),
    # The picture is the iterate itself, which these tests follow.
    "average_decay": 0.0,
    # XLA fuses zero padding into the convolution; a border pad it
    # computes apart, so a compiled gradient differs from the eager one in
    # float rounding (up to 0.2% in a few values on JAX).
    "padding": "zero",
}


class _Recording(StyleTransferModel):
    """Keeps each gradient `train_step` hands to `apply_step`.

    Compile it with `run_eagerly=True`, so the gradient is a value.
    """

    def apply_step(self, losses, gradient):
        self.gradients.append(keras.ops.convert_to_numpy(gradient)[0])
        super().apply_step(losses, gradient)


def _model(rng, cls=StyleTransferModel, **overrides):
    config = resolve_config(**{**SMALL, **overrides})
    content = rng.uniform(0, 255, (SIZE, SIZE, 3)).astype("float32")
    style = rng.uniform(0, 255, (SIZE, SIZE, 3)).astype("float32")
    start = rng.uniform(0, 255, (SIZE, SIZE, 3)).astype("float32")
    model = cls(model_inputs(config, content, style, start), config)
    model.gradients = []
    return model


def _run(model, iterations):
    """The raw image before the run and after each step."""
    images = [model.get_image(raw=True)]

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            images.append(self.model.get_image(raw=True))

    model.optimize(iterations, callbacks=[Record()], verbose=0)
    return images


def test_adam_step_is_numpy_adam_then_clip(rng):
    learning_rate = 40.0
    model = _model(rng, _Recording)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate), run_eagerly=True
    )
    images = _run(model, 3)
    assert len(model.gradients) == 3
    # Adam as Keras writes it (epsilon outside the square root), in
    # float64, from the gradients the steps computed.
    x = images[0].astype("float64")
    m = v = np.zeros_like(x)
    for t, gradient in enumerate(model.gradients, start=1):
        g = gradient.astype("float64")
        m = m + (g - m) * 0.1
        v = v + (g * g - v) * 0.001
        alpha = learning_rate * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        x = np.clip(x - alpha * m / (np.sqrt(v) + 1e-7), 0.0, 255.0)
        np.testing.assert_allclose(images[t], x, rtol=1e-5, atol=1e-3)
    # Steps of 40 grey levels from a uniform start push pixels past both
    # bounds: the clip did something.
    assert 0 < np.isin(images[1], [0.0, 255.0]).mean() < 0.9


def test_gradient_is_that_of_the_total(rng):
    # Only the squared total variation counts: its gradient is known.
    model = _model(
        rng,
        _Recording,
        content_weight=0.0,
        style_weight=0.0,
        tv_weight=1.0,
        tv_reduction="sum",
    )
    model.compile(optimizer=keras.optimizers.Adam(1.0), run_eagerly=True)
    images = _run(model, 1)
    x = images[0].astype("float64")
    expected = np.zeros_like(x)
    down = x[1:] - x[:-1]
    right = x[:, 1:] - x[:, :-1]
    expected[1:] += 2 * down
    expected[:-1] -= 2 * down
    expected[:, 1:] += 2 * right
    expected[:, :-1] -= 2 * right
    np.testing.assert_allclose(model.gradients[0], expected, atol=1e-2)


# How each run compiles its step: eager, traced (tf.function, jax.jit,
# eager on PyTorch) and XLA-compiled, which the TensorFlow backend chooses
# on a CPU without AVX-512 (step_jit_compile).
_MODES = {
    "eager": {"run_eagerly": True},
    "traced": {"run_eagerly": False, "jit_compile": False},
    "xla": {"run_eagerly": False, "jit_compile": True},
}


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs-armijo"])
def test_compiled_step_matches_the_eager_one(rng, optimizer):
    # On JAX the compiled step is the stateless one: apply_step inside a
    # StatelessScope, its new values collected from the scope.
    modes = ["eager", "traced"]
    if keras.backend.backend() != "torch":  # torch.compile: not used
        modes.append("xla")
    states = {}
    for mode in modes:
        keras.utils.set_random_seed(0)  # the same random VGG19 each time
        model = _model(np.random.default_rng(1))
        if optimizer == "adam":
            model.compile(keras.optimizers.Adam(10.0), **_MODES[mode])
        else:
            model.compile(LBFGS(line_search="armijo"), **_MODES[mode])
        assert model.jit_compile == (mode == "xla")
        _run(model, 3)
        states[mode] = [
            keras.ops.convert_to_numpy(v.value)
            for v in [*model.variables, *model.optimizer.variables]
        ]
    for mode in modes[1:]:
        assert int(states[mode][-1].size) > 0
        for eager, compiled in zip(states["eager"], states[mode], strict=True):
            # float32 round-off, compiled or eager, is relative to the
            # largest value in play: a direction with entries near 200
            # carries errors of 1e-3 in its entries near 2.
            scale = float(np.abs(eager).max()) if np.size(eager) else 0.0
            np.testing.assert_allclose(
                compiled, eager, rtol=1e-4, atol=max(1e-3, 1e-5 * scale)
            )
        # The compiled run stepped three times (the iteration counter).
        assert 3 in [int(v) for v in states[mode] if v.shape == ()]


@pytest.mark.parametrize(
    "accelerator, avx512, expected",
    [(False, False, True), (False, True, "auto"), (True, False, "auto"),
     (False, None, "auto")],
)  # fmt: skip
def test_tensorflow_compiles_the_step_with_xla_without_avx512(
    monkeypatch, accelerator, avx512, expected
):
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the TensorFlow backend's choice")
    from keras_nst.backend import tensorflow as tf_backend

    monkeypatch.setattr(tf_backend, "has_accelerator", lambda: accelerator)
    monkeypatch.setattr(tf_backend, "has_avx512", lambda: avx512)
    assert tf_backend.step_jit_compile() == expected


def test_line_search_gets_the_loss_of_each_step(rng):
    model = _model(rng)
    model.compile(optimizer=LBFGS(line_search="armijo"))
    start = model.evaluate_losses()["total"]
    totals = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            totals.append(float(np.asarray(logs["total"])))

    model.optimize(1, callbacks=[Record()], verbose=0)
    loss = float(keras.ops.convert_to_numpy(model.optimizer.loss_variable))
    assert loss == pytest.approx(start, rel=1e-6)
    assert totals == [pytest.approx(start, rel=1e-6)]
    # The first point is accepted: the optimiser's base is it, with it loss.
    base, base_loss = model.optimizer.accepted_point(model.image)
    assert float(keras.ops.convert_to_numpy(base_loss)) == pytest.approx(
        start, rel=1e-6
    )
    assert np.abs(keras.ops.convert_to_numpy(base) - model.image).max() > 0.5


class _NaNGradientFromStep2(StyleTransferModel):
    """The loss, and so the gradient, are NaN from the second step on."""

    def compute_losses(self, image):
        losses = super().compute_losses(image)
        factor = keras.ops.where(self.steps_taken.value >= 1, np.nan, 1.0)
        return {**losses, "total": losses["total"] * factor}


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_nan_loss_holds_the_last_good_image(rng, optimizer):
    model = _model(rng, _NaNGradientFromStep2)
    model.compile(
        optimizer=keras.optimizers.Adam(10.0)
        if optimizer == "adam"
        else LBFGS()
    )
    start = model.get_image(raw=True)
    with pytest.raises(NonFiniteLossError) as caught:
        model.optimize(4, verbose=0)
    # Step 2's loss is the image after step 1's: the last good one is the
    # start, and every later step holds it though its gradient is NaN.
    assert caught.value.iteration == 2
    assert caught.value.last_good == 0
    steps = float(keras.ops.convert_to_numpy(model.steps_taken))
    assert steps >= 2
    np.testing.assert_array_equal(model.get_image(raw=True), start)
    np.testing.assert_array_equal(caught.value.image, start)


@pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="the JAX stateless step"
)
@pytest.mark.parametrize("optimizer", ["adam", "lbfgs-armijo"])
def test_jax_step_matches_stateless_apply(rng, optimizer):
    import jax

    model = _model(rng)
    if optimizer == "adam":
        model.compile(optimizer=keras.optimizers.Adam(10.0))
    else:
        model.compile(optimizer=LBFGS(line_search="armijo"))
    opt = model.optimizer
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    opt_state = [v.value for v in opt.variables]
    metrics = [v.value for v in model.metrics_variables]
    _, (new_trainable, new_non_trainable, new_opt_state, _) = model.train_step(
        (trainable, non_trainable, opt_state, metrics), None
    )

    mapping = list(zip(model.non_trainable_variables, non_trainable))

    def total(image):
        with keras.StatelessScope(state_mapping=mapping):
            return model.compute_losses(image)["total"]

    loss, gradient = jax.value_and_grad(total)(trainable[0])
    if getattr(opt, "needs_loss", False):
        opt_state = [
            loss if v is opt.loss_variable else value
            for v, value in zip(opt.variables, opt_state, strict=True)
        ]
    expected, expected_opt_state = opt.stateless_apply(
        opt_state, [gradient], trainable
    )
    np.testing.assert_allclose(
        new_trainable[0], np.clip(expected[0], 0.0, 255.0), rtol=1e-6
    )
    for got, want in zip(new_opt_state, expected_opt_state, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    index = [v is model.steps_taken for v in model.non_trainable_variables]
    assert float(new_non_trainable[index.index(True)]) == 1.0
    # Stateless: the model's own variables did not move.
    np.testing.assert_array_equal(model.image.value, trainable[0])


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="starts a process of its own; once per suite is enough",
)
def test_an_unknown_backend_is_a_clear_error():
    env = dict(os.environ, KERAS_BACKEND="numpy")
    result = subprocess.run(
        [sys.executable, "-c", "import keras_nst.backend"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode != 0
    assert (
        "RuntimeError: keras-nst runs on the tensorflow, jax, torch "
        "backends. Received: KERAS_BACKEND='numpy'"
    ) in result.stderr


def test_compile_takes_the_backend_s_choice(rng, monkeypatch):
    from keras_nst import model as model_module

    for choice in (True, False):
        monkeypatch.setattr(model_module, "step_jit_compile", lambda: choice)
        model = _model(rng)
        model.compile(keras.optimizers.Adam(1.0))
        assert model.jit_compile is choice
