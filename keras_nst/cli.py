"""The `keras-nst` command line.

A thin layer over the library: options default to `None` ("take the
preset's value"), `resolve_config` checks them, one `transfer` call runs.
No Keras is imported before `--backend` has set `KERAS_BACKEND`.
"""

import dataclasses
import os
import sys

import click

from keras_nst import __version__
from keras_nst.config import COLOR_MODES
from keras_nst.config import CONTENT_LOSS_FORMS
from keras_nst.config import DEFAULT_PRESET
from keras_nst.config import INIT_MODES
from keras_nst.config import LINE_SEARCHES
from keras_nst.config import OPTIMIZERS
from keras_nst.config import POOLING_MODES
from keras_nst.config import PRECISIONS
from keras_nst.config import PRESETS
from keras_nst.config import STYLE_NORMALIZATIONS
from keras_nst.config import TV_FORMS
from keras_nst.config import Config
from keras_nst.config import TrainConfig
from keras_nst.config import resolve_config

BACKENDS = ("tensorflow", "jax", "torch")
_LIBRARY_ERRORS = (ValueError, OSError, RuntimeError, MemoryError)


def _preset_default(field: str) -> str:
    value = getattr(PRESETS[DEFAULT_PRESET].config, field)
    if isinstance(value, tuple):
        value = ",".join(str(v) for v in value)
    return f"{value} ({DEFAULT_PRESET} preset)"


def _field_help(field: str, text: str) -> str:
    return f"{text} [default: {_preset_default(field)}]"


def _split(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _floats(ctx, param, value: str | None) -> tuple[float, ...] | None:
    parts = _split(value)
    if parts is None:
        return None
    try:
        return tuple(float(part) for part in parts)
    except ValueError:
        raise click.BadParameter(
            f"expected comma-separated numbers, got {value!r}"
        ) from None


_preset_option = click.option(
    "--preset",
    type=click.Choice(tuple(PRESETS)),
    default=DEFAULT_PRESET,
    show_default=True,
    help="Named settings; every other option overrides it.",
)


def _metadata(keras, config: Config, **inputs) -> dict:
    """What a written PNG records about its run."""
    return {
        **inputs,
        "backend": keras.backend.backend(),
        "keras_nst": __version__,
        **config.to_dict(),
    }


def _set_backend(backend: str | None) -> None:
    if backend is not None:
        if "keras" in sys.modules:
            import keras

            if keras.backend.backend() != backend:
                raise click.UsageError(
                    f"--backend {backend}: Keras was already imported with "
                    f"the {keras.backend.backend()} backend."
                )
        os.environ["KERAS_BACKEND"] = backend
    # TensorFlow's C++ info lines (oneDNN, CUDA probing) are noise here.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _import_keras(debug: bool):
    """Imports Keras, quietly unless debugging.

    Hides the C++ log lines TensorFlow writes to stderr while loading,
    which ignore TF_CPP_MIN_LOG_LEVEL.
    """
    if debug or "keras" in sys.modules:
        import keras

        return keras
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            try:
                import keras
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)
    return keras


