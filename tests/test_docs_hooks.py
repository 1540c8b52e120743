"""The MkDocs hook that fills the docs' tables and values from the code."""

import glob
import importlib.util
import json
import os

import pytest

from keras_nst import presets
from keras_nst import weights
from keras_nst.fast import config as train_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def hooks():
    path = os.path.join(ROOT, "docs", "hooks.py")
    spec = importlib.util.spec_from_file_location("docs_hooks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_values_come_from_the_presets_and_training_defaults(hooks):
    page = (
        "{{ gatys.style_weight }}, {{ train.steps }}, "
        "{{ gatys2016_sum.pooling }}"
    )
    weight, steps, pooling = hooks.on_page_markdown(page).split(", ")
    assert float(weight) == presets.PRESETS["gatys"].config.style_weight
    assert int(steps) == train_config.TrainConfig().steps
    assert pooling == presets.PRESETS["gatys2016_sum"].config.pooling


@pytest.mark.parametrize(
    "value, text",
    [(3e6, "3e6"), (2.5e-5, "2.5e-5"), (0.001, "0.001"), (10.0, "10")],
)
def test_numbers_read_like_the_papers(hooks, value, text):
    assert hooks._number(value) == text


@pytest.mark.parametrize(
    "page", ["{{ nopreset.size }}", "{{ gatys.no_such_setting }}"]
)
def test_unknown_values_stop_the_build(hooks, page):
    with pytest.raises(KeyError):
        hooks.on_page_markdown(page)


def test_unknown_table_stops_the_build(hooks):
    with pytest.raises(KeyError, match="no-such-table"):
        hooks.on_page_markdown("x\n<!-- from-code: no-such-table -->\ny")


def test_presets_table_lists_every_preset_and_what_differs(hooks):
    table = hooks.on_page_markdown("<!-- from-code: presets -->")
    for name, preset in presets.PRESETS.items():
        assert f"| `{name}` | {preset.description} |" in table
    rows = table.splitlines()
    row = next(r for r in rows if r.startswith("| iterations |"))
    for preset in presets.PRESETS.values():
        assert f"`{preset.config.iterations}`" in row
    assert "The same in every preset:" in table


def test_weights_table_shows_the_checked_hash(hooks):
    table = hooks.on_page_markdown("<!-- from-code: weights-file -->")
    assert weights.WEIGHTS_MD5 in table
    assert f"{weights.WEIGHTS_SIZE:,} bytes" in table


def test_benchmark_tables_have_a_row_per_record(hooks):
    with open(os.path.join(ROOT, "docs", "bench_cpu.json")) as f:
        records = json.load(f)
    table = hooks.on_page_markdown("<!-- from-code: bench-cpu -->")
    rows = table.splitlines()[2:]
    assert len(rows) == len(records)
    first = records[0]
    assert rows[0].startswith(
        f"| {first['backend']} | {first['size']} | - | {first['precision']} |"
    )
    assert f"{first['ms_per_iter']:.1f}" in rows[0]

    fast = hooks.on_page_markdown("<!-- from-code: bench-fast-cpu -->")
    with open(os.path.join(ROOT, "docs", "bench_fast_cpu.json")) as f:
        fast_records = json.load(f)
    backends = {r["backend"] for r in fast_records}
    assert len(fast.splitlines()) == 2 + len(backends)
    for r in fast_records:
        value = r.get("ms_per_image", r.get("ms_per_step"))
        assert f"{value:.0f} ms" in fast


def test_every_marker_in_the_docs_is_known(hooks):
    for path in glob.glob(
        os.path.join(ROOT, "docs", "**", "*.md"), recursive=True
    ):
        with open(path) as f:
            text = f.read()
        for name in hooks.MARKER.findall(text):
            assert name in hooks.TABLES, f"{path}: {name}"
        hooks.on_page_markdown(text)  # raises on an unknown value


def test_cli_reference_lists_every_command_with_grouped_options(hooks):
    from keras_nst import cli

    page = hooks.on_page_markdown("<!-- from-code: cli-reference -->")
    headings = [
        line[4:-1] for line in page.splitlines() if line.startswith("## `")
    ]
    assert headings[0] == "keras-nst transfer"
    expected = {f"keras-nst {name}" for name in cli.main.commands}
    assert expected <= set(headings)
    transfer = page.split("## `keras-nst grid`")[0]
    for group in ("**Images**", "**Losses**", "**Output**", "**Run**"):
        assert group in transfer
    assert "| `--web [PORT]` |" in transfer
    assert "| `--size INTEGER RANGE` |" in transfer
    assert "`512`" in transfer  # the default, in its own column


@pytest.mark.parametrize("kind", ["avx512", "avx2"])
def test_each_kind_of_cpu_has_its_table(hooks, kind):
    with open(os.path.join(ROOT, "docs", f"bench_cpu_{kind}.json")) as f:
        records = json.load(f)
    text = hooks.on_page_markdown(f"<!-- from-code: bench-cpu-{kind} -->")
    caption, _, table = text.partition("\n\n")
    assert records[0]["cpu"] in caption
    assert {"avx512": "AVX-512", "avx2": "AVX2"}[kind] in caption
    rows = table.splitlines()[2:]
    assert len(rows) == len(records)
    for row, record in zip(rows, records, strict=True):
        assert row.startswith(f"| {record['backend']} | {record['size']} |")
        assert f"{record['ratio_to_native']:.2f}" in row
