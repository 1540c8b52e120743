"""`keras-nst grid`: a results matrix of the optimisation method."""

import os
import sys

import click

from keras_nst.cli.optimization import checked_config
from keras_nst.cli.optimization import metadata_of
from keras_nst.cli.optimization import preset_option
from keras_nst.cli.options import SectionedCommand
from keras_nst.cli.options import backend_option
from keras_nst.cli.options import default_of
from keras_nst.cli.options import given
from keras_nst.cli.options import option
from keras_nst.cli.options import quiet_option
from keras_nst.cli.options import setting_names
from keras_nst.cli.options import setting_options
from keras_nst.cli.runtime import debugging
from keras_nst.cli.runtime import import_keras
from keras_nst.cli.runtime import one_line_errors
from keras_nst.cli.runtime import set_backend
from keras_nst.cli.runtime import signal_exits
from keras_nst.config import Config
from keras_nst.grid import make_grid


@click.command(cls=SectionedCommand)
@option(
    "-c",
    "--content",
    "contents",
    group="images",
    multiple=True,
    required=True,
    help="Content image; repeat for each row.",
)
@option(
    "-s",
    "--style",
    "styles",
    group="images",
    multiple=True,
    required=True,
    help="Style image; repeat for each column.",
)
@option(
    "--cell-size",
    group="images",
    type=click.IntRange(min=8),
    help="Side of each square cell in pixels. "
    f"[default: {default_of(make_grid, 'cell_size')}]",
)
@option(
    "-o", "--output", group="output", required=True, help="Grid image file."
)
@quiet_option
@preset_option
@backend_option
@setting_options(Config, exclude=("style_blend_weights",))
@click.pass_context
def grid(ctx, contents, styles, output, preset, quiet, backend, **settings):
    """Make a results matrix: styles across, contents down.

    Every content image is painted in every style with the same settings
    (the options of `transfer` apply), as in the results figure of Gatys et
    al. The first row shows the styles and the first column the contents.

    \b
        keras-nst grid -c examples/astronaut.png -c examples/chelsea.png \\
            -s examples/starry_night.jpg -s examples/the_scream.jpg \\
            -o grid.png --size 256 --iterations 200
    """
    set_backend(backend)
    names = setting_names(Config, exclude=("style_blend_weights",))
    with one_line_errors(ctx):
        config = checked_config(
            ctx, preset, names, [output], [*contents, *styles]
        )
    cells = len(contents) * len(styles)

    def report(i, j, image):
        click.echo(
            f"cell {i * len(styles) + j + 1}/{cells} done: "
            f"{os.path.basename(contents[i])} x "
            f"{os.path.basename(styles[j])}",
            err=True,
        )

    with signal_exits(), one_line_errors(ctx):
        import_keras(debugging(ctx))
        from keras_nst.errors import Interrupted
        from keras_nst.image_output import save_image

        try:
            image = make_grid(
                contents,
                styles,
                config,
                on_cell=report,
                # Keras' bar only in a terminal; the cell lines otherwise.
                verbose=0 if quiet or not sys.stdout.isatty() else 1,
                **given(ctx, ["cell_size"]),
            )
        except Interrupted as interrupted:
            click.echo(f"{interrupted} No grid written.", err=True)
            raise
        metadata = metadata_of(config, contents=contents, styles=styles)
        save_image(output, image, metadata=metadata)
    click.echo(f"Wrote {output}")
