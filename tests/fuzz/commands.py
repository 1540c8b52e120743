"""Whole `keras-nst` command lines for the fuzz tests, as `CliCase`s.

`transfer_case`, `grid_case`, `stylize_case` and `train_case` make a
command with its input files (`images`) and option values (`options`),
good and bad; `interrupt_case` a run long enough to be interrupted.
"""

import dataclasses
import os
import shlex
from collections.abc import Sequence

from tests.fuzz.choosers import Chooser
from tests.fuzz.images import INPUT_KINDS
from tests.fuzz.images import MOSTLY_IMAGES
from tests.fuzz.images import ImageSpec
from tests.fuzz.images import good_image_spec
from tests.fuzz.images import image_spec
from tests.fuzz.options import HUGE_INTEGERS
from tests.fuzz.options import SIZE_SAFE
from tests.fuzz.options import TRAIN_FLAGS
from tests.fuzz.options import TRANSFER_FLAGS
from tests.fuzz.options import bad_value
from tests.fuzz.options import good_value
from tests.fuzz.options import in_mid_band
from tests.fuzz.options import option_args
from tests.fuzz.options import pixel_limit
from tests.fuzz.options import small_layers


@dataclasses.dataclass
class CliCase:
    """One command line, run in a folder that holds `files`.

    Attributes:
        args: the arguments after `keras-nst`, paths relative to the folder.
        files: the input paths to create, and what each holds.
        existing: other files present before the run (name -> bytes),
            e.g. an output that exists already.
        outputs: the files a successful run writes (images first).
        optional: files a successful run may write (snapshots, the log,
            checkpoints).
        category: what the case exercises, for the script's table.
    """

    args: list[str]
    files: dict[str, ImageSpec]
    existing: dict[str, bytes] = dataclasses.field(default_factory=dict)
    outputs: list[str] = dataclasses.field(default_factory=list)
    optional: list[str] = dataclasses.field(default_factory=list)
    category: str = "transfer"

    def __repr__(self) -> str:
        return f"<{self.describe()}>"

    def describe(self) -> str:
        inputs = "; ".join(
            f"{name}: {spec.describe()}" for name, spec in self.files.items()
        )
        return f"keras-nst {' '.join(_quote(a) for a in self.args)}  [{inputs}]"


def _quote(arg: str) -> str:
    return shlex.quote(arg) if len(arg) < 80 else shlex.quote(arg[:40] + "...")


def _name(c: Chooser, stem: str, spec: ImageSpec) -> str:
    prefix = c.choice(("", "", "", "sub dir/", "\u00e9t\u00e9 "))
    return f"{prefix}{stem}{spec.extension}"


def _output_name(c: Chooser, taken: Sequence[str]) -> tuple[str, bytes | None]:
    """An output path, good most of the time; maybe one that exists."""
    kind = c.integer(0, 9)
    if kind <= 4:
        name = c.choice(("out.png", "out.jpg", "o.jpeg", "r.PNG", "x.JPG"))
    elif kind <= 6:
        name = c.choice(("out.gif", "out", "out.webp", "out.png.txt", ".png"))
    elif kind == 7:
        name = c.choice(("no dir/out.png", "out.png/", "sub dir"))
    elif kind == 8 and taken:
        name = c.choice(list(taken))
    else:
        name = c.choice(("out_0001.png", "./out.png", "out {x}.png"))
    existing = b"existing output" if c.boolean(15) else None
    return name, existing


