"""`keras-nst train` and `keras-nst stylize`: fast style transfer."""

import contextlib
import dataclasses
import importlib.util
import os
import sys

import click

from keras_nst.choices import MAX_SIDE
from keras_nst.cli.live import live_training
from keras_nst.cli.live import web_host_option
from keras_nst.cli.live import web_option
from keras_nst.cli.options import SectionedCommand
from keras_nst.cli.options import backend_option
from keras_nst.cli.options import given
from keras_nst.cli.options import option
from keras_nst.cli.options import quiet_option
from keras_nst.cli.options import setting_names
from keras_nst.cli.options import setting_options
from keras_nst.cli.runtime import debugging
from keras_nst.cli.runtime import import_keras
from keras_nst.cli.runtime import one_line_errors
from keras_nst.cli.runtime import quiet_stderr
from keras_nst.cli.runtime import set_backend
from keras_nst.cli.runtime import signal_exits
from keras_nst.fast.config import CHECKPOINT_EVERY
from keras_nst.fast.config import SAMPLE_EVERY
from keras_nst.fast.config import STYLIZE_BATCH_SIZE
from keras_nst.fast.config import TEMPORAL_BLEND
from keras_nst.fast.config import TrainConfig
from keras_nst.fast.config import resolve_train_config


def _import_tensorflow(debug: bool) -> None:
    """Imports TensorFlow now, if installed, hiding its C++ log lines.

    Keras imports it on the JAX and PyTorch backends too, when it saves a
    model (each checkpoint); its lines, which ignore TF_CPP_MIN_LOG_LEVEL,
    would then break into the progress bar. The same fd-2 silence as
    `import_keras`, which covers TensorFlow on its own backend.
    """
    if "tensorflow" in sys.modules:
        return
    if importlib.util.find_spec("tensorflow") is None:
        return
    # Keras finds it missing too, and does without.
    with quiet_stderr(debug), contextlib.suppress(ImportError):
        import tensorflow  # noqa: F401


_RUN_OPTIONS = (
    "checkpoint_dir", "checkpoint_every", "sample", "sample_every", "resume",
    "workers", "distribute", "log",
)  # fmt: skip


@click.command(cls=SectionedCommand)
@option("-s", "--style", group="images", required=True, help="Style image.")
@option(
    "--data",
    group="images",
    required=True,
    help="Folder of content images (searched recursively; random crops).",
)
@option(
    "-o",
    "--output",
    group="output",
    required=True,
    help="Where the network goes (.keras).",
)
@option(
    "--epochs",
    group="optimiser",
    type=click.IntRange(min=1),
    help="Passes over the content images, instead of --steps.",
)
@option(
    "--checkpoint-dir",
    group="output",
    help="Where checkpoints and samples go. [default: OUTPUT without .keras "
    "+ _checkpoint]",
)
@option(
    "--checkpoint-every",
    group="output",
    type=click.IntRange(min=1),
    help=f"Steps between checkpoints. [default: {CHECKPOINT_EVERY}]",
)
@option(
    "--sample",
    group="output",
    help="Image stylised into the checkpoint folder as it trains "
    "[default: the first content image].",
)
@option(
    "--sample-every",
    group="output",
    type=click.IntRange(min=1),
    help=f"Steps between samples. [default: {SAMPLE_EVERY}]",
)
@option(
    "--log",
    group="output",
    help="One JSON line per step: step, total, content, style, tv (a "
    "resumed run continues it).",
)
@quiet_option
@web_option
@web_host_option
@option(
    "--resume", group="run", is_flag=True, help="Continue from the checkpoint."
)
@option(
    "--workers",
    group="run",
    type=click.IntRange(min=1),
    help="Data loading threads. [default: 1]",
)
@option(
    "--distribute",
    group="run",
    is_flag=True,
    help="Data-parallel over all devices (JAX, TensorFlow).",
)
@backend_option
@setting_options(TrainConfig)
@click.pass_context
def train(
    ctx, style, data, output, epochs, quiet, web_port, web_host, backend,
    **settings,
):  # fmt: skip
    """Train a fast style transfer network for STYLE on the images in DATA.

    \b
        keras-nst train -s examples/starry_night.jpg --data photos/ \\
            -o starry_night.keras --steps 2000
        keras-nst stylize starry_night.keras photo.jpg -o out/
    """
    set_backend(backend)
    if epochs is not None and "steps" in given(ctx, ["steps"]):
        raise click.UsageError("Give --steps or --epochs, not both.")
    with signal_exits(), one_line_errors(ctx):
        from keras_nst.image_io import load_image
        from keras_nst.weights import resolve_weights

        config = resolve_train_config(**given(ctx, setting_names(TrainConfig)))
        if not output.endswith(".keras"):
            raise ValueError(
                f"Expected the output to end in .keras: '{output}'"
            )
        load_image(style, 8)
        if ctx.params["sample"]:
            load_image(ctx.params["sample"], 8)
        resolve_weights(config.weights)
        import_keras(debugging(ctx))
        _import_tensorflow(debugging(ctx))
        from keras_nst.fast import find_images
        from keras_nst.fast import steps_for
        from keras_nst.fast import train as train_network

        images = find_images(data)
        if epochs is not None:
            steps = steps_for(epochs, len(images), config.batch_size)
            config = dataclasses.replace(config, steps=steps)
        from keras_nst.errors import Interrupted
        from keras_nst.interrupt import stop_was_requested

        sample = ctx.params["sample"] or images[0]
        with live_training(
            web_port, web_host, config, style, data, sample
        ) as callbacks:
            try:
                trainer = train_network(
                    style,
                    data,
                    output,
                    config,
                    verbose=2 if quiet else 1,
                    callbacks=callbacks,
                    **given(ctx, _RUN_OPTIONS),
                )
            except Interrupted as interrupted:
                reason = str(interrupted)
                if stop_was_requested():
                    reason = "Stopped from the live view."
                click.echo(
                    f"{reason} The checkpoint holds step "
                    f"{interrupted.iteration}; go on with the same command "
                    "and --resume.",
                    err=True,
                )
                raise
            callbacks.finish(output)
    history = trainer.history.history if trainer.history else {}
    if history.get("loss"):
        click.echo(f"final loss {history['loss'][-1]:.4g}", err=True)
    click.echo(f"Wrote {output}")


