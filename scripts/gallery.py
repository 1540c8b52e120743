"""Builds the documentation's gallery from the shipped example images.

    python scripts/gallery.py                  # every figure (~25 min, 2 cores)
    python scripts/gallery.py --only grid,init # some of them
    python scripts/gallery.py --page-only      # the page, from the record

Each figure is made by the commands a user would type (the `keras-nst` CLI
and the other scripts here), run in a scratch folder `out/`; the final
picture is copied to `docs/gallery/NAME.jpg`. The page `docs/gallery.md` is
written from FIGURES below: every figure with the exact commands that made
it, what they printed, and how long they took, so the page can't drift from
the pictures. Figures not rebuilt keep their last entry (kept in
`docs/gallery/record.json`).
"""

import dataclasses
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

import click
from notation import short_float

from keras_nst.hardware import cpu_name

DOCS = "docs"
GALLERY = os.path.join(DOCS, "gallery")
RECORD = os.path.join(GALLERY, "record.json")
PAGE = os.path.join(DOCS, "gallery.md")
SCRATCH = "out"  # how the scratch folder appears in the printed commands

ASTRONAUT = "examples/astronaut.png"
CAT = "examples/chelsea.png"
STARRY = "examples/starry_night.jpg"
SCREAM = "examples/the_scream.jpg"
COMPARE = "python scripts/compare.py"
# The single-scale run that was the default before the coarse-to-fine
# schedule, as overrides of today's defaults.
SINGLE_SCALE = " ".join(
    f"--set {setting}"
    for setting in (
        "scales=1", "iterations=500", "refine_iterations=none",
        "average_decay=0", "padding=zero", "tv_reduction=sum",
        "tv_weight=1e-3",
    )
)  # fmt: skip
# The average pooling and style weight of the defaults before max pooling.
AVERAGE_POOLING = "--set pooling=avg --set style_weight=3e6"
QUALITY = "python scripts/quality.py"
EARLIER_DEFAULTS = (
    "the defaults of 2026-11-25 (average pooling, style weight 3e6, one "
    "scale, VGG19's zero padding, total variation 1e-3 summed, no moving "
    "average)"
)


@dataclasses.dataclass(frozen=True)
class Figure:
    name: str
    title: str
    text: str
    commands: tuple[str, ...]
    # What the commands leave in out/ and the page shows, in order.
    files: tuple[str, ...] = ()
    # The defaults the pictures were made with, where they are not today's.
    made_with: str = ""

    @property
    def pictures(self) -> tuple[str, ...]:
        return self.files or (f"{self.name}.jpg",)


def _transfer(output: str, *options: str) -> str:
    return " ".join(
        ("keras-nst transfer", ASTRONAUT, STARRY, "-o", output, *options)
    )


