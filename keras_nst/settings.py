"""Declared settings: each dataclass field carries its check and its help.

`Config` and `TrainConfig` declare their fields with `setting`, so a
field's default, kind, bounds, choices and one-line help are written once;
`check_settings` validates an instance from them and the command line
builds its options from them. Nothing here imports Keras.
"""

import dataclasses
import difflib
import math
import numbers
from collections.abc import Sequence
from typing import Any

__all__ = [
    "GROUPS",
    "Settings",
    "check_choice",
    "check_settings",
    "replace_settings",
    "setting",
    "suggestion",
]

GROUPS = ("images", "losses", "optimiser", "output", "run")
"""The sections a setting's help is listed under."""

_KINDS = ("int", "float", "str", "strs", "floats")


class Settings:
    """The base of the settings dataclasses (`Config`, `TrainConfig`)."""

    def to_dict(self) -> dict[str, Any]:
        """Returns the settings as a JSON-serialisable dict."""
        return {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in dataclasses.asdict(self).items()
        }


def setting(
    default: Any,
    help: str,  # noqa: A002 - the word Click uses
    group: str,
    *,
    kind: str | None = None,
    choices: Sequence[str] | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    min_open: bool = False,
    max_open: bool = False,
    optional: bool = False,
    flags: Sequence[str] = (),
) -> Any:
    """A dataclass field with what checks and documents it.

    Args:
        default: the field's default.
        help: one line for `--help`.
        group: one of `GROUPS`.
        kind: `"int"`, `"float"`, `"str"`, `"strs"` (names) or `"floats"`;
            `None` infers it from `default`.
        choices: the values a `"str"` field may take.
        minimum: the least value (or, for sequences, item value).
        maximum: the largest value.
        min_open: `minimum` itself is not allowed.
        max_open: `maximum` itself is not allowed.
        optional: `None` is a valid value.
        flags: the command line's names, if not `--field-name`.

    Returns:
        A `dataclasses.field`.
    """
    if kind is None:
        kind = _infer_kind(default)
    if kind not in _KINDS or group not in GROUPS:
        raise ValueError(f"Bad setting declaration: {kind!r}, {group!r}")
    return dataclasses.field(
        default=default,
        metadata={
            "help": help,
            "group": group,
            "kind": kind,
            "choices": tuple(choices) if choices else None,
            "minimum": minimum,
            "maximum": maximum,
            "min_open": min_open,
            "max_open": max_open,
            "optional": optional or default is None,
            "flags": tuple(flags),
        },
    )


def _infer_kind(default: Any) -> str:
    if isinstance(default, bool):
        raise ValueError("Boolean settings are not supported.")
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    if isinstance(default, str):
        return "str"
    if isinstance(default, tuple) and all(isinstance(v, str) for v in default):
        return "strs"
    raise ValueError(f"Cannot infer a setting's kind from {default!r}")


def suggestion(value: str, choices: Sequence[str]) -> str:
    """A " (did you mean ...?)." hint for the closest of `choices`, or "."."""
    close = difflib.get_close_matches(str(value), choices, n=1)
    return f" (did you mean {close[0]!r}?)." if close else "."


def check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    """Raises `ValueError` unless `value` is one of `choices`."""
    if value not in choices:
        raise ValueError(
            f"Expected {name} to be one of {tuple(choices)}"
            + suggestion(value, choices)
            + f" Received: {name}={value!r}"
        )


def replace_settings(instance: Any, overrides: dict[str, Any]) -> Any:
    """`dataclasses.replace` that names an unknown field and a close one.

    Raises:
        ValueError: an override names no field of the dataclass.
    """
    known = sorted(field.name for field in dataclasses.fields(instance))
    for key in overrides:
        if key not in known:
            raise ValueError(
                f"Unknown setting {key!r}"
                + suggestion(key, known)
                + f" Expected one of {known}."
            )
    return dataclasses.replace(instance, **overrides)


