"""`keras-nst transfer` and `keras-nst grid`: the optimisation method."""

import os

import click

from keras_nst import __version__
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
from keras_nst.config import Config
from keras_nst.grid import make_grid
from keras_nst.presets import DEFAULT_PRESET
from keras_nst.presets import PRESETS
from keras_nst.presets import resolve_config

preset_option = option(
    "--preset",
    group="run",
    type=click.Choice(tuple(PRESETS)),
    default=DEFAULT_PRESET,
    show_default=True,
    help="Named settings (the defaults shown are gatys's); every option "
    "given overrides the preset's value.",
)


def _metadata(keras, config: Config, **inputs) -> dict:
    """What a written PNG records about its run."""
    return {
        **inputs,
        "backend": keras.backend.backend(),
        "keras_nst": __version__,
        **config.to_dict(),
    }


def _checked_config(ctx, preset: str, names, outputs, images) -> Config:
    """The run's `Config`, after checking every input before Keras loads.

    `outputs` are the files the run writes, the image first; none may be an
    input.
    """
    from keras_nst.config import INIT_MODES
    from keras_nst.image_io import check_distinct_outputs
    from keras_nst.image_io import check_output_path
    from keras_nst.image_io import load_image
    from keras_nst.weights import resolve_weights

    config = resolve_config(preset, **given(ctx, names))
    check_output_path(outputs[0])
    start = [] if config.init in INIT_MODES else [config.init]
    check_distinct_outputs(
        [path for path in outputs if path], [*images, *start]
    )
    for path in images:
        load_image(path, 8)
    resolve_weights(config.weights)
    return config


def _one_of(argument, option_value, name: str, flag: str):
    if argument and option_value:
        raise click.UsageError(f"Give {name} or {flag}, not both.")
    if not (argument or option_value):
        raise click.UsageError(f"Missing {name} (or {flag}).")
    return argument or option_value


@click.command(cls=SectionedCommand)
@click.argument("content_arg", metavar="CONTENT", required=False)
@click.argument("style_arg", metavar="STYLE", required=False)
@option("-c", "--content", group="images", help="Content image (or CONTENT).")
@option(
    "-s",
    "--style",
    group="images",
    multiple=True,
    help="Style image (or STYLE); repeat to blend several.",
)
@option(
    "-o",
    "--output",
    "-r",
    "--result",
    "output",
    group="output",
    required=True,
    help="Output image, .png or .jpg.",
)
@option(
    "--save-every",
    group="output",
    type=click.IntRange(min=1),
    help="Save a snapshot every N iterations, as OUTPUT_0100.png etc.",
)
@option(
    "--log",
    "log_path",
    group="output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write one JSON line per step: step, size, total, content, style, tv.",
)
@option(
    "-v",
    "--verbose",
    group="output",
    is_flag=True,
    help="Print the settings and final losses.",
)
@quiet_option
@preset_option
@backend_option
@setting_options(Config)
@click.pass_context
def transfer(
    ctx, content_arg, style_arg, content, style, output, preset, save_every,
    log_path, verbose, quiet, backend, **settings,
):  # fmt: skip
    """Paint CONTENT in the style of STYLE and write the result to OUTPUT.

    \b
        keras-nst transfer astronaut.png starry_night.jpg -o out.png
        keras-nst transfer -c photo.jpg -s painting.jpg -r out.png -v
    """
    content = _one_of(content_arg, content, "CONTENT", "--content")
    style = _one_of(style_arg, style, "STYLE", "--style")
    styles = [style] if isinstance(style, str) else list(style)
    set_backend(backend)
    with one_line_errors(ctx):
        config = _checked_config(
            ctx,
            preset,
            setting_names(Config),
            [output, log_path],
            [content, *styles],
        )
    blend = config.style_blend_weights
    if blend is not None and len(blend) != len(styles):
        raise click.BadParameter(
            f"expected {len(styles)} weights, one per style image",
            param_hint="--style-blend",
        )
    with one_line_errors(ctx):
        keras = import_keras(debugging(ctx))
        metadata = _metadata(
            keras,
            config,
            content=os.path.basename(content),
            style=[os.path.basename(path) for path in styles],
        )
        if verbose:
            click.echo(f"backend: {keras.backend.backend()}", err=True)
            for key, value in config.to_dict().items():
                click.echo(f"{key}: {value}", err=True)
        model = _optimize(
            content, styles, output, config, metadata, save_every, log_path,
            quiet,
        )  # fmt: skip
    if verbose:
        losses = model.evaluate_losses()
        click.echo(
            "final losses: "
            + ", ".join(f"{k} {v:.4g}" for k, v in losses.items()),
            err=True,
        )
    click.echo(f"Wrote {output}")


def _optimize(
    content, styles, output, config, metadata, save_every, log_path, quiet
):
    import keras

    from keras_nst.callbacks import JsonlLogger
    from keras_nst.callbacks import Snapshot
    from keras_nst.errors import NonFiniteLossError
    from keras_nst.image_io import save_image
    from keras_nst.style_transfer import optimize

    callbacks = [keras.callbacks.History()]
    if save_every:
        callbacks.append(Snapshot(output, save_every, metadata))
    if log_path:
        callbacks.append(JsonlLogger(log_path))
    try:
        model = optimize(
            content,
            styles,
            config,
            callbacks=callbacks,
            verbose=0 if quiet else 1,
        )
    except NonFiniteLossError as error:
        if error.last_good is None:
            raise
        metadata["stopped_after_iteration"] = error.last_good
        save_image(output, error.image, metadata=metadata)
        error.args = (f"{error} Wrote that image to {output}.",)
        raise
    save_image(output, model.get_image(), metadata=metadata)
    return model


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
        config = _checked_config(
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

    with one_line_errors(ctx):
        keras = import_keras(debugging(ctx))
        from keras_nst.image_io import save_image

        image = make_grid(
            contents,
            styles,
            config,
            on_cell=report,
            verbose=0 if quiet else 1,
            **given(ctx, ["cell_size"]),
        )
        metadata = _metadata(
            keras,
            config,
            contents=[os.path.basename(p) for p in contents],
            styles=[os.path.basename(p) for p in styles],
        )
        save_image(output, image, metadata=metadata)
    click.echo(f"Wrote {output}")