FIGURES = (
    Figure(
        "grid",
        "Results matrix",
        "Styles across, contents down, the inputs in the first row and "
        "column: `gatys` preset, 256 px, 100 L-BFGS steps per cell.",
        (
            f"keras-nst grid -c {ASTRONAUT} -c {CAT} -s {STARRY} -s {SCREAM} "
            "-o out/grid.jpg --size 256 --iterations 100 --optimizer lbfgs",
        ),
        made_with=EARLIER_DEFAULTS,
    ),
    Figure(
        "fast",
        "Fast style transfer",
        "The example network `examples/models/starry_night.keras` (trained "
        "with `keras-nst train` on `examples/photos/`, which holds neither "
        "photo) stylises each picture in one forward pass.",
        (
            "keras-nst stylize examples/models/starry_night.keras "
            f"{ASTRONAUT} {CAT} -o out/fast --size 256",
            f"{COMPARE} panel {ASTRONAUT} out/fast/astronaut.png {CAT} "
            "out/fast/chelsea.png -o out/fast.jpg --height 256 "
            "--labels photo,stylised,photo,stylised",
        ),
    ),
    Figure(
        "style_normalization",
        "Balanced style layers",
        "Left, `--style-normalization none` with style weight 1e-2: "
        "conv4_1 makes up ~97% of the style loss and the suit keeps its "
        "photo colour. Then `target` normalisation, where every layer "
        "counts and the painting's colours come through, with style weight "
        "1e6 (mild), 3e6 (the `gatys` default) and 1e7 (the face starts to "
        "wash out). 200 Adam steps.",
        (
            _transfer(
                "out/none.png",
                "--size 256 --iterations 200",
                "--style-normalization none --style-weight 1e-2",
            ),  # fmt: skip
            *(
                _transfer(
                    f"out/target_{beta}.png",
                    "--size 256 --iterations 200",
                    f"--style-weight {beta}",
                )  # fmt: skip
                for beta in ("1e6", "3e6", "1e7")
            ),
            f"{COMPARE} panel out/none.png out/target_1e6.png "
            "out/target_3e6.png out/target_1e7.png -o out/style_normalization"
            ".jpg --labels 'none 1e-2,target 1e6,target 3e6 (gatys),"
            "target 1e7'",
        ),
        made_with=EARLIER_DEFAULTS,
    ),
    Figure(
        "content_layer",
        "Content layer conv4_2 or conv2_2",
        "Matching the photo at conv2_2 keeps its "
        "fine detail; conv4_2 (Gatys et al.) leaves room for the style. "
        "The totals are not comparable: each layer's loss has its own "
        "scale.",
        (
            f"{COMPARE} vary content_layers conv4_2 conv2_2 "
            "-o out/content_layer.jpg",
        ),
        made_with=EARLIER_DEFAULTS,
    ),
    Figure(
        "init",
        "Start from the photo or from noise",
        "Starting from noise (seed 0), 100 steps are not "
        "enough to bring back the face; starting from the photo is.",
        (f"{COMPARE} vary init content noise -o out/init.jpg",),
        made_with=EARLIER_DEFAULTS,
    ),
    Figure(
        "pooling",
        "Max or average pooling",
        "Same convolution weights and style weight; with max pooling much "
        "more of the photo survives. Gatys et al. prefer average pooling; "
        "the default is max pooling with a larger style weight, whose "
        "mesh is fainter up to 512 px (see below).",
        (f"{COMPARE} vary pooling max avg -o out/pooling.jpg",),
        made_with=EARLIER_DEFAULTS,
    ),
    Figure(
        "preserve_color",
        "Keeping the photo's colours",
        "`luminance` paints only the brightness and puts back the photo's "
        "colour channels; `histogram` first gives the painting the photo's "
        "colour mean and covariance (Gatys et al. 2016b). Losses are not "
        "comparable across modes: each has its own targets.",
        (
            f"{COMPARE} vary preserve_color none luminance histogram "
            "-o out/preserve_color.jpg",
        ),
        made_with=EARLIER_DEFAULTS,
    ),
    Figure(
        "style_blend",
        "Two paintings at once",
        "The Gram targets of Starry Night and The Scream blended half and "
        "half.",
        (
            f"keras-nst transfer {ASTRONAUT} -s {STARRY} -s {SCREAM} "
            "--style-blend 0.5,0.5 -o out/blend.png --size 256 "
            "--iterations 200",
            f"{COMPARE} panel {STARRY} out/blend.png {SCREAM} "
            "-o out/style_blend.jpg --labels 'Starry Night,blend 0.5/0.5,"
            "The Scream'",
        ),
        made_with=EARLIER_DEFAULTS,
    ),
    Figure(
        "optimizers",
        "Adam and L-BFGS at equal gradient evaluations",
        "100 steps each, one gradient per step. L-BFGS (history 20, unit "
        "steps) ends lower; the loss curves come from the `--log` files.",
        (
            *(
                _transfer(
                    f"out/{name}.png",
                    "--size 256 --iterations 100",
                    f"--optimizer {name} --log out/{name}.jsonl",
                )  # fmt: skip
                for name in ("adam", "lbfgs")
            ),
            "keras-nst plot out/adam.jsonl out/lbfgs.jsonl -o out/curves.png",
            f"{COMPARE} panel out/adam.png out/lbfgs.png "
            "-o out/optimizers.jpg --labels Adam,L-BFGS",
        ),
        files=("optimizers.jpg", "curves.png"),
    ),
    Figure(
        "strip",
        "The picture over the iterations",
        "The image every 25 Adam steps from the photo. "
        "Then the same frames as an animation.",
        (f"{COMPARE} strip --every 25 -o out/strip.jpg --gif out/strip.gif",),
        files=("strip.jpg", "strip.gif"),
    ),
    Figure(
        "quality",
        "Borders and the default schedule",
        "Left, the single-scale run: 500 Adam steps at 512 px, zero "
        "padding. Right, the coarse-to-fine schedule: 150 steps at 256 px, "
        "60 at 362 px and 60 at 512 px, with the moving average and "
        "replicate padding, in 25-30% of the time. Both with the average "
        "pooling and style weight 3e6 of the time (the `--set` values are "
        "today's equivalents). The totals are the single-scale run's own "
        "objective (`scripts/quality.py`'s reference), so both are judged "
        "by the same loss: the schedule ends 7% and 28% above it, with "
        "smoother flat regions and a style loss up to twice as high. "
        "Below, the top 64 rows magnified: "
        "with zero padding the border washes out into a bright band. Both "
        "still show a fine cross-hatching in flat regions (see the next "
        "figure). "
        "These runs: PyTorch backend, one thread each, the two folders "
        "side by side on the two cores.",
        (
            f"{QUALITY} run -o out/quality/single_scale --pairs 0,1 "
            f"--label 'single scale' {SINGLE_SCALE} {AVERAGE_POOLING}",
            f"{QUALITY} run -o out/quality/schedule --pairs 0,1 "
            f"--label default {AVERAGE_POOLING}",
            f"{QUALITY} sheet out/quality/single_scale out/quality/schedule "
            "-o out/quality.jpg",
            f"{QUALITY} sheet out/quality/single_scale out/quality/schedule "
            "-o out/quality_border.jpg --crop 0,0,512,64 --height 96",
        ),
        files=("quality.jpg", "quality_border.jpg"),
    ),
    Figure(
        "mesh",
        "Average pooling's mesh and the max-pooled default",
        "Left, the schedule with average pooling and style weight 3e6, "
        "the default before this figure; right, today's default: VGG19's "
        "max pooling and style weight 1e7. Below, the top right corner "
        "of each picture (the wall and the rocket; the cat's ear), "
        "magnified twice: average pooling paints a mesh of horizontal and "
        "vertical stripes 3 to 5 px apart, which lowers its own style "
        "loss; with max pooling the strokes are crisper and what is left "
        "of a mesh is fainter and finer (about 2 px). "
        "The grid index (`scripts/grid_measure.py`) measures the mesh: "
        "photos and paintings score 1 to 2. The reference total is the "
        "average-pooled objective, which rewards the mesh. These runs: "
        "PyTorch backend, one thread each, the two folders side by side on "
        "the two cores.",
        (
            f"{QUALITY} run -o out/quality/avg --pairs 0,1 "
            f"--label 'average pooling, style 3e6' {AVERAGE_POOLING}",
            f"{QUALITY} run -o out/quality/default --pairs 0,1 "
            "--sizes 256,512 --label 'default: max pooling, style 1e7'",
            f"{QUALITY} sheet out/quality/avg out/quality/default "
            "-o out/mesh.jpg",
            f"{QUALITY} sheet out/quality/avg out/quality/default "
            "-o out/mesh_crop.jpg --crop 330,0,512,140 --height 280",
        ),
        files=("mesh.jpg", "mesh_crop.jpg"),
    ),
    Figure(
        "default_1024",
        "The default at 1024 px",
        "The default schedule to 1024 px: 150 steps at 256 px, then 60 "
        "at each of 362, 512, 724 and 1024 px. Starry Night's file is "
        "1024 px wide, so at 724 and 1024 px the default `--style-detail "
        "0.5` takes it through 512 px and enlarges it again; below, the "
        "top right corner at full size: brush strokes and no mesh (grid "
        "index 0.80, the photo 1.27; 3.14 when the painting was used at "
        "its own resolution, "
        "[Results](results.md#the-same-weights-at-every-size)). "
        "PyTorch backend, one thread, the other core busy with the "
        "2048 px run for most of the time.",
        (
            f"{QUALITY} run -o out/quality/default_1024 --pairs 0 "
            "--sizes 1024 --label default",
            f"{QUALITY} sheet out/quality/default_1024 --size 1024 "
            "-o out/default_1024.jpg --height 512",
            f"{QUALITY} sheet out/quality/default_1024 --size 1024 "
            "-o out/default_1024_crop.jpg --crop 660,0,1024,280 --height 280",
        ),
        files=("default_1024.jpg", "default_1024_crop.jpg"),
    ),
    Figure(
        "default_2048",
        "The default weights at 2048 px",
        "The default weights and schedule to 2048 px (seven scales from "
        "256 px), cut to 10 steps at each scale after the first so it "
        "fits a CPU: 36 minutes on one thread (the other core busy with "
        "the 1024 px run), peak resident memory 11.8 GB. The cat photo is "
        "451 px wide, so at 2048 px it is itself soft. Below, a part at "
        "full size: with so few steps at the top scales the texture is "
        "still blocky, and the style term holds 83% of the loss at the "
        "end (17% to 42% with the default 60 steps up to 1024 px). "
        "PyTorch backend.",
        (
            f"{QUALITY} run -o out/quality/default_2048 --pairs 1 "
            "--sizes 2048 --label default --set refine_iterations=10",
            f"{QUALITY} sheet out/quality/default_2048 --size 2048 "
            "-o out/default_2048.jpg --height 512",
            f"{QUALITY} sheet out/quality/default_2048 --size 2048 "
            "-o out/default_2048_crop.jpg --crop 1300,0,1900,400 "
            "--height 400",
        ),
        files=("default_2048.jpg", "default_2048_crop.jpg"),
    ),
    Figure(
        "multiscale",
        "Coarse to fine",
        "`--scales 2`: 100 L-BFGS steps at 362 px, then the result "
        "upsampled and 100 more at 512 px, with the style targets "
        "recomputed at each size.",
        (
            f"keras-nst transfer {CAT} {STARRY} -o out/multiscale.jpg "
            "--size 512 --scales 2 --iterations 100 --refine-iterations 100 "
            "--optimizer lbfgs",
        ),
        made_with=EARLIER_DEFAULTS,
    ),
)


