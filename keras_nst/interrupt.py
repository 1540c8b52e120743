"""Stopping a run cleanly on Ctrl-C (SIGINT) or SIGTERM.

A signal that arrives during a run is recorded, not raised: the run stops
after the step in progress (`keras_nst.callbacks.StopOnSignal`), so the
last completed image is whole, the callbacks' files are closed, and no
file is left half written. `StyleTransferModel.optimize` then raises
`Interrupted`. A second Ctrl-C while the first is being handled raises
`KeyboardInterrupt` at once, for a run that no longer answers.

This is also what makes Ctrl-C work on JAX, where a `KeyboardInterrupt`
raised between two steps of `fit` does not reach the caller. Nothing here
imports Keras.
"""

import contextlib
import signal
import threading
from collections.abc import Iterator

from keras_nst.errors import Interrupted

__all__ = [
    "Interrupted",
    "raise_if_requested",
    "clear_stop_request",
    "request_stop",
    "stop_was_requested",
    "requested_signal",
    "stop_signals",
]

SIGNALS = (signal.SIGINT, signal.SIGTERM)
_state = {"depth": 0, "signal": None, "by_request": False}


def requested_signal() -> int | None:
    """The first signal received inside `stop_signals`, or `None`."""
    return _state["signal"]


def _record(signum, frame):
    if _state["signal"] is not None and signum == signal.SIGINT:
        raise KeyboardInterrupt
    if _state["signal"] is None:
        _state["signal"] = signum


def _installable(signum: int) -> bool:
    # Only replace the default handlers: a program (or notebook) that
    # installed its own keeps it.
    return signal.getsignal(signum) in (
        signal.default_int_handler,
        signal.SIG_DFL,
        _record,
    )


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """Records SIGINT and SIGTERM instead of acting on them, while inside.

    Re-entrant: an inner use shares the outer one's record. The handlers
    are installed only from the main thread (Python delivers signals
    there) and only where the default ones are in place; the previous
    handlers come back on exit, and the record is cleared when the
    outermost use ends.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    if _state["depth"] == 0:
        _state["signal"] = None
        _state["by_request"] = False
        for signum in SIGNALS:
            if _installable(signum):
                previous[signum] = signal.signal(signum, _record)
    _state["depth"] += 1
    try:
        yield
    finally:
        _state["depth"] -= 1
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if _state["depth"] == 0:
            _state["signal"] = None
            _state["by_request"] = False


def request_stop() -> bool:
    """Stops the run inside `stop_signals` after its step, as Ctrl-C does.

    For a stop button: callable from any thread. The run ends the way a
    SIGINT ends it (`Interrupted`, the picture kept); the caller knows
    that it asked.

    Returns:
        `False` where no run is inside `stop_signals`.
    """
    if _state["depth"] == 0:
        return False
    if _state["signal"] is None:
        _state["by_request"] = True
        _state["signal"] = signal.SIGINT
    return True


def stop_was_requested() -> bool:
    """Whether the recorded stop came from `request_stop`, not a signal."""
    return _state["signal"] is not None and _state["by_request"]


def clear_stop_request() -> None:
    """Forgets a `request_stop` once its run has stopped; signals stay."""
    if _state["by_request"]:
        _state["signal"] = None
        _state["by_request"] = False


def raise_if_requested() -> None:
    """Raises `Interrupted` if a signal was recorded."""
    signum = requested_signal()
    if signum is not None:
        raise Interrupted(signum)
