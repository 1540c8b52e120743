"""SIGINT and SIGTERM stop a run after a whole step, on every backend."""

import os
import signal
import threading

import keras
import numpy as np
import pytest

from keras_nst.errors import Interrupted
from keras_nst.interrupt import raise_if_requested
from keras_nst.interrupt import requested_signal
from keras_nst.interrupt import stop_signals
from keras_nst.style_transfer import build_model

pytestmark = pytest.mark.usefixtures("default_sigint")

SHALLOW = {
    "weights": None,
    "size": 16,
    "style_layers": ["conv1_1"],
    "content_layers": ["conv1_1"],
}


def test_signals_are_recorded_then_handlers_restored():
    before = signal.getsignal(signal.SIGTERM)
    with stop_signals():
        os.kill(os.getpid(), signal.SIGTERM)
        assert requested_signal() == signal.SIGTERM
        with stop_signals():  # nested: shares the record
            assert requested_signal() == signal.SIGTERM
        with pytest.raises(Interrupted) as caught:
            raise_if_requested()
        assert caught.value.exit_code == 143
    assert requested_signal() is None
    assert signal.getsignal(signal.SIGTERM) == before


def test_a_second_ctrl_c_raises_at_once():
    with stop_signals():
        os.kill(os.getpid(), signal.SIGINT)
        assert requested_signal() == signal.SIGINT
        with pytest.raises(KeyboardInterrupt) as caught:
            os.kill(os.getpid(), signal.SIGINT)
        assert not isinstance(caught.value, Interrupted)


def test_a_users_own_handler_is_kept():
    seen = []
    previous = signal.signal(signal.SIGTERM, lambda *args: seen.append(1))
    try:
        with stop_signals():
            os.kill(os.getpid(), signal.SIGTERM)
            assert requested_signal() is None
        assert seen == [1]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_outside_the_main_thread_nothing_is_installed():
    handlers = []

    def run():
        with stop_signals():
            handlers.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert handlers == [signal.default_int_handler]


class _SignalAt(keras.callbacks.Callback):
    def __init__(self, batch, signum):
        super().__init__()
        self.batch = batch
        self.signum = signum
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if batch == self.batch:
            os.kill(os.getpid(), self.signum)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_optimize_stops_after_the_step_and_raises(rng, signum):
    content = rng.uniform(0, 255, (16, 16, 3)).astype("float32")
    model = build_model(content, content, **SHALLOW)
    spy = _SignalAt(2, signum)
    with pytest.raises(Interrupted) as caught:
        model.optimize(50, callbacks=[spy], verbose=0)
    error = caught.value
    # The step during which the signal came is finished, then fit stops.
    assert error.iteration == spy.steps == 3
    assert error.exit_code == 128 + signum
    np.testing.assert_array_equal(error.image, model.get_image())
    assert requested_signal() is None
    # The handlers are back: the next run is not stopped by the old signal.
    model.optimize(2, verbose=0)


def test_a_stop_request_stops_like_ctrl_c_and_says_so():
    from keras_nst.interrupt import request_stop
    from keras_nst.interrupt import stop_was_requested

    assert not request_stop()  # no run to stop
    with stop_signals():
        assert not stop_was_requested()
        # From another thread, as a web server's would.
        thread = threading.Thread(target=request_stop)
        thread.start()
        thread.join()
        assert requested_signal() == signal.SIGINT
        assert stop_was_requested()
    assert requested_signal() is None and not stop_was_requested()
    with stop_signals():
        os.kill(os.getpid(), signal.SIGTERM)
        request_stop()  # after a real signal: the signal stands
        assert requested_signal() == signal.SIGTERM
        assert not stop_was_requested()


def test_a_stop_request_ends_a_multi_scale_run():
    from keras_nst.interrupt import request_stop

    model = build_model(
        np.full((16, 16, 3), 100.0, "float32"),
        np.full((16, 16, 3), 50.0, "float32"),
        **SHALLOW,
    )

    class _StopAtThree(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 2:
                request_stop()

    with pytest.raises(Interrupted) as caught:
        model.optimize(50, callbacks=[_StopAtThree()], verbose=0)
    assert caught.value.iteration == 3