def _run(command: str, scratch: str) -> str:
    argv = shlex.split(command.replace(f"{SCRATCH}/", f"{scratch}/"))
    if argv[0] == "python":
        argv[0] = sys.executable
    elif argv[0] == "keras-nst":
        argv[0] = os.path.join(os.path.dirname(sys.executable), "keras-nst")
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise click.ClickException(
            f"{command!r} failed:\n{result.stdout}{result.stderr}"
        )
    # A run's progress goes to stderr; its summary line is kept.
    summaries = [
        line for line in result.stderr.splitlines() if RUN_SUMMARY.match(line)
    ]
    lines = [
        line.replace(scratch, SCRATCH)
        for line in [*result.stdout.splitlines(), *summaries]
        if line.strip() and not line.startswith("Wrote")
    ]
    return "\n".join(lines)


RUN_SUMMARY = re.compile(r"^\d+ steps in \d")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Keras' final bar: "100/100 ━━━━ 44s 435ms/step - content: 9.9e4 - ..."
FINAL_BAR = re.compile(r"^(\d+)/\1 \S+ (\S+) (\S+)/step - (.*)$")
PROGRESS = re.compile(r"^\s*(\d+)/\d+ ")


def _losses(line: str) -> str:
    return line.partition(" - ")[2]


