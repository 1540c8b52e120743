"""scripts/gallery.py: the record that docs/gallery.md is written from."""

import importlib.util
import json
import os

import pytest
from click.testing import CliRunner

_SCRIPTS = os.path.join(os.path.dirname(__file__), "..", "scripts")


@pytest.fixture
def gallery(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(_SCRIPTS)
    path = os.path.join(_SCRIPTS, "gallery.py")
    spec = importlib.util.spec_from_file_location("gallery", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "RECORD", str(tmp_path / "record.json"))
    monkeypatch.setattr(module, "PAGE", str(tmp_path / "gallery.md"))
    monkeypatch.setattr(
        module,
        "FIGURES",
        tuple(
            module.Figure(name, name.title(), f"About {name}.", ("echo",))
            for name in ("first", "second")
        ),
    )
    return module


def test_a_run_keeps_figures_another_run_recorded_meanwhile(
    gallery, monkeypatch
):
    def build(figure, scratch):
        # Another `--only second` run finishes while this one builds.
        with open(gallery.RECORD, "w", encoding="utf-8") as file:
            json.dump(
                {"figures": {"second": {"printed": "", "seconds": 2}}}, file
            )
        return {"printed": "made", "seconds": 1}

    monkeypatch.setattr(gallery, "build", build)
    result = CliRunner().invoke(gallery.main, ["--only", "first"])
    assert result.exit_code == 0, result.output
    with open(gallery.RECORD, encoding="utf-8") as file:
        figures = json.load(file)["figures"]
    assert figures == {
        "first": {"printed": "made", "seconds": 1},
        "second": {"printed": "", "seconds": 2},
    }
    with open(gallery.PAGE, encoding="utf-8") as file:
        page = file.read()
    assert "## First" in page and "## Second" in page
    assert "Took 1 s." in page and "Took 2 s." in page


def test_page_only_writes_the_page_from_the_record(gallery):
    with open(gallery.RECORD, "w", encoding="utf-8") as file:
        json.dump({"figures": {"first": {"printed": "", "seconds": 3}}}, file)
    result = CliRunner().invoke(gallery.main, ["--page-only"])
    assert result.exit_code == 0, result.output
    with open(gallery.PAGE, encoding="utf-8") as file:
        page = file.read()
    assert "## First" in page and "Took 3 s." in page
    assert "## Second" not in page
