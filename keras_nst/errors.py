"""The errors keras-nst raises for its own reasons.

Every one derives from `KerasNSTError`, so a caller can catch the
package's errors apart from Python's and the backends'. Bad arguments
raise `ValueError` or `TypeError` as in Keras; missing files `OSError`.
Nothing here imports Keras.
"""

__all__ = [
    "ImageTooLargeError",
    "InsufficientMemoryError",
    "Interrupted",
    "KerasNSTError",
    "MissingExtraError",
    "NonFiniteLossError",
    "WeightsError",
]


class KerasNSTError(Exception):
    """The base class of the errors keras-nst raises."""


class WeightsError(KerasNSTError, RuntimeError):
    """The VGG19 weights are missing, corrupt or could not be fetched."""


class MissingExtraError(KerasNSTError, ImportError):
    """A capability needs an optional extra that is not installed.

    The message names the `pip install` that adds it.
    """


class ImageTooLargeError(KerasNSTError, ValueError):
    """An image file has more pixels than the limit allows.

    A guard against decompression bombs: files whose header claims a
    picture far larger than the file. The limit can be raised.
    """


class InsufficientMemoryError(KerasNSTError, MemoryError):
    """A run would need more memory than the machine has available."""


class Interrupted(KeyboardInterrupt):
    """A run stopped on SIGINT (Ctrl-C) or SIGTERM after a whole step.

    A `KeyboardInterrupt`, so code that handles Ctrl-C keeps working.

    Attributes:
        signal (int): the signal's number.
        exit_code (int): `128 + signal`, what a shell reports for it
            (130 for SIGINT, 143 for SIGTERM).
        iteration (int | None): the iterations completed, counted across
            the scales of a run; set by the code that stopped.
        image (np.ndarray | None): the last completed image, as
            `get_image()` returns it; set likewise.
    """

    def __init__(self, signum: int):
        import signal

        self.signal = signum
        self.exit_code = 128 + signum
        self.iteration = None
        self.image = None
        super().__init__(f"Stopped by {signal.Signals(signum).name}.")


class NonFiniteLossError(KerasNSTError, FloatingPointError):
    """A loss became NaN or infinite; the run stopped.

    Attributes:
        iteration (int): the 1-based iteration whose loss was not finite.
        last_good (int | None): the iteration of the image the model was
            reset to (0 for the initial image), or `None` if no loss was
            ever finite.
        image (np.ndarray | None): that image, as `get_image()` returns
            it; set by the model before the error is raised.
    """

    def __init__(self, iteration: int, last_good: int | None):
        self.iteration = iteration
        self.last_good = last_good
        self.image = None
        if last_good is None:
            where = (
                "from the first iteration: the loss weights are probably so "
                "large that float32 overflows (lower the style, content or "
                "total variation weight)"
            )
        else:
            where = (
                f"at iteration {iteration}; the image was reset to iteration "
                f"{last_good}. Likely causes: a learning rate too high or "
                "loss weights too large"
            )
        super().__init__(f"The loss became NaN or infinite {where}.")