def _clean(printed: str) -> str:
    """Drops colours, and keeps only the final line of each progress bar.

    A bar's line is an update if the next line is the same bar further on:
    a later step, or the same step with the same losses (Keras prints the
    last step twice, the second time with the elapsed time). A run's last
    line is followed by text or by the next run's bar.
    """
    lines = [ANSI.sub("", line).replace("\b", "").strip() for line in
             printed.splitlines()]  # fmt: skip
    kept = []
    for line, after in zip(lines, [*lines[1:], ""][: len(lines)], strict=True):
        bar, next_bar = PROGRESS.match(line), PROGRESS.match(after)
        update = (
            bar
            and next_bar
            and (
                int(next_bar[1]) > int(bar[1])
                or (next_bar[1] == bar[1] and _losses(after) == _losses(line))
            )
        )
        if line and not update:
            kept.append(_summary(line))
    return "\n".join(kept)


def _summary(line: str) -> str:
    """A final progress bar as one short line, the total first."""
    match = FINAL_BAR.match(line)
    if not match:
        return line
    steps, elapsed, _, metrics = match.groups()
    values = dict(item.split(": ") for item in metrics.split(" - "))
    order = ["total", *sorted(name for name in values if name != "total")]
    terms = ", ".join(
        f"{name} {short_float(float(values[name]), 3)}" for name in order
    )
    return f"{steps} steps in {elapsed}: {terms}"


