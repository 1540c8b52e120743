"""Adam against L-BFGS at equal gradient evaluations, on several objectives.

    # the default objective and Gatys et al.'s sum form, 128 px, 200 steps
    python scripts/optimizer_gap.py --size 128 --steps 200 \
        --objective gatys --objective gatys2016_sum \
        --optimizer adam --optimizer lbfgs:20 --optimizer lbfgs:100

    # L-BFGS without the clip to 0..255 between steps (the picture is
    # clipped once at the end, as jcjohnson/neural-style does)
    python scripts/optimizer_gap.py --optimizer lbfgs:20:unclipped

Every run starts from the content photo (astronaut x Starry Night) and
takes one gradient per step. The table gives each run's total loss after
every `--every` steps as a ratio to Adam's on the same objective, and the
total of the final picture clipped to 0..255.
"""

import contextlib
import time

import click
import numpy as np
from notation import short_float

import keras_nst
from keras_nst.model import StyleTransferModel

CONTENT = "examples/astronaut.png"
STYLE = "examples/starry_night.jpg"


@contextlib.contextmanager
def _unclipped():
    """Lets the image leave 0..255 between steps, for this experiment."""
    clip = StyleTransferModel.clip_image
    StyleTransferModel.clip_image = lambda self, image: image
    try:
        yield
    finally:
        StyleTransferModel.clip_image = clip


# Each optimiser and the setting its optional number sets.
_NUMBERS = {"adam": ("learning_rate", float), "lbfgs": ("lbfgs_history", int)}


def _optimizer(spec: str) -> tuple[dict, bool]:
    """`adam`, `adam:LR` or `lbfgs:HISTORY[:unclipped]` as overrides."""
    name, *parts = spec.split(":")
    if name not in _NUMBERS:
        raise click.BadParameter(f"unknown optimizer {spec!r}")
    unclipped = "unclipped" in parts
    parts = [p for p in parts if p != "unclipped"]
    overrides = {"optimizer": name}
    if parts:
        field, kind = _NUMBERS[name]
        overrides[field] = kind(parts[0])
    return overrides, unclipped


def _run(objective, spec, size, steps, every, extractor):
    overrides, unclipped = _optimizer(spec)
    context = _unclipped() if unclipped else contextlib.nullcontext()
    with context:
        model = keras_nst.build_model(
            CONTENT, STYLE, objective, extractor=extractor, size=size,
            # Each optimiser's own iterate, not a moving average of them.
            scales=1, average_decay=0.0, seed=0, **overrides,
        )  # fmt: skip
        start = time.perf_counter()
        curve = []
        for _ in range(steps // every):
            model.optimize(every, verbose=0)
            curve.append(model.evaluate_losses()["total"])
        seconds = time.perf_counter() - start
    model.set_image(np.clip(model.get_image(raw=True), 0.0, 255.0)[None])
    clipped = model.evaluate_losses()["total"]
    return model.extractor, curve, clipped, seconds


@click.command()
@click.option("--size", default=128, show_default=True)
@click.option("--steps", default=200, show_default=True)
@click.option("--every", default=25, show_default=True)
@click.option(
    "--objective", "objectives", multiple=True,
    default=("gatys", "gatys2016_sum"), show_default=True,
    help="A preset name (repeatable).",
)  # fmt: skip
@click.option(
    "--optimizer", "optimizers", multiple=True,
    default=("adam", "lbfgs:20", "lbfgs:100"), show_default=True,
    help="adam[:LR] or lbfgs[:HISTORY][:unclipped] (repeatable); the "
    "first is the one the ratios divide by.",
)  # fmt: skip
def main(size, steps, every, objectives, optimizers):
    """Prints each optimiser's loss curve, as ratios to the first one's."""
    marks = [every * (k + 1) for k in range(steps // every)]
    header = ["objective", "optimizer", *map(str, marks), "final, clipped"]
    rows = ["| " + " | ".join(header) + " |"]
    rows.append("|" + " --- |" * 2 + " ---: |" * (len(marks) + 1))
    for objective in objectives:
        extractor, first = None, None
        for spec in optimizers:
            extractor, curve, clipped, seconds = _run(
                objective, spec, size, steps, every, extractor
            )
            click.echo(
                f"{objective} {spec}: {short_float(curve[-1], 4)} after "
                f"{steps} steps, {short_float(clipped, 4)} clipped, "
                f"{seconds:.0f} s",
                err=True,
            )
            if first is None:
                first = (curve, clipped)
                cells = [short_float(c, 3) for c in curve]
                cells.append(short_float(clipped, 3))
            else:
                cells = [
                    f"{c / f:.3f}" for c, f in zip(curve, first[0], strict=True)
                ]
                cells.append(f"{clipped / first[1]:.3f}")
            rows.append("| " + " | ".join([objective, spec, *cells]) + " |")
    click.echo("\n".join(rows))


if __name__ == "__main__":
    main()
