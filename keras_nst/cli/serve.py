"""`keras-nst serve`: a local web app that queues runs and shows them live."""

import os
import tempfile

import click

from keras_nst.cli.live import start_server
from keras_nst.cli.live import web_host_option
from keras_nst.cli.options import SectionedCommand
from keras_nst.cli.options import backend_option
from keras_nst.cli.options import option
from keras_nst.cli.runtime import debugging
from keras_nst.cli.runtime import import_keras
from keras_nst.cli.runtime import one_line_errors
from keras_nst.cli.runtime import set_backend
from keras_nst.cli.runtime import signal_exits

# The repository's examples, where the package runs from a checkout.
_EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")
_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


@click.command(cls=SectionedCommand)
@option(
    "--port",
    group="output",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="The port (0: a free one).",
)
@web_host_option
@option(
    "--examples",
    group="images",
    type=click.Path(file_okay=False, exists=True),
    help="A folder of images to offer besides uploads. [default: the "
    "package's examples/, where it runs from a checkout]",
)
@option(
    "--max-size",
    group="images",
    type=click.IntRange(min=16),
    default=1024,
    show_default=True,
    help="The largest size a run may ask for.",
)
@option(
    "--queue",
    "max_waiting",
    group="run",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="How many runs may wait behind the one running.",
)
@option(
    "--weights",
    group="run",
    default="imagenet",
    show_default=True,
    help="VGG19 weights of every run: imagenet, a notop .h5 file, or random "
    "(tests).",
)
@backend_option
@click.pass_context
def serve(
    ctx, port, web_host, examples, max_size, max_waiting, weights, backend
):
    """A local web app: choose images and settings, queue runs, watch them.

    Pick a content and a style image (an example or an upload), a preset,
    a size and a number of iterations; runs go one at a time, the rest
    wait in a queue, and each has a live page and a download. The address,
    with its access token, is printed at the start; Ctrl-C stops the run
    in progress and the server.

    \b
        keras-nst serve
        keras-nst serve --port 9000 --examples ~/Pictures
    """
    set_backend(backend)
    with signal_exits(), one_line_errors(ctx):
        from keras_nst.interrupt import request_stop
        from keras_nst.presets import PRESETS
        from keras_nst.web.serve import JobQueue
        from keras_nst.web.serve import ServeServer

        keras = import_keras(debugging(ctx))
        weights = _weights(weights)
        # Now, not when the first run starts.
        if weights == "imagenet":
            from keras_nst.weights import verify_weights

            verify_weights()
        elif weights is not None and not os.path.isfile(weights):
            raise FileNotFoundError(f"Weights file not found: '{weights}'")
        jobs = JobQueue(max_waiting)
        with tempfile.TemporaryDirectory(prefix="keras-nst-serve-") as scratch:
            server = start_server(
                lambda: ServeServer(
                    jobs,
                    _examples(examples),
                    scratch,
                    tuple(PRESETS),
                    max_size,
                    settings={"backend": keras.backend.backend()},
                    host=web_host,
                    port=port,
                    on_stop=request_stop,
                ),
                web_host,
                port,
                "keras-nst serve",
                "The server",
                "start and stop runs",
            )
            try:
                _run_jobs(jobs, scratch, weights)
            finally:
                server.close()


def _examples(folder: str | None) -> dict[str, str]:
    folder = folder or (_EXAMPLES if os.path.isdir(_EXAMPLES) else None)
    if folder is None:
        return {}
    return {
        name: os.path.join(folder, name)
        for name in sorted(os.listdir(folder))
        if name.lower().endswith(_IMAGE_EXTENSIONS)
        and os.path.isfile(os.path.join(folder, name))
    }


def _weights(value: str) -> str | None:
    from keras_nst.cli.options import RANDOM_WEIGHTS

    return None if value.lower() in RANDOM_WEIGHTS else value


def _run_jobs(jobs, scratch: str, weights: str | None) -> None:
    """Runs the queued jobs one at a time until a signal comes."""
    from keras_nst.interrupt import clear_stop_request
    from keras_nst.interrupt import requested_signal

    while requested_signal() is None:
        job = jobs.next(timeout=0.25)
        if job is not None:
            _run_job(job, scratch, weights)
            clear_stop_request()


def _run_job(job, scratch: str, weights: str | None) -> None:
    from keras_nst.cli.live import loss_weights
    from keras_nst.cli.optimization import metadata_of
    from keras_nst.cli.transfer_run import run_schedule
    from keras_nst.errors import Interrupted
    from keras_nst.errors import KerasNSTError
    from keras_nst.image_output import save_image
    from keras_nst.interrupt import stop_was_requested
    from keras_nst.presets import resolve_config
    from keras_nst.style_transfer import optimize
    from keras_nst.web.callback import WebProgress

    state = job.state
    try:
        config = resolve_config(
            job.preset,
            size=job.size,
            iterations=job.iterations,
            weights=weights,
        )
        schedule = run_schedule(config)
        weights = loss_weights(config)
        state.describe(config.to_dict(), schedule, weights)
        metadata = metadata_of(config, content=job.content, style=[job.style])
        message = ""
        try:
            model = optimize(
                job.content_path, [job.style_path], config,
                callbacks=[WebProgress(state, schedule)], verbose=0,
            )  # fmt: skip
            image = model.get_image()
            metadata["losses"] = model.evaluate_losses()
        except Interrupted as interrupted:
            image = interrupted.image
            metadata["stopped_after_iteration"] = interrupted.iteration
            reason = (
                "Stopped from the page"
                if stop_was_requested()
                else (f"Stopped by the server's {interrupted}")
            )
            message = f"{reason} after iteration {interrupted.iteration}."
        path = os.path.join(scratch, state.result_name)
        save_image(path, image, metadata=metadata)
        with open(path, "rb") as file:
            state.finish(file.read(), state.result_name, message)
    except (KerasNSTError, ValueError, OSError, MemoryError) as error:
        state.fail(str(error).splitlines()[0] if str(error) else "Failed.")
