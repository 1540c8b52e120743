"""`keras-nst grid`: a results matrix of the optimisation method."""

import os
import sys

import click

from keras_nst.cli.live import finish_live_view
from keras_nst.cli.live import live_view
from keras_nst.cli.live import loss_weights
from keras_nst.cli.live import web_host_option
from keras_nst.cli.live import web_option
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
from keras_nst.cli.transfer_run import run_schedule
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
@web_option
@web_host_option
@preset_option
@backend_option
@setting_options(Config, exclude=("style_blend_weights",))
@click.pass_context
def grid(
    ctx, contents, styles, output, preset, quiet, web_port, web_host, backend,
    **settings,
):  # fmt: skip
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

    schedule = run_schedule(config) * cells
    settings = {"contents": contents, "styles": styles, **config.to_dict()}
    weights = loss_weights(config)
    with (
        signal_exits(),
        one_line_errors(ctx),
        live_view(web_port, web_host, settings, schedule, weights) as web,
    ):
        import_keras(debugging(ctx))
        from keras_nst.errors import Interrupted
        from keras_nst.image_output import save_image
        from keras_nst.interrupt import stop_was_requested

        callbacks = []
        if web is not None:
            from keras_nst.web.callback import WebProgress

            callbacks.append(WebProgress(web, schedule))
        try:
            image = make_grid(
                contents,
                styles,
                config,
                on_cell=report,
                callbacks=callbacks,
                # Keras' bar only in a terminal; the cell lines otherwise.
                verbose=0 if quiet or not sys.stdout.isatty() else 1,
                **given(ctx, ["cell_size"]),
            )
        except Interrupted as interrupted:
            reason = (
                "Stopped from the live view."
                if stop_was_requested()
                else (str(interrupted))
            )
            click.echo(f"{reason} No grid written.", err=True)
            raise
        metadata = metadata_of(config, contents=contents, styles=styles)
        save_image(output, image, metadata=metadata)
        finish_live_view(web, output)
    click.echo(f"Wrote {output}")
