"""Loss curves from the JSON-lines logs of `transfer --log` and `train --log`.

Each log line is a record `{"step": ..., "total": ..., "content": ...,
"style": ..., "tv": ...}` (`keras_nst.callbacks.JsonlLogger`). The figure
has one panel per term, one line per log. Needs matplotlib (the `plot`
extra); nothing here imports Keras.
"""

import json
import math
import os
from collections.abc import Sequence

from keras_nst.atomic import atomic_write
from keras_nst.choices import LOSS_NAMES

__all__ = ["PLOT_FORMATS", "PLOT_TITLES", "plot_losses", "read_log"]

PLOT_FORMATS = (".png", ".svg", ".pdf")
"""The figure formats, by the output's extension."""
PLOT_TITLES = {
    "total": "loss: the weighted sum minimised",
    "content": "content loss (unweighted)",
    "style": "style loss (unweighted)",
    "tv": "total variation (unweighted)",
}
"""Each panel's title: the total is weighted, the terms are not."""


def read_log(path: str) -> list[dict]:
    """The records of a log, in its order.

    Logs written before the shared keys name the step `iteration` and the
    total `loss`; they are read as `step` and `total`.

    Raises:
        ValueError: a line that is not a record with a step and a loss,
            or a log without records.
        OSError: the file cannot be read.
    """
    try:
        with open(path, encoding="utf-8") as file:
            lines = file.read().splitlines()
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text log.") from None
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            raise ValueError(f"{path}, line {number}: not a JSON record.")
        if "iteration" in record and "step" not in record:
            record["step"] = record.pop("iteration")
        if "loss" in record and "total" not in record:
            record["total"] = record.pop("loss")
        if not _is_number(record.get("step")) or not any(
            _is_number(record.get(name)) for name in LOSS_NAMES
        ):
            raise ValueError(
                f"{path}, line {number}: expected a record with a step and "
                f"a loss ({', '.join(LOSS_NAMES)}) as written by --log."
            )
        records.append(record)
    if not records:
        raise ValueError(f"{path}: no loss records.")
    return records


def _is_number(value) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _smooth(points: list[tuple], window: int) -> list[tuple]:
    """Means of consecutive windows of `window` points."""
    if window <= 1:
        return points
    chunks = (points[i : i + window] for i in range(0, len(points), window))
    return [
        (
            sum(x for x, _ in chunk) / len(chunk),
            sum(y for _, y in chunk) / len(chunk),
        )
        for chunk in chunks
    ]


def plot_losses(
    logs: Sequence[str],
    output: str,
    smooth: int = 1,
    title: str | None = None,
) -> None:
    """Draws the loss curves of `logs` into the figure file `output`.

    Four panels (the weighted total and the three unweighted terms), steps
    across, a log scale where every value is positive; one line per log,
    labelled with its file name. A single multi-scale log marks where each
    scale begins. The figure is 800x600 px (PNG), with labels readable at
    that size, and is written atomically.

    Args:
        logs: paths of `--log` files.
        output: the figure; `.png`, `.svg` or `.pdf`.
        smooth: plot the mean of each `smooth` steps (for the noisy
            per-batch losses of training); 1 plots every step.
        title: a title over the panels, or `None` for none.

    Raises:
        ValueError: no logs, a bad log, a bad `smooth` or output format.
        ImportError: matplotlib is not installed.
    """
    extension = os.path.splitext(output)[1].lower()
    if extension not in PLOT_FORMATS:
        raise ValueError(
            f"Expected the figure to end in one of {PLOT_FORMATS}. "
            f"Received: {output!r}"
        )
    if not logs:
        raise ValueError("Expected at least one log.")
    if smooth < 1:
        raise ValueError(f"Expected smooth >= 1. Received: smooth={smooth}")
    records = {path: read_log(path) for path in logs}
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 6), dpi=100, layout="constrained")
    axes = figure.subplots(2, 2, sharex=True).ravel()
    for axis, name in zip(axes, LOSS_NAMES, strict=True):
        values = []
        for path, lines in records.items():
            points = _smooth(
                [
                    (r["step"], r[name])
                    for r in lines
                    if _is_number(r.get(name))
                ],
                smooth,
            )
            if points:
                label = os.path.splitext(os.path.basename(path))[0]
                axis.plot(*zip(*points, strict=True), label=label)
                values += [value for _, value in points]
        axis.set_title(PLOT_TITLES[name], fontsize=11)
        axis.grid(True, which="both", alpha=0.3)
        if not values:
            axis.text(
                0.5, 0.5, "not in the logs", ha="center",
                transform=axis.transAxes,
            )  # fmt: skip
        elif min(values) > 0:
            axis.set_yscale("log")
    for axis in axes[2:]:
        axis.set_xlabel("step")
    if len(records) == 1:
        for step in _scale_starts(next(iter(records.values()))):
            for axis in axes:
                axis.axvline(step, color="grey", linestyle=":", linewidth=1)
    if len(records) > 1:
        axes[0].legend(fontsize=9)
    if title:
        figure.suptitle(title)
    atomic_write(
        output, lambda partial: figure.savefig(partial, format=extension[1:])
    )


def _scale_starts(records: list[dict]) -> list[int]:
    """The steps where a logged image size differs from the one before."""
    starts = []
    for before, after in zip(records, records[1:], strict=False):
        if "size" in after and after.get("size") != before.get("size"):
            starts.append(after["step"])
    return starts
