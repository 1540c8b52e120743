"""The `keras-nst` command line.

A thin layer over the library: each `Config` and `TrainConfig` field is an
option (`keras_nst.cli.options`), only the options the user gave are
passed on, the library checks them, one library call runs. No Keras is
imported before `--backend` has set `KERAS_BACKEND`.
"""

import dataclasses

import click

from keras_nst import __version__
from keras_nst.cli.fast import stylize
from keras_nst.cli.fast import train
from keras_nst.cli.optimization import grid
from keras_nst.cli.optimization import transfer
from keras_nst.cli.vgg_weights import weights
from keras_nst.config import Config
from keras_nst.presets import PRESETS

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="keras-nst")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Neural style transfer (Gatys et al.) on Keras 3.

    Runs on TensorFlow, JAX or PyTorch (--backend or KERAS_BACKEND).
    """
    ctx.obj = {"debug": debug}


@main.command()
def presets() -> None:
    """List the presets and how each differs from the defaults."""
    base = Config()
    for name, preset in PRESETS.items():
        click.echo(f"{name}: {preset.description}")
        for field in dataclasses.fields(Config):
            value = getattr(preset.config, field.name)
            if value != getattr(base, field.name) or preset.config == base:
                click.echo(f"    {field.name} = {value}")


for command in (transfer, grid, train, stylize, weights):
    main.add_command(command)
