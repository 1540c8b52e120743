"""One `keras-nst transfer` run: its callbacks and what it writes.

However the run ends (finished, stopped by a signal or from the live
view, or failed), the picture so far is written or nothing is.
"""

import os
import sys
import time

import click

from keras_nst.cli.live import finish_live_view
from keras_nst.cli.runtime import USER_ERRORS
from keras_nst.config import Config


def run_schedule(config: Config) -> list[tuple[int, int]]:
    """The run's scales as `(steps, longest side)` pairs."""
    from keras_nst.schedule import scale_iterations
    from keras_nst.schedule import schedule_sizes

    return list(
        zip(scale_iterations(config), schedule_sizes(config), strict=True)
    )


class TransferRun:
    """One `transfer`: its callbacks, and what it writes however it ends."""

    def __init__(self, output, state, save_every, log_path, resume, quiet):
        self.output = output
        self.state = state
        self.save_every = save_every
        self.log_path = log_path
        self.resume = resume
        self.quiet = quiet
        self.web = None  # the live view's LiveState, with --web

    def callbacks(self, config, metadata) -> list:
        import keras

        from keras_nst.callbacks import JsonlLogger
        from keras_nst.callbacks import Snapshot
        from keras_nst.progress import ProgressLine

        callbacks = [keras.callbacks.History()]
        if self.save_every:
            callbacks.append(Snapshot(self.output, self.save_every, metadata))
        if self.log_path:
            callbacks.append(JsonlLogger(self.log_path))
        if self.web is not None:
            from keras_nst.web.callback import WebProgress

            callbacks.append(WebProgress(self.web, run_schedule(config)))
        if self.quiet:
            return callbacks
        # A terminal gets one line redrawn in place; a log or a pipe whole
        # lines, less often.
        terminal = sys.stderr.isatty()
        progress = ProgressLine(
            sys.stderr,
            run_schedule(config),
            terminal,
            0.25 if terminal else 10.0,
        )
        return [*callbacks, progress]

    def _remove_log(self, new_log: bool) -> None:
        # A run that failed before its first picture leaves nothing.
        if new_log and os.path.exists(self.log_path):
            os.remove(self.log_path)

    def optimize(self, content, styles, config, metadata) -> dict:
        """Runs, writes the picture, and returns its final losses."""
        from keras_nst.errors import Interrupted
        from keras_nst.errors import NonFiniteLossError
        from keras_nst.image_output import save_image
        from keras_nst.style_transfer import optimize

        callbacks = self.callbacks(config, metadata)
        began = time.monotonic()
        new_log = self.log_path and not os.path.exists(self.log_path)
        try:
            model = optimize(
                content,
                styles,
                config,
                callbacks=callbacks,
                verbose=0,
                state=self.state,
                state_every=self.save_every,
                resume=self.resume,
            )
        except NonFiniteLossError as error:
            if error.last_good is None:
                self._remove_log(new_log)
                raise
            metadata["stopped_after_iteration"] = error.last_good
            save_image(self.output, error.image, metadata=metadata)
            error.args = (f"{error} Wrote that image to {self.output}.",)
            raise
        except Interrupted as interrupted:
            metadata["stopped_after_iteration"] = interrupted.iteration
            save_image(self.output, interrupted.image, metadata=metadata)
            from keras_nst.interrupt import stop_was_requested

            from_page = stop_was_requested()
            reason = (
                "Stopped from the live view."
                if from_page
                else (str(interrupted))
            )
            message = (
                f"{reason} Wrote the picture after iteration "
                f"{interrupted.iteration} to {self.output}; go on with "
                "the same command and --resume."
            )
            finish_live_view(self.web, self.output, message)
            click.echo(message, err=True)
            if from_page:
                return {}  # what the user asked for: not a failure
            raise
        except USER_ERRORS:
            self._remove_log(new_log)
            raise
        losses = model.evaluate_losses()
        metadata["losses"] = losses
        metadata["run_seconds"] = round(time.monotonic() - began, 3)
        save_image(self.output, model.get_image(), metadata=metadata)
        if os.path.exists(self.state):
            os.remove(self.state)  # the run is whole: nothing to resume
        finish_live_view(self.web, self.output)
        return losses
