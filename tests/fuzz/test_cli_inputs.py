"""Property-based tests of the command line's input handling.

Each example writes generated files to a fresh folder and runs one
`keras-nst` command there with Click's `CliRunner`; `check_cli_result`
then checks the contract: exit 0 and valid outputs, or a non-zero exit
with a one-line `Error:` (Click's usage block for exit 2), and never a
traceback, a changed input, a file left behind by a failed run or a
`.keras-nst-*` temporary.

The optimisation itself is replaced (`fake_optimisation`): VGG19 and the
optimiser steps are the only parts left out, so every check the library
makes of images and settings runs as in a real run. `scripts/fuzz_cli.py`
runs the real command line, VGG19 included.
"""

import contextlib
import os
import shutil
import sys
import tempfile
import warnings
from unittest import mock

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import event
from hypothesis import example
from hypothesis import given
from hypothesis import settings

from keras_nst import cli
from tests.fuzz.choosers import cases
from tests.fuzz.choosers import fuzz_settings
from tests.fuzz.commands import CliCase
from tests.fuzz.commands import grid_case
from tests.fuzz.commands import stylize_case
from tests.fuzz.commands import train_case
from tests.fuzz.commands import transfer_case
from tests.fuzz.contract import check_cli_result
from tests.fuzz.contract import first_line
from tests.fuzz.contract import write_case
from tests.fuzz.fakes import fake_optimisation
from tests.fuzz.images import ImageSpec

FUZZ = fuzz_settings(max_examples=60)


@contextlib.contextmanager
def fake_training():
    """`keras-nst train` reads the style and a batch of crops, no fit."""
    from keras_nst import fast
    from keras_nst.atomic import atomic_write

    class Trainer:
        history = None

    def train(style, data, output, config, **run):
        from keras_nst.image_io import load_image

        load_image(style, config.style_size or config.size)
        crops = fast.RandomCrops(
            data, config.size, config.batch_size, 1, config.seed
        )
        crops[0]
        if run.get("sample"):
            load_image(run["sample"], config.size)

        def write(path):
            with open(path, "wb") as file:
                file.write(b"network")

        atomic_write(output, write)
        return Trainer()

    with mock.patch.object(fast, "train", train):
        yield


@contextlib.contextmanager
def printed_warnings():
    """Warnings print to stderr as outside pytest, which records them.

    Python's default filters apply (no deprecation warnings), except that
    every warning shows, not only the first from each place.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        for category in (
            DeprecationWarning,
            PendingDeprecationWarning,
            ImportWarning,
            ResourceWarning,
        ):
            warnings.filterwarnings("ignore", category=category)

        def show(message, category, filename, lineno, file=None, line=None):
            text = warnings.formatwarning(
                message, category, filename, lineno, line
            )
            sys.stderr.write(text)

        warnings.showwarning = show
        yield


def run_case(case: CliCase, extra_files=None) -> list[str]:
    """Runs `case` in a fresh folder; returns the contract's violations."""
    with tempfile.TemporaryDirectory() as folder:
        for name, source in (extra_files or {}).items():
            shutil.copy(source, os.path.join(folder, name))
        before = write_case(case, folder)
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            with printed_warnings():
                result = CliRunner().invoke(cli.main, case.args)
        finally:
            os.chdir(cwd)
        # `pytest --hypothesis-show-statistics` shows how the runs ended.
        event(f"exit {result.exit_code}")
        problems = check_cli_result(
            case, folder, before, result.exit_code, result.output
        )
        error = result.exception
        if error is not None and not isinstance(error, SystemExit):
            problems.append(
                f"uncaught {type(error).__module__}.{type(error).__name__}: "
                f"{first_line(error)}"
            )
        if problems:
            return [
                *problems,
                f"case: {case.describe()}",
                f"exit code {result.exit_code}, output:",
                result.output[-2000:],
            ]
        return []


def assert_contract(case, extra_files=None):
    problems = run_case(case, extra_files)
    assert not problems, "\n".join(problems)


@FUZZ
@given(cases(transfer_case, focus="images", in_process=True))
def test_transfer_any_image_file(case):
    with fake_optimisation():
        assert_contract(case)


@FUZZ
@given(cases(transfer_case, focus="options", in_process=True))
def test_transfer_any_option_values(case):
    with fake_optimisation():
        assert_contract(case)


@FUZZ
@given(cases(transfer_case, focus="outputs", in_process=True))
# A log named like a picture holds JSON lines all the same.
@example(
    CliCase(
        ["transfer", "-c", "content.png", "-s", "style0.png", "-o",
         "out.png", "--weights", "random", "-q", "--style-layers",
         "conv1_1", "--content-layers", "conv1_2", "--size", "8",
         "--iterations", "1", "--refine-iterations", "1", "--log", "l.png"],
        {"content.png": ImageSpec("image"), "style0.png": ImageSpec("image")},
        outputs=["out.png"], optional=["l.png"], category="transfer-outputs",
    )
)  # fmt: skip
def test_transfer_any_output_and_log_path(case):
    with fake_optimisation():
        assert_contract(case)


@settings(FUZZ, max_examples=40)
@given(cases(grid_case, in_process=True))
# Too small for the layers in the second row: refused before any cell.
@example(
    CliCase(
        ["grid", "-c", "content0.bmp", "-c", "content1.bmp", "-s",
         "style0.png", "-o", "out.png", "--weights", "random", "-q",
         "--size", "16", "--iterations", "1", "--refine-iterations", "1"],
        {"content0.bmp": ImageSpec("image", "BMP", "1", 1, 1,
                                   extension=".bmp"),
         "content1.bmp": ImageSpec("image", "BMP", "1", 1, 2,
                                   extension=".bmp"),
         "style0.png": ImageSpec("image", mode="1", width=1, height=1)},
        outputs=["out.png"], category="grid",
    )
)  # fmt: skip
def test_grid_any_inputs(case):
    with fake_optimisation():
        assert_contract(case)


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    """A tiny trained-looking `TransformNet` file for `stylize`."""
    from keras_nst.fast import TransformNet

    path = tmp_path_factory.mktemp("network") / "net.keras"
    model = TransformNet(filters=2, residual_blocks=0, seed=0)
    model(np.zeros((1, 8, 8, 3), "float32"))
    model.save(path)
    return str(path)


# Each case loads the network, which takes a second or two on JAX.
@settings(FUZZ, max_examples=20)
@given(case=cases(stylize_case, model="net.keras"))
# A .gif is a video to stylize, whatever it holds; it comes back a GIF.
@example(
    case=CliCase(
        ["stylize", "net.keras", "photo0.gif", "-o", "styled"],
        {"photo0.gif": ImageSpec("image", mode="1", width=1, height=1,
                                 extension=".gif")},
        outputs=["styled/photo0.gif"], category="stylize",
    )
)  # fmt: skip
def test_stylize_any_inputs(network, case):
    assert_contract(case, {"net.keras": network})


@settings(FUZZ, max_examples=25)
@given(cases(train_case, in_process=True))
def test_train_any_inputs(case):
    with fake_training():
        assert_contract(case)
