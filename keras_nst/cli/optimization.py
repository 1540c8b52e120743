"""`keras-nst transfer`: the optimisation method, and what `grid` shares."""

import os
import secrets

import click

from keras_nst.cli.live import live_view
from keras_nst.cli.live import loss_weights
from keras_nst.cli.live import web_host_option
from keras_nst.cli.live import web_option
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
from keras_nst.cli.runtime import set_backend
from keras_nst.cli.runtime import signal_exits
from keras_nst.cli.transfer_run import TransferRun
from keras_nst.cli.transfer_run import run_schedule
from keras_nst.config import Config
from keras_nst.presets import DEFAULT_PRESET
from keras_nst.presets import PRESET_ALIASES
from keras_nst.presets import PRESETS
from keras_nst.presets import resolve_config
from keras_nst.startup import speed_switches_set
from keras_nst.state_files import STATE_SUFFIX
from keras_nst.state_files import is_snapshot_name
from keras_nst.state_files import snapshot_pattern
from keras_nst.state_files import state_path


class PresetChoice(click.Choice):
    """The preset names, which also accept the presets' earlier names."""

    def __init__(self):
        super().__init__(tuple(PRESETS))

    def convert(self, value, param, ctx):
        return super().convert(PRESET_ALIASES.get(value, value), param, ctx)


preset_option = option(
    "--preset",
    group="run",
    type=PresetChoice(),
    default=DEFAULT_PRESET,
    show_default=True,
    help="Named settings (the defaults shown are gatys's); every option "
    "given overrides the preset's value.",
)


def metadata_of(config: Config, **inputs) -> dict:
    """What a written PNG records about its run (see keras_nst.provenance)."""
    from keras_nst.provenance import environment

    return {**inputs, **environment(), **config.to_dict()}


def checked_config(
    ctx, preset: str, names, outputs, images, recorded=None, snapshots=None,
    output_types=None,
) -> Config:  # fmt: skip
    """The run's `Config`, after checking every input before Keras loads.

    `outputs` are the files the run writes, the image first; none may be an
    input, nor may an input have a name of the `snapshots` pattern.
    `recorded` are settings read with `--from`; the options given
    override them. `output_types` are the extensions the first output may
    have (`None`: an image's). A run without a seed gets one drawn here,
    so that its picture records how to make it again.
    """
    from keras_nst.choices import INIT_MODES
    from keras_nst.image_io import read_image_shape
    from keras_nst.image_output import check_distinct_outputs
    from keras_nst.image_output import check_output_path
    from keras_nst.settings import replace_settings
    from keras_nst.weights import resolve_weights

    config = resolve_config(preset, **{**(recorded or {}), **given(ctx, names)})
    if config.seed is None:
        config = replace_settings(config, {"seed": secrets.randbelow(2**31)})
    check_output_path(outputs[0], *([output_types] if output_types else []))
    for path in outputs[1:]:
        folder = os.path.dirname(os.path.abspath(path)) if path else None
        if folder and not os.path.isdir(folder):
            raise OSError(f"Output folder does not exist: '{folder}'")
    start = [] if config.init in INIT_MODES else [config.init]
    check_distinct_outputs(
        [path for path in outputs if path], [*images, *start]
    )
    for path in [*images, *start]:
        if snapshots and is_snapshot_name(snapshots, path):
            raise ValueError(
                f"A snapshot of this run would overwrite the input '{path}': "
                "choose another output name."
            )
        read_image_shape(path)
    resolve_weights(config.weights)
    return config