_backend_option = click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    help="Keras backend. [default: $KERAS_BACKEND, else tensorflow]",
)
_weights_option = click.option(
    "--weights",
    help="VGG19 weights: imagenet, a path to a notop .h5 file, or random "
    "(for tests only). [default: imagenet]",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="keras-nst")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Neural style transfer (Gatys et al.) on Keras 3.

    Runs on TensorFlow, JAX or PyTorch (--backend or KERAS_BACKEND).
    """
    ctx.obj = {"debug": debug}


def _debug(ctx: click.Context) -> bool:
    return bool(ctx.find_root().obj and ctx.find_root().obj.get("debug"))


def _fail(ctx: click.Context, error: Exception):
    if _debug(ctx):
        raise error
    message = str(error).splitlines()[0] if str(error) else repr(error)
    raise click.ClickException(message) from None


@main.command()
@click.argument("content_arg", metavar="CONTENT", required=False)
@click.argument("style_arg", metavar="STYLE", required=False)
@click.option("-c", "--content", help="Content image (instead of CONTENT).")
@click.option(
    "-s",
    "--style",
    multiple=True,
    help="Style image (instead of STYLE); repeat to blend several.",
)
@click.option(
    "--style-blend",
    "style_blend_weights",
    callback=_floats,
    help="Comma-separated, one weight per --style image [default: equal].",
)
@click.option(
    "-o",
    "--output",
    "-r",
    "--result",
    "output",
    required=True,
    help="Output image, .png or .jpg.",
)
@_preset_option
@click.option(
    "--size",
    type=click.IntRange(min=1),
    help=_field_help("size", "Longest side of the output in pixels."),
)
@click.option(
    "--style-size",
    type=click.IntRange(min=1),
    help="Longest side the style image is resized to [default: --size].",
)
@click.option(
    "--iterations",
    type=click.IntRange(min=0),
    help=_field_help("iterations", "Optimisation steps."),
)
@click.option(
    "--content-weight",
    type=click.FloatRange(min=0),
    help=_field_help("content_weight", "alpha."),
)
@click.option(
    "--style-weight",
    type=click.FloatRange(min=0),
    help=_field_help("style_weight", "beta."),
)
@click.option(
    "--tv-weight",
    type=click.FloatRange(min=0),
    help=_field_help("tv_weight", "gamma, total variation."),
)
@click.option(
    "--content-loss-form",
    type=click.Choice(CONTENT_LOSS_FORMS),
    help=_field_help(
        "content_loss_form",
        "sum: 1/2 sum of squared errors (Gatys et al.); mean: mean squared "
        "error, the same at any size.",
    ),
)
@click.option(
    "--style-normalization",
    type=click.Choice(STYLE_NORMALIZATIONS),
    help=_field_help(
        "style_normalization",
        "none: Gatys et al.; target: each style layer's loss divided by "
        "its target's, so layers count as their weights say.",
    ),
)
@click.option(
    "--tv-form",
    type=click.Choice(TV_FORMS),
    help=_field_help("tv_form", "Total variation form."),
)
@click.option(
    "--optimizer",
    type=click.Choice(OPTIMIZERS),
    help=_field_help("optimizer", "adam, or lbfgs (quasi-Newton, unit steps)."),
)
@click.option(
    "--lbfgs-history",
    type=click.IntRange(min=1),
    help=_field_help("lbfgs_history", "Curvature pairs L-BFGS keeps."),
)
@click.option(
    "--line-search",
    type=click.Choice(LINE_SEARCHES),
    help=_field_help(
        "line_search",
        "L-BFGS step rule: none takes every step, armijo halves a step "
        "that does not lower the loss enough.",
    ),
)
@click.option(
    "--average-decay",
    type=click.FloatRange(min=0, max=1, max_open=True),
    help=_field_help(
        "average_decay",
        "Output the moving average of the iterates with this decay "
        "(e.g. 0.95; 0 is off).",
    ),
)
@click.option(
    "--precision",
    type=click.Choice(PRECISIONS),
    help=_field_help(
        "precision",
        "VGG19 arithmetic: bf16 is faster on GPUs and CPUs with bf16 units "
        "(losses stay float32).",
    ),
)
@click.option(
    "--learning-rate",
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    help=_field_help(
        "learning_rate", "Adam step size in pixel units (not L-BFGS)."
    ),
)
@click.option(
    "--content-layers",
    help=_field_help("content_layers", "Comma-separated, e.g. conv4_2."),
)
@click.option(
    "--content-layer-weights",
    callback=_floats,
    help="Comma-separated, one per content layer [default: equal, summing "
    "to 1].",
)
@click.option(
    "--style-layers",
    help=_field_help("style_layers", "Comma-separated, e.g. conv1_1,conv2_1."),
)
@click.option(
    "--style-layer-weights",
    callback=_floats,
    help="Comma-separated, one per style layer [default: equal, summing to 1].",
)
@click.option(
    "--pooling",
    type=click.Choice(POOLING_MODES),
    help=_field_help("pooling", "VGG19 pooling."),
)
@click.option(
    "--init",
    help=_field_help(
        "init", f"Start image: {', '.join(INIT_MODES)} or an image file."
    ),
)
@click.option(
    "--scales",
    type=click.IntRange(min=1),
    help=_field_help(
        "scales",
        "Coarse-to-fine sizes, each x1.41 the last, ending at --size; "
        "--iterations steps at each.",
    ),
)
@click.option(
    "--preserve-color",
    type=click.Choice(COLOR_MODES),
    help=_field_help(
        "preserve_color",
        "Keep the content's colours: luminance-only transfer, or the "
        "style recoloured to the content's colour statistics.",
    ),
)
@click.option("--seed", type=int, help="Seed for --init noise.")
@click.option(
    "--save-every",
    type=click.IntRange(min=1),
    help="Save a snapshot every N iterations, as OUTPUT_0100.png etc.",
)
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False, writable=True),
    help="Write one JSON line per iteration: iteration, total, content, "
    "style, tv.",
)
@_weights_option
@_backend_option
@click.option(
    "-v", "--verbose", is_flag=True, help="Print the settings and final losses."
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def transfer(
    ctx, content_arg, style_arg, content, style, output, preset, **options
):
    """Paint CONTENT in the style of STYLE and write the result to OUTPUT.

    \b
        keras-nst transfer astronaut.png starry_night.jpg -o out.png
        keras-nst transfer -c photo.jpg -s painting.jpg -r out.png -v
    """
    content = _one_of(content_arg, content, "CONTENT", "--content")
    style = _one_of(style_arg, style, "STYLE", "--style")
    styles = [style] if isinstance(style, str) else list(style)
    backend = options.pop("backend")
    verbose = options.pop("verbose")
    quiet = options.pop("quiet")
    save_every = options.pop("save_every")
    log_path = options.pop("log_path")
    weights = options.pop("weights")
    _set_backend(backend)
    try:
        config = _checked_config(
            preset, options, weights, output, [content, *styles]
        )
        if config.style_blend_weights is not None and len(
            config.style_blend_weights
        ) != len(styles):
            raise click.BadParameter(
                f"expected {len(styles)} weights, one per style image",
                param_hint="--style-blend",
            )
    except _LIBRARY_ERRORS as error:
        _fail(ctx, error)
    _run(
        ctx,
        content,
        styles,
        output,
        config,
        verbose,
        quiet,
        save_every,
        log_path,
    )


def _checked_config(preset, options, weights, output, images):
    """The run's `Config`, after checking every input before Keras loads."""
    from keras_nst.image_io import check_output_path
    from keras_nst.image_io import load_image
    from keras_nst.weights import resolve_weights

    for key in ("content_layers", "style_layers"):
        options[key] = _split(options[key])
    config = resolve_config(preset, **options)
    if weights is not None:
        random = weights.lower() in ("random", "none")
        config = dataclasses.replace(
            config, weights=None if random else weights
        )
    check_output_path(output)
    for path in images:
        load_image(path, 8)
    resolve_weights(config.weights)
    return config


