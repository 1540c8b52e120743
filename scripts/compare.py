"""Figures that vary one setting at a time, one command each, public API only.

    # one setting varied, everything else from the preset
    python scripts/compare.py vary content_layers conv4_2 conv2_2 -o layers.png
    python scripts/compare.py vary init content noise -o init.png --seed 0
    python scripts/compare.py vary pooling max avg -o pooling.png
    python scripts/compare.py vary line_search none armijo \
        --set optimizer=lbfgs -o line_search.png

    # the image over the iterations, as a strip and an animated GIF
    python scripts/compare.py strip --every 25 -o strip.png --gif strip.gif

    # existing pictures side by side, labelled (e.g. fast style transfer)
    python scripts/compare.py panel a.png styled/a.png -o panel.jpg

Each panel is labelled with its value of the setting and final total loss.
"""

import os

import click
import keras
import numpy as np
from notation import short_float
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

import keras_nst
from keras_nst.image_io import to_uint8

EXAMPLES = "examples"


def _label(image: np.ndarray, text: str) -> Image.Image:
    picture = Image.fromarray(to_uint8(image))
    # Big enough to read once a docs page (about 700 px wide) shrinks a
    # strip of five panels, small enough to fit the panel's width.
    size = max(14, picture.height // 9)
    font = ImageFont.load_default(size=size)
    while size > 9 and font.getlength(text) > picture.width - 8:
        size -= 1
        font = ImageFont.load_default(size=size)
    panel = Image.new(
        "RGB", (picture.width, picture.height + size + 10), "white"
    )
    panel.paste(picture, (0, 0))
    ImageDraw.Draw(panel).text(
        (4, picture.height + 4), text, fill="black", font=font
    )
    return panel


def _row(panels: list[Image.Image], gap: int = 4) -> Image.Image:
    width = sum(p.width for p in panels) + gap * (len(panels) + 1)
    height = max(p.height for p in panels) + 2 * gap
    row = Image.new("RGB", (width, height), "white")
    x = gap
    for panel in panels:
        row.paste(panel, (x, gap))
        x += panel.width + gap
    return row


def _parse(field: str, value: str):
    if field.endswith("_layers"):
        return tuple(value.split(","))
    try:
        return float(value) if "." in value or "e" in value else int(value)
    except ValueError:
        return value


common = [
    click.option("--content", default=f"{EXAMPLES}/astronaut.png"),
    click.option("--style", default=f"{EXAMPLES}/starry_night.jpg"),
    click.option("--preset", default="gatys", show_default=True),
    click.option("--size", default=256, show_default=True),
    click.option("--iterations", default=100, show_default=True),
    click.option("--seed", default=0, show_default=True),
    click.option("-o", "--output", required=True, help="PNG to write."),
]


def _with_common(function):
    for option in reversed(common):
        function = option(function)
    return function


@click.group()
def main():
    """Comparison figures for keras-nst."""


@main.command()
@click.argument("field")
@click.argument("values", nargs=-1, required=True)
@click.option(
    "--set",
    "settings",
    multiple=True,
    help="FIELD=VALUE kept the same in every panel (repeatable).",
)
@_with_common
def vary(
    field, values, settings, content, style, preset, size, iterations, seed,
    output,
):  # fmt: skip
    """One panel per VALUE of the Config FIELD."""
    fixed = {}
    for setting in settings:
        key, _, value = setting.partition("=")
        fixed[key] = _parse(key, value)
    panels = []
    for value in values:
        model = keras_nst.optimize(
            content, style, preset, size=size, iterations=iterations,
            seed=seed, verbose=0, **fixed, **{field: _parse(field, value)},
        )  # fmt: skip
        total = model.evaluate_losses()["total"]
        click.echo(f"{field}={value}: total {total:.4g}")
        # The field is in the figure's title; the panel names the value.
        label = f"{value}: total {short_float(total, 3)}"
        panels.append(_label(model.get_image(), label))
    _row(panels).save(output, quality=90)
    click.echo(f"Wrote {output}")


@main.command()
@click.option("--every", default=25, show_default=True)
@click.option("--gif", help="Also write an animated GIF here.")
@_with_common
def strip(every, gif, content, style, preset, size, iterations, seed, output):
    """The image every N iterations, side by side."""
    frames = []

    class Keep(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if (batch + 1) % every == 0:
                frames.append((batch + 1, self.model.get_image()))

    model = keras_nst.build_model(
        content, style, preset, size=size, iterations=iterations, seed=seed
    )
    frames.append((0, model.get_image()))
    model.optimize(iterations, callbacks=[Keep()], verbose=0)
    labels = [_label(image, f"iteration {i}") for i, image in frames]
    _row(labels).save(output, quality=90)
    click.echo(f"Wrote {output}")
    if gif:
        pictures = [Image.fromarray(to_uint8(image)) for _, image in frames]
        pictures[0].save(
            gif, save_all=True, append_images=pictures[1:], duration=300,
            loop=0,
        )  # fmt: skip
        click.echo(f"Wrote {gif}")


@main.command()
@click.argument("images", nargs=-1, required=True)
@click.option("-o", "--output", required=True, help="Image to write.")
@click.option("--height", default=256, show_default=True)
@click.option("--labels", help="Comma-separated, one per image.")
def panel(images, output, height, labels):
    """IMAGES side by side at the same height, labelled with their names."""
    names = (
        labels.split(",")
        if labels
        else [os.path.basename(path) for path in images]
    )
    panels = []
    for path, name in zip(images, names, strict=True):
        picture = Image.open(path).convert("RGB")
        width = round(picture.width * height / picture.height)
        resized = picture.resize((width, height), Image.LANCZOS)
        panels.append(_label(np.asarray(resized, np.float32), name))
    _row(panels).save(output, quality=90)
    click.echo(f"Wrote {output}")


if __name__ == "__main__":
    main()