def _one_of(argument, option_value, name: str, flag: str, recorded: dict):
    if argument and option_value:
        raise click.UsageError(f"Give {name} or {flag}, not both.")
    value = argument or option_value or recorded.get(name.lower())
    if not value:
        raise click.UsageError(f"Missing {name} (or {flag}).")
    return value


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
    help="Save a snapshot every N iterations, as OUTPUT_0100.png etc., "
    "and the run's state to resume from.",
)
@option(
    "--log",
    "log_path",
    group="output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write one JSON line per step: step, size, total, content, style, tv.",
)
@option(
    "--resume",
    group="output",
    is_flag=True,
    help="Go on from where an interrupted run of this command stopped: "
    f"from OUTPUT{STATE_SUFFIX}, saved when a run is interrupted and with "
    "every snapshot, and removed when it finishes.",
)
@option(
    "--from",
    "from_path",
    group="run",
    type=click.Path(dir_okay=False),
    help="Run again what a PNG written by keras-nst (or a JSON file of "
    "settings) records: its images, settings and seed; the images and "
    "options given override them.",
)
@option(
    "-v",
    "--verbose",
    group="output",
    is_flag=True,
    help="Print the settings and final losses.",
)
@quiet_option
@web_option
@web_host_option
@preset_option
@backend_option
@setting_options(Config)
@click.pass_context
def transfer(
    ctx, content_arg, style_arg, content, style, output, preset, save_every,
    log_path, resume, from_path, verbose, quiet, web_port, web_host, backend,
    **settings,
):  # fmt: skip
    """Paint CONTENT in the style of STYLE and write the result to OUTPUT.

    Ctrl-C (or SIGTERM) stops the run after the step in progress and
    writes the picture so far to OUTPUT; `--resume` goes on from there.

    \b
        keras-nst transfer astronaut.png starry_night.jpg -o out.png
        keras-nst transfer -c photo.jpg -s painting.jpg -r out.png -v
        keras-nst transfer --from out.png -o again.png
        keras-nst transfer photo.jpg painting.jpg -o out.png --web
    """
    recorded = {}
    if from_path:
        with one_line_errors(ctx):
            from keras_nst.provenance import run_settings

            recorded = run_settings(from_path)
    content = _one_of(content_arg, content, "CONTENT", "--content", recorded)
    style = _one_of(style_arg, style, "STYLE", "--style", recorded)
    styles = [style] if isinstance(style, str) else list(style)
    set_backend(backend)
    state = state_path(output)
    with one_line_errors(ctx):
        if resume:
            recorded = {**recorded, "seed": _saved_seed(state)}
        config = checked_config(
            ctx,
            preset,
            setting_names(Config),
            [output, log_path],
            [content, *styles],
            {
                k: v
                for k, v in recorded.items()
                if k not in ("content", "style")
            },
            snapshot_pattern(output) if save_every else None,
        )
    blend = config.style_blend_weights
    if blend is not None and len(blend) != len(styles):
        raise click.BadParameter(
            f"expected {len(styles)} weights, one per style image",
            param_hint="--style-blend",
        )
    with signal_exits(), one_line_errors(ctx):
        keras = import_keras(debugging(ctx))
        metadata = metadata_of(config, content=content, style=styles)
        if verbose:
            click.echo(f"backend: {keras.backend.backend()}", err=True)
            for switch in speed_switches_set():
                click.echo(
                    f"speed switch: {switch} ({switch.reason}; set "
                    f"{switch.name} yourself to choose)",
                    err=True,
                )
            for key, value in config.to_dict().items():
                click.echo(f"{key}: {value}", err=True)
        run = TransferRun(output, state, save_every, log_path, resume, quiet)
        schedule = run_schedule(config)
        weights = loss_weights(config)
        settings = {"content": content, "style": styles, **config.to_dict()}
        with live_view(web_port, web_host, settings, schedule, weights) as web:
            run.web = web
            losses = run.optimize(content, styles, config, metadata)
        if verbose and losses:
            click.echo(
                "final losses: "
                + ", ".join(f"{k} {v:.4g}" for k, v in losses.items()),
                err=True,
            )
        click.echo(f"Wrote {output}")


def _saved_seed(state: str):
    from keras_nst.resume import load_state

    return load_state(state).config.get("seed")