def _one_of(argument, option, name, flag):
    if argument and option:
        raise click.UsageError(f"Give {name} or {flag}, not both.")
    if not (argument or option):
        raise click.UsageError(f"Missing {name} (or {flag}).")
    return argument or option


def _run(
    ctx,
    content,
    style,
    output,
    config: Config,
    verbose,
    quiet,
    save_every,
    log_path,
):
    try:
        keras = _import_keras(_debug(ctx))

        from keras_nst.callbacks import JsonlLogger
        from keras_nst.callbacks import Snapshot
        from keras_nst.image_io import save_image
        from keras_nst.model import NonFiniteLossError
        from keras_nst.style_transfer import optimize

        metadata = _metadata(
            keras,
            config,
            content=os.path.basename(content),
            style=[os.path.basename(path) for path in style],
        )
        if verbose:
            click.echo(f"backend: {keras.backend.backend()}", err=True)
            for key, value in config.to_dict().items():
                click.echo(f"{key}: {value}", err=True)
        callbacks = [keras.callbacks.History()]
        if save_every:
            callbacks.append(Snapshot(output, save_every, metadata))
        if log_path:
            callbacks.append(JsonlLogger(log_path))
        try:
            model = optimize(
                content,
                style,
                config,
                callbacks=callbacks,
                verbose=0 if quiet else 1,
            )
        except NonFiniteLossError as error:
            if error.last_good is None:
                raise
            metadata["stopped_after_iteration"] = error.last_good
            save_image(output, error.image, metadata=metadata)
            raise RuntimeError(
                f"{error} Wrote that image to {output}."
            ) from error
        save_image(output, model.get_image(), metadata=metadata)
    except (*_LIBRARY_ERRORS, NonFiniteLossError) as error:
        _fail(ctx, error)
    if verbose:
        losses = model.evaluate_losses()
        click.echo(
            "final losses: "
            + ", ".join(f"{k} {v:.4g}" for k, v in losses.items()),
            err=True,
        )
    click.echo(f"Wrote {output}")


