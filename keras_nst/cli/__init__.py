"""The `keras-nst` command line.

A thin layer over the library: each `Config` and `TrainConfig` field is an
option (`keras_nst.cli.options`), only the options the user gave are
passed on, the library checks them, one library call runs. No Keras is
imported before `--backend` has set `KERAS_BACKEND`.
"""

import dataclasses
import functools
import warnings

import click

from keras_nst import __version__
from keras_nst.cli.export import export
from keras_nst.cli.fast import stylize
from keras_nst.cli.fast import train
from keras_nst.cli.grid import grid
from keras_nst.cli.optimization import transfer
from keras_nst.cli.plot import plot
from keras_nst.cli.serve import serve
from keras_nst.cli.vgg_weights import weights
from keras_nst.cli.video import video
from keras_nst.config import Config
from keras_nst.image_limits import DEFAULT_MAX_IMAGE_PIXELS
from keras_nst.image_limits import get_max_image_pixels
from keras_nst.image_limits import set_max_image_pixels
from keras_nst.presets import PRESETS

__all__ = ["main"]

NO_LIMIT = "none"
"""The `--max-image-pixels` value that turns the limit off."""


class PixelLimit(click.ParamType):
    """A positive number of pixels, or `none` for no limit."""

    name = "pixels"

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool):
            pixels = value
        elif str(value).strip().lower() == NO_LIMIT:
            return NO_LIMIT
        else:
            try:
                pixels = int(str(value))
            except ValueError:
                pixels = 0
        if pixels < 1:
            self.fail(
                f"{value!r} is not a positive number of pixels or "
                f"'{NO_LIMIT}'.",
                param,
                ctx,
            )
        return pixels


def one_line_warning(message, category, filename, lineno, line=None) -> str:
    """`warnings.formatwarning` for the command line: no file or source."""
    return f"Warning: {message}\n"


class OrderedGroup(click.Group):
    """Lists its commands in the order they were added, not by name."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


@click.group(
    cls=OrderedGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="keras-nst")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.option(
    "--max-image-pixels",
    type=PixelLimit(),
    help="Refuse image files with more pixels (width x height) than this, "
    "before decoding them: a guard against decompression bombs. "
    f"'{NO_LIMIT}' turns it off. [default: {DEFAULT_MAX_IMAGE_PIXELS}]",
)
@click.pass_context
def main(
    ctx: click.Context, debug: bool, max_image_pixels: int | str | None
) -> None:
    """Neural style transfer (Gatys et al.) on Keras 3.

    Runs on TensorFlow, JAX or PyTorch (--backend or KERAS_BACKEND).
    """
    ctx.obj = {"debug": debug}
    if max_image_pixels is not None:
        # Restored when the command ends, for callers that run several
        # commands in one process (tests, notebooks).
        restore = functools.partial(
            set_max_image_pixels, get_max_image_pixels()
        )
        ctx.call_on_close(restore)
        set_max_image_pixels(
            None if max_image_pixels == NO_LIMIT else max_image_pixels
        )
    if not debug:
        # The library's warnings are one sentence; the file and source
        # line Python adds would point into keras-nst, not at the user.
        ctx.call_on_close(
            functools.partial(
                setattr, warnings, "formatwarning", warnings.formatwarning
            )
        )
        warnings.formatwarning = one_line_warning


@click.command()
def presets() -> None:
    """List the presets and how each differs from the defaults."""
    base = Config()
    for name, preset in PRESETS.items():
        click.echo(f"{name}: {preset.description}")
        for field in dataclasses.fields(Config):
            value = getattr(preset.config, field.name)
            if value != getattr(base, field.name) or preset.config == base:
                click.echo(f"    {field.name} = {value}")


# The order of `keras-nst --help` and of the docs' command reference.
for command in (
    transfer,
    grid,
    video,
    serve,
    plot,
    presets,
    train,
    stylize,
    export,
    weights,
):
    main.add_command(command)