def check_settings(instance: Any) -> Any:
    """Checks every declared field of a dataclass instance.

    Returns:
        A copy with values normalised: integers as `int`, numbers as
        `float`, sequences as tuples (a comma-separated string counts as a
        sequence).

    Raises:
        TypeError: a value of the wrong type (or `None` where not allowed).
        ValueError: a value out of range or not among the choices.
    """
    values = {}
    for field in dataclasses.fields(instance):
        if "kind" not in field.metadata:
            continue
        value = getattr(instance, field.name)
        values[field.name] = _check_value(field.name, value, field.metadata)
    return dataclasses.replace(instance, **values)


def _check_value(name: str, value: Any, meta: dict) -> Any:
    if value is None:
        if meta["optional"]:
            return None
        raise TypeError(
            f"Expected {name} to be {_describe(meta)}, not None. "
            f"Received: {name}=None"
        )
    kind = meta["kind"]
    if kind in ("strs", "floats"):
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, Sequence):
            raise TypeError(
                f"Expected {name} to be {_describe(meta)}. "
                f"Received: {name}={_shown(value)}"
            )
        item = dict(meta, kind=kind[:-1])
        return tuple(_check_scalar(name, v, item, value) for v in value)
    return _check_scalar(name, value, meta, value)


def _check_scalar(name: str, value: Any, meta: dict, whole: Any) -> Any:
    kind = meta["kind"]
    received = f"Received: {name}={_shown(whole)}"
    if kind == "str":
        if not isinstance(value, str):
            raise TypeError(f"Expected {name} to be a string. {received}")
        if meta["choices"]:
            check_choice(name, value, meta["choices"])
        return value
    is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if kind == "int":
        # Integers are compared exactly: float(10**400) would overflow and
        # float(2**80 + 1) round.
        if not (
            is_number
            and (
                isinstance(value, numbers.Integral)
                or _as_float(value).is_integer()
            )
        ):
            raise TypeError(f"Expected {name} to be an integer. {received}")
        number = int(value)
    else:
        if not is_number:
            raise TypeError(f"Expected {name} to be a number. {received}")
        number = _as_float(value)
        if not math.isfinite(number):
            raise ValueError(f"Expected {name} to be finite. {received}")
    low, high = meta["minimum"], meta["maximum"]
    if (
        low is not None
        and (number < low or (meta["min_open"] and number == low))
    ) or (
        high is not None
        and (number > high or (meta["max_open"] and number == high))
    ):
        raise ValueError(f"Expected {name} to be {_describe(meta)}. {received}")
    return number


def _shown(value: Any) -> str:
    """`repr(value)`, with an integer of over 30 digits as its length.

    Python refuses to print integers of over 4300 digits, and a 400-digit
    one would fill the one-line message.
    """
    if isinstance(value, list | tuple):
        items = ", ".join(map(_shown, value))
        if isinstance(value, tuple):
            return f"({items}{',' if len(value) == 1 else ''})"
        return f"[{items}]"
    if (
        isinstance(value, numbers.Integral)
        and not isinstance(value, bool)
        and abs(value) >= 10**30
    ):
        magnitude = abs(int(value))
        digits = int(math.log10(magnitude)) + 1  # float: may be one off
        digits -= 10 ** (digits - 1) > magnitude
        digits += 10**digits <= magnitude
        return f"{'-' if value < 0 else ''}<a {digits}-digit integer>"
    return repr(value)


def _as_float(value: numbers.Real) -> float:
    """`float(value)`, with inf for a number beyond float's range (10**400)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _describe(meta: dict) -> str:
    kind = meta["kind"]
    words = {
        "int": "an integer",
        "float": "a number",
        "str": "a string",
        "strs": "a sequence of names",
        "floats": "a sequence of numbers",
    }[kind]
    low, high = meta["minimum"], meta["maximum"]
    if low is not None and high is not None:
        left = "(" if meta["min_open"] else "["
        right = ")" if meta["max_open"] else "]"
        words += f" in {left}{_bound(low)}, {_bound(high)}{right}"
    elif low is not None:
        words += f" {'>' if meta['min_open'] else '>='} {_bound(low)}"
    elif high is not None:
        words += f" {'<' if meta['max_open'] else '<='} {_bound(high)}"
    return words


def _bound(value: float) -> str:
    """A bound as the messages show it: integers in full (4294967295)."""
    if isinstance(value, numbers.Integral):
        return str(value)
    return f"{value:g}"