@main.command()
@click.option(
    "-c",
    "--content",
    "contents",
    multiple=True,
    required=True,
    help="Content image; repeat for each row.",
)
@click.option(
    "-s",
    "--style",
    "styles",
    multiple=True,
    required=True,
    help="Style image; repeat for each column.",
)
@click.option("-o", "--output", required=True, help="Grid image, .png or .jpg.")
@_preset_option
@click.option(
    "--cell-size",
    type=click.IntRange(min=8),
    default=256,
    show_default=True,
    help="Side of each square cell in pixels.",
)
@_weights_option
@_backend_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@click.pass_context
def grid(
    ctx, contents, styles, output, preset, cell_size, weights, backend, quiet,
    **options,
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
    _set_backend(backend)
    try:
        config = _checked_config(
            preset, options, weights, output, [*contents, *styles]
        )
    except _LIBRARY_ERRORS as error:
        _fail(ctx, error)
    try:
        keras = _import_keras(_debug(ctx))

        from keras_nst.grid import make_grid
        from keras_nst.image_io import save_image
        from keras_nst.model import NonFiniteLossError

        cells = len(contents) * len(styles)

        def report(i, j, image):
            click.echo(
                f"cell {i * len(styles) + j + 1}/{cells} done: "
                f"{os.path.basename(contents[i])} x "
                f"{os.path.basename(styles[j])}",
                err=True,
            )

        image = make_grid(
            contents,
            styles,
            config,
            cell_size=cell_size,
            on_cell=report,
            verbose=0 if quiet else 1,
        )
        save_image(
            output,
            image,
            metadata=_metadata(
                keras,
                config,
                contents=[os.path.basename(p) for p in contents],
                styles=[os.path.basename(p) for p in styles],
            ),
        )
    except (*_LIBRARY_ERRORS, NonFiniteLossError) as error:
        _fail(ctx, error)
    click.echo(f"Wrote {output}")


# The grid takes every Config option of `transfer` (one definition, two
# commands); --style-blend does not apply to a grid.
grid.params.extend(
    param
    for param in transfer.params
    if param.name in {f.name for f in dataclasses.fields(Config)}
    and param.name not in ("weights", "style_blend_weights")
)


def _train_help(field: str, text: str) -> str:
    value = getattr(TrainConfig(), field)
    if isinstance(value, tuple):
        value = ",".join(value)
    return f"{text} [default: {value}]"


@main.command()
@click.option("-s", "--style", required=True, help="The style image.")
@click.option(
    "--data",
    required=True,
    help="Folder of content images (searched recursively; random crops).",
)
@click.option(
    "-o", "--output", required=True, help="Where the network goes (.keras)."
)
@click.option(
    "--size",
    type=click.IntRange(min=16),
    help=_train_help("size", "Side of the square training crops."),
)
@click.option(
    "--style-size",
    type=click.IntRange(min=16),
    help="Longest side of the style image [default: --size].",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    help=_train_help("batch_size", "Crops per step."),
)
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    help=_train_help("steps", "Training steps."),
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    help="Passes over the content images, instead of --steps.",
)
@click.option(
    "--learning-rate",
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    help=_train_help("learning_rate", "Adam's learning rate."),
)
@click.option(
    "--content-weight",
    type=click.FloatRange(min=0),
    help=_train_help("content_weight", "Content loss weight."),
)
@click.option(
    "--style-weight",
    type=click.FloatRange(min=0),
    help=_train_help("style_weight", "Style loss weight."),
)
@click.option(
    "--tv-weight",
    type=click.FloatRange(min=0),
    help=_train_help("tv_weight", "Total variation weight."),
)
@click.option(
    "--content-layers",
    help=_train_help("content_layers", "Comma-separated VGG19 layers."),
)
@click.option(
    "--style-layers",
    help=_train_help("style_layers", "Comma-separated VGG19 layers."),
)
@click.option(
    "--pooling",
    type=click.Choice(POOLING_MODES),
    help=_train_help("pooling", "VGG19 pooling."),
)
@click.option(
    "--seed",
    type=int,
    help=_train_help("seed", "Seeds the crops and the initial network."),
)
@_weights_option
@click.option(
    "--checkpoint-dir",
    help="Where checkpoints and samples go. [default: OUTPUT without .keras "
    "+ _checkpoint]",
)
@click.option(
    "--checkpoint-every",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Steps between checkpoints.",
)
@click.option(
    "--sample", help="Image stylised into the checkpoint folder as it trains."
)
@click.option(
    "--sample-every",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Steps between samples.",
)
@click.option(
    "--resume", is_flag=True, help="Continue from the checkpoint folder."
)
@click.option(
    "--log", "log_path", help="Append each step's losses to this JSONL file."
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Data loading threads.",
)
@click.option(
    "--distribute",
    is_flag=True,
    help="Data-parallel over all devices (JAX, TensorFlow).",
)
@_backend_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def train(ctx, style, data, output, **options):
    """Train a fast style transfer network for STYLE on the images in DATA.

    \b
        keras-nst train -s examples/starry_night.jpg --data photos/ \\
            -o starry_night.keras --steps 2000
        keras-nst stylize starry_night.keras photo.jpg -o out/
    """
    from keras_nst.config import resolve_train_config
    from keras_nst.data import find_images
    from keras_nst.image_io import load_image
    from keras_nst.weights import resolve_weights

    _set_backend(options.pop("backend"))
    quiet = options.pop("quiet")
    epochs = options.pop("epochs")
    run = {
        key: options.pop(key)
        for key in (
            "checkpoint_dir", "checkpoint_every", "sample", "sample_every",
            "resume", "workers", "distribute", "log_path",
        )
    }  # fmt: skip
    weights = options.pop("weights")
    try:
        if epochs is not None and options["steps"] is not None:
            raise click.UsageError("Give --steps or --epochs, not both.")
        for key in ("content_layers", "style_layers"):
            options[key] = _split(options[key])
        if weights is not None:
            options["weights"] = (
                None if weights.lower() in ("random", "none") else weights
            )
        config = resolve_train_config(**options)
        if epochs is not None:
            from keras_nst.fast import steps_for

            count = len(find_images(data))
            config = dataclasses.replace(
                config, steps=steps_for(epochs, count, config.batch_size)
            )
        if not output.endswith(".keras"):
            raise ValueError(
                f"Expected the output to end in .keras: '{output}'"
            )
        load_image(style, 8)
        if run["sample"]:
            load_image(run["sample"], 8)
        find_images(data)
        resolve_weights(config.weights)
    except _LIBRARY_ERRORS as error:
        _fail(ctx, error)
    try:
        _import_keras(_debug(ctx))
        from keras_nst import fast

        trainer = fast.train(
            style, data, output, config,
            checkpoint_dir=run["checkpoint_dir"],
            checkpoint_every=run["checkpoint_every"],
            sample=run["sample"], sample_every=run["sample_every"],
            resume=run["resume"], workers=run["workers"],
            distribute=run["distribute"], log=run["log_path"],
            verbose=2 if quiet else 1,
        )  # fmt: skip
    except _LIBRARY_ERRORS as error:
        _fail(ctx, error)
    history = trainer.history.history if trainer.history else {}
    if history.get("loss"):
        click.echo(f"final loss {history['loss'][-1]:.4g}", err=True)
    click.echo(f"Wrote {output}")


