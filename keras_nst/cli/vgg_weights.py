"""`keras-nst weights`: get and inspect the VGG19 ImageNet weights."""

import click

from keras_nst.cli.runtime import one_line_errors


@click.group()
def weights() -> None:
    """Get and inspect the VGG19 ImageNet weights."""


@weights.command()
@click.option("--force", is_flag=True, help="Download again even if present.")
@click.pass_context
def fetch(ctx, force: bool) -> None:
    """Download the VGG19 notop weights to where Keras looks (hash-checked)."""
    from keras_nst.weights_fetch import fetch as fetch_weights

    with one_line_errors(ctx):
        path = fetch_weights(
            force=force, log=lambda line: click.echo(line, err=True)
        )
    click.echo(str(path))


@weights.command()
def status() -> None:
    """Say where the VGG19 weights are and whether they are intact.

    Exits 1 when the file is missing or its md5 or sha256 is wrong.
    """
    from keras_nst.weights import status as weights_status

    info = weights_status()
    for key, value in info.items():
        click.echo(f"{key}: {value}")
    if not info["present"]:
        click.echo("Run `keras-nst weights fetch` to download them.")
        raise SystemExit(1)
    if not (info["md5_ok"] and info["sha256_ok"]):
        click.echo(
            "The file is corrupt: run `keras-nst weights fetch --force` to "
            "download it again."
        )
        raise SystemExit(1)
