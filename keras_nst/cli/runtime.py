"""What every command shares: choosing the backend and one-line errors."""

import contextlib
import importlib.util
import os
import re
import signal
import sys
from collections.abc import Iterator

import click

from keras_nst.errors import KerasNSTError
from keras_nst.startup import configured_backend
from keras_nst.startup import set_speed_switches

BACKENDS = ("tensorflow", "jax", "torch")
"""The Keras backends keras-nst runs on."""
_INSTALL = {
    "tensorflow": "pip install tensorflow",
    "jax": "pip install 'keras-nst[jax]'",
    "torch": "pip install 'keras-nst[torch]'",
}
USER_ERRORS = (KerasNSTError, ValueError, OSError)
"""What the library raises for bad input or a bad environment."""


def set_backend(backend: str | None) -> None:
    """Selects the backend before Keras is imported, and checks it exists.

    Then turns on the backend's speed switches the user has not set
    (`keras_nst.startup`).

    Raises:
        click.UsageError: Keras already runs another backend.
        click.ClickException: the backend is unknown or not installed.
    """
    if backend is not None:
        if "keras" in sys.modules:
            import keras

            if keras.backend.backend() != backend:
                raise click.UsageError(
                    f"--backend {backend}: Keras was already imported with "
                    f"the {keras.backend.backend()} backend."
                )
        os.environ["KERAS_BACKEND"] = backend
    # TensorFlow's C++ info lines (oneDNN, CUDA probing) are noise here.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    name, source = configured_backend()
    if name not in BACKENDS:
        raise click.ClickException(
            f"keras-nst runs on the {', '.join(BACKENDS)} backends; "
            f"{source} asks for {name!r} (choose one with --backend)."
        )
    if importlib.util.find_spec(name) is None:
        raise click.ClickException(
            f"The {name} backend is not installed: {_INSTALL[name]}"
        )
    set_speed_switches(name)


@contextlib.contextmanager
def quiet_stderr(debug: bool = False) -> Iterator[None]:
    """Sends file descriptor 2 to /dev/null inside, unless debugging.

    TensorFlow's C++ log lines, written while it loads, ignore
    TF_CPP_MIN_LOG_LEVEL; Python's own `sys.stderr` cannot catch them.
    """
    if debug:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def import_keras(debug: bool):
    """Imports Keras, quietly unless debugging (`quiet_stderr`)."""
    if "keras" not in sys.modules:
        with quiet_stderr(debug):
            import keras
    import keras

    return keras


def debugging(ctx: click.Context) -> bool:
    """Whether `keras-nst --debug` asked for full tracebacks."""
    root = ctx.find_root().obj
    return bool(root and root.get("debug"))


def first_line(error: BaseException) -> str:
    """An error's message as one line."""
    text = str(error).strip()
    return text.splitlines()[0] if text else repr(error)


_OUT_OF_MEMORY = re.compile(
    r"can't allocate memory|out of memory|RESOURCE_EXHAUSTED|OOM when",
    re.IGNORECASE,
)


def is_out_of_memory(error: BaseException) -> bool:
    """Whether an error is a failed allocation, in any backend's words."""
    if isinstance(error, MemoryError):
        return True
    name = type(error).__name__
    return "ResourceExhausted" in name or bool(
        _OUT_OF_MEMORY.search(str(error))
    )


def out_of_memory_reason(error: BaseException) -> str:
    """The line of an allocation failure that says what failed."""
    for line in str(error).splitlines():
        if _OUT_OF_MEMORY.search(line):
            # Keras wraps messages in bold escape codes.
            return re.sub(r"\x1b\[[0-9;]*m", "", line).strip()
    return type(error).__name__


@contextlib.contextmanager
def one_line_errors(ctx: click.Context) -> Iterator[None]:
    """Turns the library's errors into a one-line message and exit 1."""
    try:
        yield
    except click.ClickException:
        raise
    except USER_ERRORS as error:
        if debugging(ctx):
            raise
        raise click.ClickException(first_line(error)) from None
    except (MemoryError, Exception) as error:
        # The backends' allocation failures (MemoryError, RuntimeError,
        # TensorFlow's ResourceExhaustedError): one line, not a traceback.
        if debugging(ctx) or not is_out_of_memory(error):
            raise
        raise click.ClickException(
            f"Ran out of memory ({out_of_memory_reason(error)}): use a "
            "smaller size, fewer scales or Adam instead of L-BFGS."
        ) from None


@contextlib.contextmanager
def signal_exits() -> Iterator[None]:
    """Runs a command's work with SIGINT and SIGTERM recorded, not fatal.

    The run stops after its step in progress and the command writes what
    it has (`keras_nst.interrupt`); a file being written is finished
    first. The command then exits with `128 + signal`, as a shell reports
    a process killed by it: 130 for Ctrl-C, 143 for SIGTERM. A second
    Ctrl-C exits at once, leaving no partial file.
    """
    from keras_nst.interrupt import requested_signal
    from keras_nst.interrupt import stop_signals
    from keras_nst.interrupt import stop_was_requested

    with stop_signals():
        try:
            yield
        except KeyboardInterrupt as error:
            signum = getattr(error, "signal", signal.SIGINT)
            if not hasattr(error, "signal"):
                click.echo("Interrupted.", err=True)
            raise click.exceptions.Exit(128 + signum) from None
        # A stop button's request is the user's choice, not a signal.
        signum = None if stop_was_requested() else requested_signal()
    if signum is not None:
        # It came after the last step, while the output was written.
        click.echo(f"Stopped by {signal.Signals(signum).name}.", err=True)
        raise click.exceptions.Exit(128 + signum)
