"""Judges a change of defaults on the bundled pictures: pictures and numbers.

    # the pictures of the current defaults, then of a change
    python scripts/quality.py run -o out/quality/old --label "old default"
    python scripts/quality.py run -o out/quality/new --label "new default" \
        --set style_loss=w2 --set padding=reflect
    # only astronaut x Starry Night, at 1024 px
    python scripts/quality.py run -o out/quality/new_1024 --sizes 1024 \
        --pairs 0 --set style_loss=w2

    # the folders side by side, and a Markdown table of their numbers
    python scripts/quality.py sheet out/quality/old out/quality/new \
        -o docs/gallery/quality_512.jpg --size 512

Each picture is judged by its own run's losses and by the reference
objective: its loss terms under one fixed config (REFERENCE_OBJECTIVE, the
package's earlier default losses), the same for every folder, so totals
compare across changes of the losses themselves, and by its grid index
(`scripts/grid_measure.py`: the fine mesh of stripes the optimisation can
paint), next to the photo's and the painting's. Seconds are the whole
`keras_nst.optimize` call, graph tracing and compilation included.
"""

import dataclasses
import json
import os
import time

import click
import keras
import numpy as np
from compare import _label
from compare import _parse
from compare import _row
from grid_measure import grid_index
from notation import short_float
from PIL import Image

import keras_nst
from keras_nst.config import Config
from keras_nst.image_io import to_uint8
from keras_nst.presets import PRESETS
from keras_nst.presets import resolve_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
PAIRS = (
    ("astronaut.png", "starry_night.jpg"),
    ("chelsea.png", "the_scream.jpg"),
    ("photos/coffee.png", "starry_night.jpg"),
    ("photos/rocket.jpg", "the_scream.jpg"),
)
"""The content and style images under examples/, indexed by --pairs."""
REFERENCE_PRESET = "gatys"
REFERENCE_OBJECTIVE = {
    "tv_reduction": "sum", "tv_weight": 1e-3, "style_loss": "gram",
    "padding": "zero", "pooling": "avg", "style_weight": 3e6,
    # Before a step the output is the image itself either way; 0 says so.
    "average_decay": 0.0,
}  # fmt: skip
"""The reference objective: REFERENCE_PRESET with these (and the size)."""
EXTRACTOR_FIELDS = (
    "content_layers", "style_layers", "pooling", "padding", "weights",
    "precision",
)  # fmt: skip
RESULTS = "results.json"
SHEET_HEIGHT = 320
"""The displayed height of the images on the sheets."""


