"""`keras-nst plot`: loss curves from `--log` files."""

import click

from keras_nst.cli.options import SectionedCommand
from keras_nst.cli.options import option
from keras_nst.cli.runtime import one_line_errors


@click.command(cls=SectionedCommand)
@click.argument("logs", nargs=-1, required=True)
@option(
    "-o",
    "--output",
    group="output",
    required=True,
    help="The figure: .png, .svg or .pdf.",
)
@option(
    "--smooth",
    group="output",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Plot the mean of each N steps (for training's noisy losses).",
)
@option("--title", group="output", help="A title over the panels.")
@click.pass_context
def plot(ctx, logs, output, smooth, title):
    """Plot the loss curves of LOGS (written by transfer or train --log).

    One panel per loss: the weighted total the optimiser minimises and the
    unweighted content, style and total variation terms; one line per log.

    \b
        keras-nst plot run.jsonl -o curves.png
        keras-nst plot adam.jsonl lbfgs.jsonl -o compare.png
        keras-nst plot training.jsonl --smooth 50 -o training.png
    """
    with one_line_errors(ctx):
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise click.ClickException(
                "keras-nst plot needs matplotlib: pip install 'keras-nst[plot]'"
            ) from None
        from keras_nst.plot import plot_losses

        plot_losses(logs, output, smooth=smooth, title=title)
    click.echo(f"Wrote {output}")
