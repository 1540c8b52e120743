"""Plots the loss curves of `keras-nst transfer --log` or `train --log` files.

    python scripts/plot_losses.py adam.jsonl lbfgs.jsonl -o curves.png
    python scripts/plot_losses.py train.jsonl --smooth 50 -o training.png

One panel per loss term (total, content, style, tv), log scale, one line
per file labelled by its name. Training logs count in `step`, read as
iterations (logs written before the shared schema name the total `loss`;
it is read as `total`); `--smooth N` plots the mean of each N steps, for
the noisy per-batch losses of training. Needs matplotlib
(`pip install -e .[plot]`).
"""

import json
import os

import click

TERMS = ("total", "content", "style", "tv")


def read_log(path: str) -> list[dict]:
    """The records of a log; an older log's `iteration` is read as `step`
    and its `loss` as `total`."""
    with open(path, encoding="utf-8") as file:
        records = [json.loads(line) for line in file if line.strip()]
    for record in records:
        if "iteration" in record and "step" not in record:
            record["step"] = record.pop("iteration")
        if "loss" in record and "total" not in record:
            record["total"] = record.pop("loss")
    return records


def smooth(points: list[tuple], window: int) -> list[tuple]:
    """Means of consecutive windows of `window` points."""
    if window <= 1:
        return points
    return [
        (
            sum(x for x, _ in chunk) / len(chunk),
            sum(y for _, y in chunk) / len(chunk),
        )
        for chunk in (
            points[i : i + window] for i in range(0, len(points), window)
        )
    ]


@click.command()
@click.argument("logs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("-o", "--output", required=True, help="PNG to write.")
@click.option("--title", default="", help="Figure title.")
@click.option("--smooth", "window", default=1, help="Average N points.")
def main(logs, output, title, window):
    """Plot the loss terms of LOGS against the iteration."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise click.ClickException(
            "matplotlib is not installed: pip install -e '.[plot]'"
        ) from None
    figure, axes = plt.subplots(1, len(TERMS), figsize=(4 * len(TERMS), 3.2))
    for path in logs:
        records = read_log(path)
        label = os.path.splitext(os.path.basename(path))[0]
        for axis, term in zip(axes, TERMS, strict=True):
            points = smooth(
                [(r["step"], r[term]) for r in records if term in r],
                window,
            )
            if points and max(v for _, v in points) > 0:
                axis.plot(*zip(*points, strict=True), label=label)
    for axis, term in zip(axes, TERMS, strict=True):
        axis.set_title(term)
        axis.set_xlabel("step")
        axis.set_yscale("log")
        axis.grid(True, which="both", alpha=0.3)
    axes[0].legend()
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(output, dpi=100)
    click.echo(f"Wrote {output}")


if __name__ == "__main__":
    main()