def transfer_case(
    c: Chooser,
    *,
    focus: str | None = None,
    in_process: bool = False,
    image_kinds: Sequence[str] = MOSTLY_IMAGES,
) -> CliCase:
    """`keras-nst transfer` with fuzzed images, options or outputs.

    Args:
        c: where the choices come from.
        focus: `"images"`, `"options"` or `"outputs"`: which part is
            mostly bad; `None` chooses.
        in_process: keep huge sizes that need gigabytes away (the test
            suite runs the command in its own process).
        image_kinds: what the inputs of an `"images"` case hold; fewer
            good images make fewer cases that run the optimisation.
    """
    focus = focus or c.choice(("images", "options", "outputs"))
    kinds = image_kinds if focus == "images" else ("image",)
    pick = image_spec if focus == "images" else good_image_spec
    styles = c.integer(1, 2) if c.boolean(25) else 1
    files: dict[str, ImageSpec] = {}
    content_spec = pick(c) if focus != "images" else image_spec(c, kinds)
    content = _name(c, "content", content_spec)
    files[content] = content_spec
    style_names = []
    for i in range(styles):
        spec = pick(c) if focus != "images" else image_spec(c, kinds)
        name = _name(c, f"style{i}", spec)
        files[name] = spec
        style_names.append(name)
    output, existing = _output_name(c, list(files))
    if focus != "outputs":
        output = c.choice(("out.png", "out.jpg"))
        existing = None
    elif c.boolean(15):
        # A snapshot's name is an input's: `out_0001.png` is not an output
        # the command checks up front, yet a snapshot must not overwrite it.
        spec = files.pop(content)
        content = "out_0001" + spec.extension
        files[content] = spec
        output = "out" + spec.extension
    args = ["transfer"]
    if len(style_names) == 1 and c.boolean(60):
        args += [content, style_names[0]]
    else:
        args += ["-c", content]
        for name in style_names:
            args += ["-s", name]
    args += ["-o", output, "--weights", "random", "-q"]
    args += small_layers(c)
    args += ["--size", str(c.integer(8, 32)), "--iterations", "1"]
    args += ["--refine-iterations", "1"]
    optional: list[str] = []
    stem = os.path.splitext(output)[0]
    if c.boolean(30):
        log = "log.jsonl"
        if focus == "outputs" and c.boolean(50):
            log = c.choice(
                (output, content, "no dir/log.jsonl", "sub dir", "l.png")
            )
        args += ["--log", log]
        optional.append(log)
    if focus == "images" and c.boolean(20):
        init_spec = image_spec(c)
        init = _name(c, "init", init_spec)
        files[init] = init_spec
        args += ["--init", init]
    bad = {"images": 5, "options": 45, "outputs": 10}[focus]
    count = c.integer(1, 5) if focus == "options" else c.integer(0, 2)
    extra = option_args(c, TRANSFER_FLAGS, count, bad, styles, in_process)
    if content.startswith("out_0001"):
        extra += ["--save-every", "1"]
    if focus == "options" and c.boolean(5):
        extra.append("--resume")
    if focus == "images" and c.boolean(8):
        kinds = ("json", "json", *INPUT_KINDS)
        settings_spec = image_spec(c, kinds)
        if settings_spec.kind == "json":
            settings_spec = ImageSpec("json", seed=c.integer(0, 99))
        name = "settings" + (
            ".json" if settings_spec.kind == "json" else settings_spec.extension
        )
        files[name] = settings_spec
        extra += ["--from", name]
    args += extra
    if "--save-every" in extra:
        optional.append(f"{stem}_*{os.path.splitext(output)[1]}")
    if c.boolean(10):
        args.append("-v")
    if c.boolean(8):
        args = [*pixel_limit(c, in_process), *args]
    case = CliCase(args, files, category=f"transfer-{focus}")
    if existing is not None:
        case.existing[output] = existing
    case.outputs = [output]
    case.optional = optional
    return case


def grid_case(c: Chooser, *, in_process: bool = False) -> CliCase:
    """`keras-nst grid` with 1-2 contents and styles, some of them bad."""
    files: dict[str, ImageSpec] = {}
    args = ["grid"]
    # All images good in two cases of five, so that grids get made.
    pick = good_image_spec if c.boolean(40) else image_spec
    for flag, stem in (("-c", "content"), ("-s", "style")):
        for i in range(c.integer(1, 2)):
            spec = pick(c)
            name = _name(c, f"{stem}{i}", spec)
            files[name] = spec
            args += [flag, name]
    output, existing = _output_name(c, list(files))
    args += ["-o", output, "--weights", "random", "-q"]
    args += small_layers(c)
    args += ["--size", str(c.integer(8, 24)), "--iterations", "1"]
    args += ["--refine-iterations", "1"]
    flags = tuple(f for f in TRANSFER_FLAGS if f != "--style-blend")
    flags = (*flags, "--cell-size")
    args += option_args(c, flags, c.integer(0, 3), 30, 1, in_process)
    case = CliCase(args, files, outputs=[output], category="grid")
    if existing is not None:
        case.existing[output] = existing
    return case


def _stylized_name(path: str) -> str:
    """What `stylize` names a result: a PNG, or a video of its own type."""
    stem, extension = os.path.splitext(os.path.basename(path))
    if extension.lower() in (".mp4", ".webm", ".gif"):
        return stem + extension.lower()
    return stem + ".png"