@click.command(cls=SectionedCommand)
@click.argument("model")
@click.argument("inputs", metavar="INPUT...", nargs=-1, required=True)
@option(
    "-o",
    "--output-dir",
    group="output",
    required=True,
    help="Folder for the results; each keeps its input's path below the "
    "inputs' common folder.",
)
@option(
    "--size",
    group="images",
    type=click.IntRange(min=16, max=MAX_SIDE),
    help="Resize so the longest side is SIZE [default: keep].",
)
@option(
    "--batch-size",
    group="run",
    type=click.IntRange(min=1),
    help="Images (or video frames) of the same size per forward pass. "
    f"[default: {STYLIZE_BATCH_SIZE}]",
)
@option(
    "--temporal-blend",
    group="run",
    type=click.FloatRange(0, 1),
    help="Videos: weight of the last output, warped along the optical "
    "flow, in each frame where the flow is reliable (less flicker). "
    f"[default: {TEMPORAL_BLEND:g}]",
)
@option(
    "--distribute",
    group="run",
    is_flag=True,
    help="Split each batch across all devices (JAX, TensorFlow); give a "
    "--batch-size that is a multiple of the device count.",
)
@quiet_option
@backend_option
@click.pass_context
def stylize(ctx, model, inputs, output_dir, size, batch_size, temporal_blend,
            distribute, quiet, backend):  # fmt: skip
    """Stylise images and videos with a network from `keras-nst train`.

    INPUT is a file, a folder (searched recursively) or a quoted glob
    pattern. Images become PNGs, videos (.mp4, .webm, .gif) the same type
    with their frame rate and audio. One batch is in memory at a time and
    each result is written as soon as it is made. An input that cannot be
    read is skipped and named; the others are written, and the exit
    status is 1.

    \b
        keras-nst stylize starry_night.keras photo.jpg photos/ -o out/
        keras-nst stylize starry_night.keras 'clips/*.mp4' -o out/
    """
    from keras_nst.fast.files import plan_outputs
    from keras_nst.image_output import check_distinct_outputs

    set_backend(backend)
    with signal_exits(), one_line_errors(ctx):
        if not os.path.exists(model):
            raise FileNotFoundError(f"Model file not found: '{model}'")
        items = plan_outputs(inputs, output_dir)
        check_distinct_outputs(
            [item.output for item in items],
            [*(item.source for item in items), model],
        )
        import_keras(debugging(ctx))
        from keras_nst.fast.stream import stylize_files

        skipped = 0
        for result in stylize_files(
            model,
            inputs,
            output_dir,
            size=size,
            metadata={"model": model},
            distribute=distribute,
            **given(ctx, ["batch_size", "temporal_blend"]),
        ):
            position = f"[{result.index}/{result.total}]"
            if result.error is not None:
                skipped += 1
                click.echo(
                    f"{position} Skipped {result.item.source}: {result.error}",
                    err=True,
                )
            elif not quiet:
                click.echo(f"{position} Wrote {result.item.output}")
        if skipped:
            raise click.ClickException(
                f"Skipped {skipped} of {len(items)} inputs; the others are "
                "written."
            )
