"""Command-line options built from the declared settings.

Each `Config` or `TrainConfig` field becomes one option with the field's
kind, bounds, choices and help. Every option defaults to "not given":
`given_settings` passes on only what the user typed, so the library's own
defaults (and the chosen preset) apply to the rest.
"""

import dataclasses
import inspect
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

import click
from click.core import ParameterSource

from keras_nst.cli.runtime import BACKENDS
from keras_nst.settings import GROUPS

RANDOM_WEIGHTS = ("random", "none")
"""What `--weights` takes for random VGG19 weights (`weights=None`)."""


class GroupedOption(click.Option):
    """A `click.Option` that belongs to a section of `--help`."""

    def __init__(self, *args: Any, group: str = "run", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.group = group


class SectionedCommand(click.Command):
    """A command whose `--help` lists its options in `GROUPS` sections."""

    def format_options(self, ctx: click.Context, formatter) -> None:
        sections: dict[str, list] = {group: [] for group in GROUPS}
        other = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None or not isinstance(param, click.Option):
                continue
            group = getattr(param, "group", None)
            sections.get(group, other).append(record)
        for group, records in [*sections.items(), ("options", other)]:
            if records:
                with formatter.section(group.capitalize()):
                    formatter.write_dl(records)


def option(*flags: str, group: str, **kwargs: Any) -> Callable:
    """`click.option` in a `--help` section."""
    return click.option(*flags, cls=GroupedOption, group=group, **kwargs)


backend_option = option(
    "--backend",
    group="run",
    type=click.Choice(BACKENDS),
    help="Keras backend. [default: $KERAS_BACKEND, else tensorflow]",
)
quiet_option = option(
    "-q", "--quiet", group="output", is_flag=True, help="No progress line."
)


def default_of(function: Callable, name: str) -> Any:
    """The default of `function`'s parameter `name`, for help texts."""
    return inspect.signature(function).parameters[name].default


def show(value: Any) -> str:
    """A default as `--help` shows it."""
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _floats(ctx, param, value: str | None) -> tuple[float, ...] | None:
    if value is None:
        return None
    try:
        return tuple(float(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise click.BadParameter(
            f"expected comma-separated numbers, got {value!r}"
        ) from None


def _weights(ctx, param, value: str | None) -> str | None:
    if value is not None and value.lower() in RANDOM_WEIGHTS:
        return None
    return value


def _click_type(meta: dict):
    bounds = {
        "min": meta["minimum"],
        "max": meta["maximum"],
        "min_open": meta["min_open"],
        "max_open": meta["max_open"],
    }
    bounded = bounds["min"] is not None or bounds["max"] is not None
    if meta["kind"] == "int":
        return click.IntRange(**bounds) if bounded else click.INT
    if meta["kind"] == "float":
        return click.FloatRange(**bounds) if bounded else click.FLOAT
    if meta["choices"]:
        return click.Choice(meta["choices"])
    return str


def setting_options(cls: type, exclude: Iterable[str] = ()) -> Callable:
    """Decorates a command with one option per declared field of `cls`."""
    defaults = cls()
    excluded = set(exclude)

    def decorate(command: Callable) -> Callable:
        for field in reversed(dataclasses.fields(cls)):
            meta = field.metadata
            if field.name in excluded or "kind" not in meta:
                continue
            flags = meta["flags"] or (f"--{field.name.replace('_', '-')}",)
            default = getattr(defaults, field.name)
            text = meta["help"]
            if default is not None and "[default" not in text:
                text += f" [default: {show(default)}]"
            callback = None
            if meta["kind"] == "floats":
                callback = _floats
            elif field.name == "weights":
                callback = _weights
            command = option(
                *flags,
                field.name,
                group=meta["group"],
                type=_click_type(meta),
                callback=callback,
                help=text,
            )(command)
        return command

    return decorate


def setting_names(cls: type, exclude: Iterable[str] = ()) -> list[str]:
    """The fields of `cls` that `setting_options` made options for."""
    return [
        field.name
        for field in dataclasses.fields(cls)
        if "kind" in field.metadata and field.name not in set(exclude)
    ]


def given(ctx: click.Context, names: Iterable[str]) -> dict[str, Any]:
    """The values of the options among `names` that the user gave."""
    return {
        name: ctx.params[name]
        for name in names
        if ctx.get_parameter_source(name) is not ParameterSource.DEFAULT
    }
