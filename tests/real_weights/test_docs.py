"""The Python code on the documentation's pages runs as written.

Each page's ```python blocks run in order in one namespace, in a scratch
folder that holds the repository's `examples/`. Only the run length is cut
so the test takes seconds: every `size=256` becomes `size=64`, and step
counts (`iterations=`, `every=` and the first argument of `optimize(`) are
divided by 50.
"""

import contextlib
import io
import json
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))

pytestmark = pytest.mark.real_weights


def python_blocks(page: str) -> list[str]:
    with open(os.path.join(ROOT, page), encoding="utf-8") as file:
        text = file.read()
    return re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)


def shorten(code: str) -> str:
    def fiftieth(match):
        return f"{match.group(1)}{max(1, int(match.group(2)) // 50)}"

    code = code.replace("size=256", "size=64")
    code = re.sub(r"(iterations=|every=)(\d+)", fiftieth, code)
    return re.sub(r"(optimize\(\s*)(\d+)", fiftieth, code)


def run_page(page: str, folder) -> str:
    os.symlink(os.path.join(ROOT, "examples"), folder / "examples")
    namespace = {"__name__": "__docs__"}
    printed = io.StringIO()
    with contextlib.chdir(folder), contextlib.redirect_stdout(printed):
        for block in python_blocks(page):
            exec(compile(shorten(block), page, "exec"), namespace)  # noqa: S102
    return printed.getvalue()


def test_shorten_cuts_sizes_and_steps():
    code = "f(size=256, iterations=200)\nm.optimize(\n    300,\n)\nS(every=100)"
    assert (
        shorten(code)
        == "f(size=64, iterations=4)\nm.optimize(\n    6,\n)\nS(every=2)"
    )


def test_library_guide_runs(tmp_path):
    assert len(python_blocks("docs/library.md")) == 7
    printed = run_page("docs/library.md", tmp_path)
    assert "('block4_conv2',) ('block1_conv1', 'block3_conv1')" in printed
    assert (tmp_path / "astronaut_starry_night.png").is_file()
    assert (tmp_path / "cat.png").is_file()
    # optimize(300) -> 6 steps with a snapshot every 2.
    assert sorted(os.listdir(tmp_path / "snaps")) == [
        "cat_0002.png", "cat_0004.png", "cat_0006.png",
    ]  # fmt: skip
    with open(tmp_path / "losses.jsonl", encoding="utf-8") as file:
        records = [json.loads(line) for line in file]
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5, 6]
    lines = printed.splitlines()
    assert "2" in lines  # KeepEvery kept a frame at each of its 2 steps


def test_readme_python_runs(tmp_path):
    blocks = python_blocks("README.md")
    if not blocks:
        pytest.skip("The README has no Python code.")
    run_page("README.md", tmp_path)