def _name(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


NAMES = tuple("_".join(map(_name, pair)) for pair in PAIRS)


def _settings(ctx, param, values) -> dict:
    """FIELD=VALUE strings as Config values; `none` for an optional field."""
    fields = {
        field.name: field.metadata for field in dataclasses.fields(Config)
    }
    parsed = {}
    for text in values:
        field, equals, value = text.partition("=")
        if not equals or field not in fields:
            raise click.BadParameter(
                f"expected FIELD=VALUE with a Config field, got {text!r}"
            )
        if fields[field]["optional"] and value.lower() in ("none", "random"):
            parsed[field] = None
        elif fields[field]["kind"] == "str":
            parsed[field] = value
        else:
            parsed[field] = _parse(field, value)
    return parsed


def _ints(ctx, param, value) -> list[int] | None:
    if value is None:
        return None
    if param.name == "pairs" and value == "all":
        return list(range(len(PAIRS)))
    try:
        numbers = [int(part) for part in value.split(",")]
    except ValueError:
        raise click.BadParameter(f"expected integers, got {value!r}") from None
    if param.name == "pairs" and not all(0 <= n < len(PAIRS) for n in numbers):
        raise click.BadParameter(f"pairs are 0..{len(PAIRS) - 1}: {value!r}")
    return numbers


def _resolve(option: str, preset: str, **overrides):
    try:
        return resolve_config(preset, **overrides)
    except (TypeError, ValueError) as error:
        raise click.BadParameter(str(error), param_hint=option) from None


def _extractors(reference: Config, config: Config) -> tuple:
    """The reference's extractor, and the run's (the same one if it can)."""
    if reference.weights is None:  # the same random weights in every folder
        keras.utils.set_random_seed(0)
    try:
        reference_extractor = keras_nst.build_extractor(reference)
        if all(
            getattr(config, f, None) == getattr(reference, f, None)
            for f in EXTRACTOR_FIELDS
        ):
            return reference_extractor, reference_extractor
        return reference_extractor, keras_nst.build_extractor(config)
    except keras_nst.KerasNSTError as error:
        raise click.ClickException(str(error)) from None


def _panel(
    picture, text: str, height: int = SHEET_HEIGHT, crop=None
) -> Image.Image:
    """An image (a path or an array), cropped to `crop`, at `height`."""
    if isinstance(picture, str):
        picture = Image.open(picture).convert("RGB")
    else:
        picture = Image.fromarray(to_uint8(picture))
    if crop is not None:
        picture = picture.crop(crop)
    width = max(1, round(picture.width * height / picture.height))
    resized = picture.resize((width, height), Image.LANCZOS)
    return _label(np.asarray(resized, np.float32), text)


def _save_column(rows: list[Image.Image], path: str) -> None:
    width, height = max(r.width for r in rows), sum(r.height for r in rows)
    sheet = Image.new("RGB", (width, height), "white")
    for index, row in enumerate(rows):
        sheet.paste(row, (0, sum(r.height for r in rows[:index])))
    sheet.save(path, quality=90)
    click.echo(f"Wrote {path}")


def weighted_shares(losses: dict, weights: dict) -> dict:
    """Each term's weight times its value, as a share of the total."""
    weighted = {term: weights[term] * losses[term] for term in weights}
    total = sum(weighted.values())
    return {term: value / total for term, value in weighted.items()}


def _shares(shares: dict | None) -> str:
    if shares is None:  # a results.json written before shares were kept
        return "-"
    return "/".join(f"{shares[t]:.0%}" for t in ("content", "style", "tv"))


def _grid(grid: dict | None) -> str:
    if grid is None:  # a results.json written before the grid was kept
        return "-"
    return f"{grid['picture']:.2f} ({grid['content']:.2f}, {grid['style']:.2f})"


def _md(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def _caption(label: str, record: dict) -> str:
    total = short_float(record["reference_losses"]["total"], 3)
    return f"{label}: total {total}, {record['seconds']:.1f} s"


@click.group()
def main():
    """Pictures and numbers to judge a change of keras-nst's defaults."""


@main.command()
@click.option("-o", "--output", required=True, help="Folder (overwritten).")
@click.option(
    "--set", "settings", multiple=True, callback=_settings,
    help="FIELD=VALUE Config override (repeatable); none for an optional "
    "field (weights=none: random weights).",
)  # fmt: skip
@click.option(
    "--pairs", default="all", callback=_ints, show_default=True,
    help=f"all, or comma-separated indexes into {', '.join(NAMES)}.",
)  # fmt: skip
@click.option("--sizes", default="512", callback=_ints, show_default=True,
              help="Comma-separated longest sides.")  # fmt: skip
@click.option("--label", help="Its name in `sheet` [default: the folder's].")
@click.option("--preset", type=click.Choice(tuple(PRESETS)), default="gatys",
              show_default=True)  # fmt: skip
@click.option(
    "--reference-set", "reference_settings", multiple=True,
    callback=_settings, help="FIELD=VALUE changing the reference objective "
    f"({REFERENCE_PRESET} with {REFERENCE_OBJECTIVE}).",
)  # fmt: skip
def run(output, settings, pairs, sizes, label, preset, reference_settings):
    """Runs each pair at each size into the folder -o.

    Writes {content}_{style}_{size}.png, results.json and one
    sheet_{size}.jpg per size (content | style | result per pair), after
    deleting those an earlier run wrote there (other files stay).
    """
    for size in sizes:
        config = _resolve("'--set' / '--sizes'", preset, size=size, **settings)
    reference = {"weights": config.weights, **REFERENCE_OBJECTIVE}
    reference.update(reference_settings)
    reference = _resolve("'--reference-set'", REFERENCE_PRESET, **reference)
    reference_extractor, extractor = _extractors(reference, config)
    label = label or os.path.basename(os.path.normpath(output))
    os.makedirs(output, exist_ok=True)
    for file in os.listdir(output):  # what an earlier run wrote
        if file == RESULTS or file.startswith(("sheet_", *NAMES)):
            os.remove(os.path.join(output, file))
    records = []
    for size in sizes:
        rows = []
        for index in pairs:
            content, style = (os.path.join(EXAMPLES, p) for p in PAIRS[index])
            start = time.perf_counter()
            model = keras_nst.optimize(
                content, style, preset, verbose=0, extractor=extractor,
                size=size, **settings,
            )  # fmt: skip
            seconds = time.perf_counter() - start
            resolved = resolve_config(preset, size=size, **settings)
            losses = model.evaluate_losses()
            # The run's own objective at the output size, at the start
            # image and at the picture: how content, style and TV share it.
            at_start = keras_nst.build_model(
                content, style, preset, extractor=extractor, size=size,
                **settings,
            )  # fmt: skip
            shares = {
                "start": weighted_shares(at_start.evaluate_losses(),
                                         at_start.loss_weights),
                "end": weighted_shares(losses, model.loss_weights),
            }  # fmt: skip
            picture = np.clip(model.get_image(), 0.0, 255.0)
            file = f"{NAMES[index]}_{size}.png"
            keras_nst.save_image(os.path.join(output, file), picture)
            judge = keras_nst.build_model(
                content, style, reference, start=picture,
                extractor=reference_extractor, size=size,
            )  # fmt: skip
            record = {
                "pair": index, "name": NAMES[index], "content": _name(content),
                "style": _name(style), "size": size, "file": file,
                "seconds": seconds, "losses": losses,
                "shares": shares,
                "reference_losses": judge.evaluate_losses(),
                # The fine grid (scripts/grid_measure.py), and the same
                # measure of the photo and the painting at this size.
                "grid": {
                    "picture": grid_index(picture),
                    "content": grid_index(keras_nst.load_image(content, size)),
                    "style": grid_index(keras_nst.load_image(style, size)),
                },
                "settings": resolved.to_dict(),
                "reference_settings": judge.config.to_dict(),
                "backend": keras.backend.backend(), "label": label,
                "preset": preset, "overrides": settings,
            }  # fmt: skip
            records.append(record)
            with open(os.path.join(output, RESULTS), "w") as f:
                json.dump({"label": label, "pictures": records}, f, indent=1)
            total = short_float(record["reference_losses"]["total"], 4)
            click.echo(
                f"{NAMES[index]} {size} px: {seconds:.1f} s, total {total}"
            )
            rows.append(_row([
                _panel(content, record["content"]),
                _panel(style, record["style"]),
                _panel(picture, _caption(label, record)),
            ]))  # fmt: skip
            del model, judge, at_start
        _save_column(rows, os.path.join(output, f"sheet_{size}.jpg"))


@main.command()
@click.argument("folders", nargs=-1, required=True)
@click.option("-o", "--output", required=True, help="Image to write.")
@click.option("--size", default=512, show_default=True)
@click.option("--height", default=SHEET_HEIGHT, show_default=True)
@click.option(
    "--crop", callback=_ints, default=None,
    help="LEFT,TOP,RIGHT,BOTTOM: show only this box of each picture, in "
    "its pixels (e.g. a border, magnified to --height).",
)  # fmt: skip
def sheet(folders, output, size, height, crop):
    """FOLDERS' pictures at SIZE side by side, and a Markdown table.

    FOLDERS are folders written by `run` (one shows a run alone, e.g. a
    crop at full resolution); the ratios are to the first one's means,
    over the pairs every folder has at SIZE.
    """
    if crop is not None and (
        len(crop) != 4 or crop[0] >= crop[2] or crop[1] >= crop[3]
    ):
        raise click.BadParameter(
            "expected LEFT,TOP,RIGHT,BOTTOM with LEFT < RIGHT and "
            f"TOP < BOTTOM, got {crop}", param_hint="'--crop'",
        )  # fmt: skip
    runs = []
    for folder in folders:
        try:
            with open(os.path.join(folder, RESULTS)) as f:
                results = json.load(f)
        except (OSError, ValueError) as error:
            raise click.ClickException(f"{folder}: {error}") from None
        at_size = {
            r["pair"]: r for r in results["pictures"] if r["size"] == size
        }
        runs.append((folder, results["label"], at_size))
    pairs = sorted(set.intersection(*(set(run[2]) for run in runs)))
    if not pairs:
        raise click.ClickException(f"No pair at {size} px in every folder.")
    references = {
        json.dumps(r[2][p]["reference_settings"]) for r in runs for p in pairs
    }
    if len(references) > 1:
        click.echo("Warning: the folders' reference objectives differ.")
    if len({r[2][p]["backend"] for r in runs for p in pairs}) > 1:
        click.echo("Warning: the folders ran on different backends.")
    rows = []
    table = [_md("pair", "folder", "seconds", "reference total", "own total",
                 "shares at the end: content/style/TV",
                 "grid (photo, painting)")]  # fmt: skip
    table.append("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for pair in pairs:
        panels = []
        for folder, label, records in runs:
            record = records[pair]
            path = os.path.join(folder, record["file"])
            panels.append(_panel(path, _caption(label, record), height, crop))
            table.append(_md(
                f"{record['content']} × {record['style']}", label,
                f"{record['seconds']:.1f}",
                short_float(record["reference_losses"]["total"], 4),
                short_float(record["losses"]["total"], 4),
                _shares(record.get("shares", {}).get("end")),
                _grid(record.get("grid")),
            ))  # fmt: skip
        rows.append(_row(panels))
    table += ["", _md("folder", "mean seconds", "× first",
                      "mean reference total", "× first")]  # fmt: skip
    table.append("| --- | ---: | ---: | ---: | ---: |")
    first = None
    for _, label, records in runs:
        seconds = np.mean([records[p]["seconds"] for p in pairs])
        total = np.mean(
            [records[p]["reference_losses"]["total"] for p in pairs]
        )
        first = first or (seconds, total)
        table.append(_md(
            label, f"{seconds:.1f}", f"{seconds / first[0]:.2f}",
            short_float(total, 4), f"{total / first[1]:.3f}",
        ))  # fmt: skip
    click.echo("\n".join(table))
    _save_column(rows, output)


if __name__ == "__main__":
    main()
