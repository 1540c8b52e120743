"""`keras-nst train` and `keras-nst stylize`: fast style transfer."""

import contextlib
import dataclasses
import importlib.util
import os
import sys

import click

from keras_nst.choices import MAX_SIDE
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
def train(ctx, style, data, output, epochs, quiet, backend, **settings):
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

        try:
            trainer = train_network(
                style,
                data,
                output,
                config,
                verbose=2 if quiet else 1,
                **given(ctx, _RUN_OPTIONS),
            )
        except Interrupted as interrupted:
            click.echo(
                f"{interrupted} The checkpoint holds step "
                f"{interrupted.iteration}; go on with the same command and "
                "--resume.",
                err=True,
            )
            raise
    history = trainer.history.history if trainer.history else {}
    if history.get("loss"):
        click.echo(f"final loss {history['loss'][-1]:.4g}", err=True)
    click.echo(f"Wrote {output}")


@click.command(cls=SectionedCommand)
@click.argument("model")
@click.argument("images", nargs=-1, required=True)
@option(
    "-o",
    "--output-dir",
    group="output",
    required=True,
    help="Folder for the results.",
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
    help="Images of the same size per forward pass. [default: 1]",
)
@backend_option
@click.pass_context
def stylize(ctx, model, images, output_dir, size, batch_size, backend):
    """Stylise IMAGES with a network from `keras-nst train`, one pass each.

    Writes OUTPUT_DIR/NAME.png for each image NAME.jpg (or .png). Every
    image, the model and the memory are checked first: if one is bad,
    nothing is written.

    \b
        keras-nst stylize starry_night.keras photo.jpg other.png -o out/
    """
    from keras_nst.image_io import load_image
    from keras_nst.image_output import check_distinct_outputs
    from keras_nst.image_output import check_output_path

    set_backend(backend)
    outputs = [
        os.path.join(
            output_dir, os.path.splitext(os.path.basename(path))[0] + ".png"
        )
        for path in images
    ]
    with signal_exits(), one_line_errors(ctx):
        if not os.path.exists(model):
            raise FileNotFoundError(f"Model file not found: '{model}'")
        check_distinct_outputs(outputs, [*images, model])
        arrays = [load_image(path, size) for path in images]
        import_keras(debugging(ctx))
        from keras_nst.fast import load_transform
        from keras_nst.fast import stylize as stylize_images
        from keras_nst.fast.memory import check_stylize_memory
        from keras_nst.image_output import save_image
        from keras_nst.interrupt import raise_if_requested

        network = load_transform(model)
        check_stylize_memory(
            [array.shape for array in arrays],
            batch_size or 1,
            network.filters,
        )
        os.makedirs(output_dir, exist_ok=True)
        for path in outputs:
            check_output_path(path)
        # Every result is made before the first is written.
        results = stylize_images(network, arrays, **given(ctx, ["batch_size"]))
        raise_if_requested()  # stopped while the passes ran: write nothing
        for path, image in zip(outputs, results, strict=True):
            save_image(path, image)
            click.echo(f"Wrote {path}")