def build(figure: Figure, scratch: str) -> dict:
    """Runs a figure's commands; returns what the page says about it."""
    start = time.perf_counter()
    printed = [_run(command, scratch) for command in figure.commands]
    seconds = time.perf_counter() - start
    os.makedirs(GALLERY, exist_ok=True)
    for name in figure.pictures:
        shutil.copyfile(
            os.path.join(scratch, name), os.path.join(GALLERY, name)
        )
    return {
        "printed": _clean("\n".join(text for text in printed if text)),
        "seconds": round(seconds),
    }


def _display(command: str, width: int = 78) -> str:
    """The command wrapped with backslashes, an option kept with its value."""
    words = []
    for word in map(shlex.quote, shlex.split(command)):
        if words and words[-1].startswith("-") and not word.startswith("-"):
            words[-1] += " " + word
        else:
            words.append(word)
    lines = [words[0]]
    for word in words[1:]:
        if len(lines[-1]) + len(word) + 3 > width:
            lines[-1] += " \\"
            lines.append("    " + word)
        else:
            lines[-1] += " " + word
    return "\n".join(lines)


def write_page(record: dict) -> None:
    lines = [
        "# Gallery",
        "",
        "<!-- Written by scripts/gallery.py; edit FIGURES there. -->",
        "",
        "Every picture here comes from the commands under it, with the "
        "ImageNet VGG19 weights on the TensorFlow backend and the example "
        "images in `examples/`, written to a folder `out/`; "
        "`python scripts/gallery.py` runs them all.",
        "",
        f"Machine: {record.get('machine', 'unknown')}.",
        "",
    ]
    for figure in FIGURES:
        entry = record["figures"].get(figure.name)
        if entry is None:
            continue
        lines += [f"## {figure.title}", "", figure.text, ""]
        if figure.made_with:
            lines += [
                f"*Made with {figure.made_with}; run again, its "
                "commands paint with today's defaults.*",
                "",
            ]
        lines += [
            f"![{figure.title}](gallery/{name})" for name in figure.pictures
        ]
        lines += [""]
        lines += ["```bash", *map(_display, figure.commands), "```", ""]
        printed = entry["printed"]
        if printed:
            lines += ["Printed:", "", "```text", printed, "```", ""]
        lines += [f"Took {entry['seconds']} s.", ""]
    with open(PAGE, "w", encoding="utf-8") as file:
        file.write("\n".join(lines))


def _read_record() -> dict:
    if not os.path.exists(RECORD):
        return {"figures": {}}
    with open(RECORD, encoding="utf-8") as file:
        return json.load(file)


@click.command()
@click.option("--only", help="Comma-separated figure names (default: all).")
@click.option(
    "--page-only",
    is_flag=True,
    help="Rewrite docs/gallery.md from the record; run nothing.",
)
def main(only, page_only):
    """Makes the gallery's figures and writes docs/gallery.md."""
    names = [figure.name for figure in FIGURES]
    chosen = only.split(",") if only else names
    for name in chosen:
        if name not in names:
            raise click.BadParameter(f"{name!r}; expected one of {names}")
    if page_only:
        write_page(_read_record())
        click.echo(f"Wrote {PAGE}")
        return
    machine = f"{cpu_name()}, {os.cpu_count()} cores"
    with tempfile.TemporaryDirectory() as scratch:
        for figure in FIGURES:
            if figure.name not in chosen:
                continue
            click.echo(f"{figure.name} ...", nl=False)
            entry = build(figure, scratch)
            click.echo(f" {entry['seconds']} s")
            # Read again: another run may have recorded its figures since.
            record = _read_record()
            record["machine"] = machine
            record["figures"][figure.name] = entry
            with open(RECORD, "w", encoding="utf-8") as file:
                json.dump(record, file, indent=1)
            write_page(record)
    click.echo(f"Wrote {PAGE}")


if __name__ == "__main__":
    main()
