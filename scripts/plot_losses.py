"""Plots the loss curves of one or more `keras-nst transfer --log` files.

    python scripts/plot_losses.py adam.jsonl lbfgs.jsonl -o curves.png

One panel per loss term (total, content, style, tv), log scale, one line
per file labelled by its name. Needs matplotlib (`pip install -e .[plot]`).
"""

import json
import os

import click

TERMS = ("total", "content", "style", "tv")


def read_log(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]


@click.command()
@click.argument("logs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("-o", "--output", required=True, help="PNG to write.")
@click.option("--title", default="", help="Figure title.")
def main(logs, output, title):
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
            points = [(r["iteration"], r[term]) for r in records if term in r]
            if points and max(v for _, v in points) > 0:
                axis.plot(*zip(*points, strict=True), label=label)
    for axis, term in zip(axes, TERMS, strict=True):
        axis.set_title(term)
        axis.set_xlabel("iteration")
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
