"""`--web`: a command's live view, from start to the written picture."""

import contextlib
import os
import time
from collections.abc import Iterator

import click

from keras_nst.cli.options import option

# After the run, a page that was polling gets this long to fetch the
# result before the server closes.
_RESULT_WAIT = 5.0

web_option = option(
    "--web",
    "web_port",
    group="output",
    type=click.IntRange(0, 65535),
    is_flag=False,
    flag_value=0,
    default=None,
    metavar="[PORT]",
    help="Show the run live in the browser: the picture, the loss curves, "
    "the settings and a stop button, on PORT (alone: a free port). The "
    "address, with its access token, is printed at the start.",
)
web_host_option = option(
    "--web-host",
    group="output",
    default="127.0.0.1",
    show_default=True,
    help="The address the live view listens on; another than 127.0.0.1 "
    "shows the run (and its stop button) to the network.",
)


def start_server(make, host: str, port: int, name: str, subject: str, can: str):
    """`make()`'s server, its address printed as `name: URL`.

    A port that cannot be had is a one-line error about `subject`; an
    address other than this machine's own gets a warning saying who else
    `can` do what.
    """
    from keras_nst.web.server import is_loopback

    try:
        server = make()
    except OSError as error:
        raise click.ClickException(
            f"{subject} cannot listen on {host}:{port}: "
            f"{error.strerror or error}."
        ) from None
    if not is_loopback(host):
        click.echo(
            f"Warning: {subject} listens on {host}: anyone on the network "
            f"with its address can {can}.",
            err=True,
        )
    click.echo(f"{name}: {server.url}", err=True)
    return server


@contextlib.contextmanager
def live_view(
    port: int | None, host: str, settings: dict, schedule, weights
) -> Iterator[object]:
    """Serves a run's `LiveState` while inside; yields it, or `None`.

    The stop button stops the run as Ctrl-C does. On the way out the
    state is marked done (the caller has set the result) or failed, and a
    page still watching gets a moment to fetch the result.
    """
    if port is None:
        yield None
        return
    from keras_nst.interrupt import request_stop
    from keras_nst.web.server import LiveServer
    from keras_nst.web.state import LiveState

    state = LiveState(settings)
    state.describe({}, schedule, weights)
    server = start_server(
        lambda: LiveServer(state, host, port, on_stop=request_stop),
        host,
        port,
        "Live view",
        "The live view",
        "watch and stop the run",
    )
    try:
        yield state
    except BaseException as error:
        state.fail(str(error).splitlines()[0] if str(error) else "Failed.")
        raise
    finally:
        _let_the_page_fetch(server, state)
        server.close()


def finish_live_view(state, output: str, message: str = "") -> None:
    """Hands the written picture to the page."""
    if state is None:
        return
    with open(output, "rb") as file:
        state.finish(file.read(), os.path.basename(output), message)


def _let_the_page_fetch(server, state) -> None:
    watching = server.last_poll is not None and (
        time.monotonic() - server.last_poll < 3.0
    )
    if watching and state.result() is not None:
        state.result_fetched.wait(_RESULT_WAIT)


def loss_weights(config) -> dict[str, float]:
    """Each loss term's weight in a `Config` or `TrainConfig`."""
    return {
        "content": config.content_weight,
        "style": config.style_weight,
        "tv": config.tv_weight,
    }


class _LiveCallbacks(list):
    """`train`'s callbacks for the live view, and how it ends."""

    def __init__(self, state=None):
        super().__init__()
        self.state = state

    def finish(self, output: str) -> None:
        finish_live_view(self.state, output)


@contextlib.contextmanager
def live_training(port, host, config, style, data, sample):
    """`--web` for `train`; yields the callbacks to train with.

    The page shows the losses and, every ten seconds, the network's result
    for `sample` (a photo of the training set unless --sample names one).
    """
    weights = loss_weights(config)
    settings = {"style": style, "data": data, "sample": sample}
    settings.update(config.to_dict())
    schedule = [(config.steps, config.size)]
    with live_view(port, host, settings, schedule, weights) as state:
        callbacks = _LiveCallbacks(state)
        if state is not None:
            from keras import ops

            from keras_nst.image_io import as_batch
            from keras_nst.image_io import load_image
            from keras_nst.web.callback import WebProgress

            photo = as_batch(load_image(sample, config.size))

            def picture(model):
                result = model.transform(photo, training=False)
                return ops.convert_to_numpy(result)[0]

            callbacks.append(
                WebProgress(state, schedule, interval=10.0, picture=picture)
            )
        yield callbacks