@main.command()
@click.argument("model")
@click.argument("images", nargs=-1, required=True)
@click.option(
    "-o", "--output-dir", required=True, help="Folder for the results."
)
@click.option(
    "--size",
    type=click.IntRange(min=16),
    help="Resize so the longest side is SIZE [default: keep].",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Images of the same size per forward pass.",
)
@_backend_option
@click.pass_context
def stylize(ctx, model, images, output_dir, size, batch_size, backend):
    """Stylise IMAGES with a network from `keras-nst train`, one pass each.

    Writes OUTPUT_DIR/NAME.png for each image NAME.jpg (or .png).

    \b
        keras-nst stylize starry_night.keras photo.jpg other.png -o out/
    """
    from keras_nst.image_io import check_output_path
    from keras_nst.image_io import load_image

    _set_backend(backend)
    outputs = [
        os.path.join(
            output_dir, os.path.splitext(os.path.basename(path))[0] + ".png"
        )
        for path in images
    ]
    try:
        if not os.path.isfile(model):
            raise FileNotFoundError(f"Model file not found: '{model}'")
        arrays = [load_image(path, size) for path in images]
        os.makedirs(output_dir, exist_ok=True)
        for path in outputs:
            check_output_path(path)
    except _LIBRARY_ERRORS as error:
        _fail(ctx, error)
    try:
        _import_keras(_debug(ctx))
        from keras_nst.fast import stylize as run_stylize
        from keras_nst.image_io import save_image

        results = run_stylize(model, arrays, batch_size=batch_size)
        for path, image in zip(outputs, results, strict=True):
            save_image(path, image)
            click.echo(f"Wrote {path}")
    except _LIBRARY_ERRORS as error:
        _fail(ctx, error)