def stylize_case(
    c: Chooser, model: str | None, image_kinds: Sequence[str] = MOSTLY_IMAGES
) -> CliCase:
    """`keras-nst stylize MODEL IMAGES -o DIR`.

    Args:
        c: where the choices come from.
        model: the name of a valid `.keras` network the runner puts in the
            folder, or `None` if there is none (only bad models then).
        image_kinds: what the images hold.
    """
    files: dict[str, ImageSpec] = {}
    model_kind = c.integer(0, 4)
    if model is not None and model_kind <= 2:
        model_name = model
    else:
        spec = image_spec(c, ("random", "empty", "directory", "missing"))
        model_name = "model" + c.choice((".keras", ".h5", ""))
        files[model_name] = spec
    images = []
    for i in range(c.integer(1, 3)):
        spec = image_spec(c, image_kinds)
        name = _name(c, f"photo{i}", spec)
        if name in files or name.startswith("sub dir/"):
            name = f"photo{i}{spec.extension}"
        files[name] = spec
        images.append(name)
    folder = c.choice(("styled", "styled", ".", "no dir/deeper", "photo0.png"))
    args = ["stylize", model_name, *images, "-o", folder]
    if c.boolean(40):
        size = good_value(c, "--size") if c.boolean(60) else bad_value(c, "-")
        if in_mid_band(size):
            size = c.choice(HUGE_INTEGERS)
        args += ["--size", size]
    if c.boolean(20):
        args += ["--batch-size", c.choice(("1", "2", "0", "-1", "x"))]
    outputs = [os.path.join(folder, _stylized_name(p)) for p in images]
    return CliCase(args, files, outputs=outputs, category="stylize")


def _long(value: str) -> bool:
    try:
        return 64 < int(value) < 2**63
    except ValueError:
        return False


def train_case(c: Chooser, *, in_process: bool = False) -> CliCase:
    """`keras-nst train` on a folder of fuzzed content images."""
    files: dict[str, ImageSpec] = {}
    style_spec = image_spec(c, MOSTLY_IMAGES)
    style = f"style{style_spec.extension}"
    files[style] = style_spec
    for i in range(c.integer(1, 3)):
        spec = image_spec(c, MOSTLY_IMAGES)
        files[f"data/p{i}{spec.extension}"] = spec
    data = c.choice(("data", "data", "data", "missing dir", style))
    output = c.choice(("m.keras", "m.keras", "m.h5", "no dir/m.keras"))
    args = ["train", "-s", style, "--data", data, "-o", output]
    args += ["--weights", "random", "-q", "--size", "16", "--steps", "1"]
    args += ["--filters", "2", "--residual-blocks", "0", "--batch-size", "1"]
    args += ["--style-layers", "conv1_2", "--content-layers", "conv1_2"]
    good = {
        "--size": "16", "--style-size": "16", "--batch-size": "2",
        "--steps": "2", "--learning-rate": "0.01", "--filters": "2",
        "--residual-blocks": "1", "--style-weight": "10",
        "--content-weight": "1", "--tv-weight": "0", "--seed": "3",
        "--epochs": "1", "--checkpoint-every": "1", "--sample-every": "1",
        "--workers": "1",
    }  # fmt: skip
    for _ in range(c.integer(0, 3)):
        flag = c.choice(TRAIN_FLAGS)
        value = good[flag] if c.boolean(60) else bad_value(c, flag)
        if flag in ("--steps", "--epochs") and _long(value):
            # A valid count that large trains for days: make it one that
            # no index can hold.
            value = "1" + "0" * 40
        elif in_process and flag in SIZE_SAFE and in_mid_band(value):
            value = c.choice(HUGE_INTEGERS)
        args += [flag, value]
    stem = os.path.splitext(output)[0]
    return CliCase(
        args,
        files,
        outputs=[output],
        optional=[f"{stem}_checkpoint/*", f"{stem}_checkpoint"],
        category="train",
    )


def interrupt_case(c: Chooser) -> CliCase:
    """A run long enough to be interrupted, on two good images."""
    content, style = good_image_spec(c), good_image_spec(c)
    files = {
        "content" + content.extension: content,
        "style" + style.extension: style,
    }
    output = c.choice(("out.png", "out.jpg"))
    args = ["transfer", *files, "-o", output, "--weights", "random", "-q"]
    args += ["--size", str(c.integer(16, 40)), "--iterations", "1000000"]
    args += ["--refine-iterations", "1"]
    args += ["--style-layers", "conv1_1", "--content-layers", "conv1_2"]
    args += ["--log", "log.jsonl"]
    # The picture so far and the state to resume from, written on a stop.
    optional = ["log.jsonl", f"{output}.state.npz"]
    if c.boolean(50):
        args += ["--save-every", str(c.integer(1, 50))]
        optional.append(f"out_*{os.path.splitext(output)[1]}")
    if c.boolean(30):
        args += ["--optimizer", "lbfgs"]
    return CliCase(
        args, files, outputs=[output], optional=optional, category="interrupt"
    )
