"""`keras-nst export`: a trained network as a SavedModel or ONNX file."""

import os

import click

from keras_nst.cli.options import SectionedCommand
from keras_nst.cli.options import backend_option
from keras_nst.cli.options import option
from keras_nst.cli.runtime import debugging
from keras_nst.cli.runtime import import_keras
from keras_nst.cli.runtime import one_line_errors
from keras_nst.cli.runtime import quiet_stderr
from keras_nst.cli.runtime import set_backend
from keras_nst.cli.runtime import signal_exits

# The check image's size where the artifact takes any: odd sides, so the
# padding to a multiple of 4 is exercised.
_CHECK_SIZE = (45, 67)
# The largest difference (of 255) from the network an artifact may show;
# float32 round-off between runtimes stays below 1e-2.
_TOLERANCE = 0.5


@click.command(cls=SectionedCommand)
@click.argument("model")
@option(
    "-o",
    "--output",
    group="output",
    required=True,
    help="The SavedModel folder, or the .onnx file.",
)
@option(
    "--format",
    "format_",
    group="output",
    type=click.Choice(("saved_model", "onnx")),
    default="saved_model",
    show_default=True,
    help="The artifact type.",
)
@option(
    "--height",
    group="images",
    type=click.IntRange(min=1),
    help="Export for this image height only (with --width). [default: any "
    "size, where the backend can]",
)
@option(
    "--width",
    group="images",
    type=click.IntRange(min=1),
    help="Export for this image width only (with --height).",
)
@backend_option
@click.pass_context
def export(ctx, model, output, format_, height, width, backend):
    """Write the network in MODEL (.keras) for serving.

    The artifact maps float32 RGB images in 0..255, shaped (batch, height,
    width, 3), to the stylised images. It is run once on a test image
    and kept only if its output matches the network's.

    \b
        keras-nst export starry_night.keras -o starry_night_savedmodel
        keras-nst export starry_night.keras -o starry.onnx --format onnx
    """
    if (height is None) != (width is None):
        raise click.UsageError("Give --height and --width together.")
    set_backend(backend)
    size = None if height is None else (height, width)
    with signal_exits(), one_line_errors(ctx):
        if not os.path.exists(model):
            raise FileNotFoundError(f"Model file not found: '{model}'")
        import_keras(debugging(ctx))
        import numpy as np
        from keras import ops

        from keras_nst.fast import load_transform
        from keras_nst.fast.export import export_transform
        from keras_nst.fast.export import exported_output

        network = load_transform(model)
        # Converters log to stderr in their own ways (TensorFlow's C++,
        # tf2onnx's logging).
        with quiet_stderr(debugging(ctx)):
            export_transform(network, output, format_, size=size)
            images = np.random.default_rng(0).uniform(
                0, 255, (2, *(size or _CHECK_SIZE), 3)
            )
            difference = float(
                np.max(
                    np.abs(
                        exported_output(output, images)
                        - ops.convert_to_numpy(network(images))
                    )
                )
            )
        if not difference <= _TOLERANCE:
            _remove(output)
            raise click.ClickException(
                f"The exported network's output differs from the network's "
                f"by {difference:.3g} (of 255); not kept."
            )
    shape = "any size" if size is None else f"{height}x{width} images"
    click.echo(
        f"Wrote {output} ({format_}, {shape}; largest difference from the "
        f"network {difference:.1e} of 255)"
    )


def _remove(path: str) -> None:
    import shutil

    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.remove(path)