@main.command()
def presets() -> None:
    """List the presets and their settings."""
    base = Config()
    for name, preset in PRESETS.items():
        click.echo(f"{name}: {preset.description}")
        for field in dataclasses.fields(Config):
            value = getattr(preset.config, field.name)
            if value != getattr(base, field.name) or name == DEFAULT_PRESET:
                click.echo(f"    {field.name} = {value}")


@main.group()
def weights() -> None:
    """Get and inspect the VGG19 ImageNet weights."""


@weights.command()
@click.option("--force", is_flag=True, help="Download again even if present.")
@click.pass_context
def fetch(ctx, force: bool) -> None:
    """Download the VGG19 notop weights to where Keras looks (md5-checked)."""
    from keras_nst.weights import fetch as fetch_weights

    _set_backend(None)
    _import_keras(_debug(ctx))
    try:
        path = fetch_weights(
            force=force, log=lambda line: click.echo(line, err=True)
        )
    except _LIBRARY_ERRORS as error:
        _fail(ctx, error)
    click.echo(str(path))


@weights.command()
def status() -> None:
    """Say where the VGG19 weights are and whether they are intact."""
    from keras_nst.weights import status as weights_status

    info = weights_status()
    for key, value in info.items():
        click.echo(f"{key}: {value}")
    if not info["present"]:
        click.echo("Run `keras-nst weights fetch` to download them.")
        sys.exit(1)
