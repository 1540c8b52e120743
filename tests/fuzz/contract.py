"""The contract every fuzzed run must keep, and the folder it runs in.

`write_case` puts a case's files in a folder and `snapshot` reads them
back. `check_cli_result` is the contract of a run: exit 0 with valid
outputs, or a non-zero exit with a one-line error (`error_shape`) and no
file created; never a traceback, a changed input or a temporary file
left. `check_interrupted` is the same for a run stopped by a signal.
"""

import contextlib
import fnmatch
import io
import json
import os
import re
from collections.abc import Sequence

from PIL import Image

from tests.fuzz.commands import CliCase
from tests.fuzz.images import write_input

TEMPORARY_PREFIX = ".keras-nst-"
"""Partial files the package writes start with this (`keras_nst.atomic`)."""


def write_case(case: CliCase, folder: str) -> dict[str, bytes | None]:
    """Creates the case's files in `folder`; returns every file's bytes."""
    for name, spec in case.files.items():
        path = os.path.join(folder, name)
        os.makedirs(os.path.dirname(path) or folder, exist_ok=True)
        write_input(spec, path)
    for name, data in case.existing.items():
        path = os.path.join(folder, name)
        # Only where a file can be ("out.png/" cannot be one).
        with contextlib.suppress(OSError):
            if not os.path.lexists(path):
                os.makedirs(os.path.dirname(path) or folder, exist_ok=True)
                with open(path, "wb") as file:
                    file.write(data)
    return snapshot(folder)


def snapshot(folder: str) -> dict[str, bytes | None]:
    """Every path under `folder` and its bytes (`None` for a folder)."""
    found: dict[str, bytes | None] = {}
    for root, dirs, names in os.walk(folder):
        for name in dirs:
            found[os.path.relpath(os.path.join(root, name), folder)] = None
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as file:
                found[os.path.relpath(path, folder)] = file.read()
    return found


def first_line(error: BaseException) -> str:
    """An exception's message as one line."""
    text = str(error).strip()
    return text.splitlines()[0] if text else repr(error)


def valid_image(data: bytes, formats=("PNG", "JPEG")) -> str | None:
    """`None` if `data` is a complete image in `formats`, else what is wrong.

    A `.gif` is a video to `stylize`, written back as a GIF.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            if image.format not in formats:
                return f"written as {image.format}"
    except Exception as error:  # noqa: BLE001 - any failure is the answer
        return f"not a valid image: {type(error).__name__}: {error}"
    return None


def complete_json_lines(data: bytes) -> str | None:
    """`None` if every line of `data` is a whole JSON object."""
    if data and not data.endswith(b"\n"):
        return "the log's last line is incomplete"
    for number, line in enumerate(data.decode("utf-8").splitlines(), 1):
        try:
            json.loads(line)
        except ValueError:
            return f"log line {number} is not JSON: {line[:80]!r}"
    return None


def allowed_path(name: str, patterns: Sequence[str]) -> bool:
    """Whether `name` matches a pattern or is a folder above one."""
    for pattern in patterns:
        pattern = os.path.normpath(pattern)
        if fnmatch.fnmatchcase(name, pattern):
            return True
        if pattern.startswith(name + os.sep):
            return True
    return False


_SETTING_LINE = re.compile(r"^[a-z_]+: ")


# keras_nst.progress's lines (not imported: it imports Keras).
_RUN_PROGRESS = re.compile(
    r"^(Losses of the latest step; |scale \d+/\d+: |step \d+|\d+ steps in )"
)
_PROGRESS = re.compile(r"^\[\d+/\d+\] (Wrote |Skipped .+: .)")


def error_shape(
    exit_code: int, output: str, verbose: bool = False
) -> str | None:
    """`None` if a failed run's output is one of the accepted shapes.

    - exit 1, a `ClickException`: exactly one line, `Error: ...` (with
      `-v`, the `name: value` lines of the settings may come before it);
    - exit 2, a `UsageError`: Click's block, i.e. `Usage: ...`, optionally
      `Try '... -h' for help.`, one blank line and one `Error: ...` line,
      nothing else.

    Either may come with `Warning: ...` lines, the command line's form of
    a warning (a Python warning's file, line and source are not allowed).
    """
    lines = output.strip("\n").splitlines()
    # The package's own warnings are one line each, `Warning: ...`; a run
    # that got going has printed its progress lines.
    lines = [
        line
        for line in lines
        if not line.startswith("Warning: ") and not _RUN_PROGRESS.match(line)
    ]
    if exit_code == 1:
        if verbose:
            while len(lines) > 1 and _SETTING_LINE.match(lines[0]):
                lines = lines[1:]
        if len(lines) != 1 or not lines[0].startswith("Error: "):
            return "exit 1 without exactly one 'Error: ...' line"
        return None
    if exit_code == 2:
        if not lines or not lines[0].startswith("Usage: "):
            return "exit 2 without Click's 'Usage:' line"
        rest = lines[1:]
        if rest and rest[0].startswith("Try '") and rest[0].endswith("help."):
            rest = rest[1:]
        if len(rest) != 2 or rest[0] != "" or not rest[1].startswith("Error: "):
            return "exit 2 whose usage block is not one 'Error: ...' line"
        return None
    return f"exit code {exit_code}, neither 0, 1 nor 2"


def check_cli_result(
    case: CliCase,
    folder: str,
    before: dict[str, bytes | None],
    exit_code: int,
    output: str,
) -> list[str]:
    """The ways one run broke the contract; empty if it kept it.

    The contract: exit 0 with every output a valid PNG or JPEG (the
    network of `train` only has to exist) and every `.jsonl` log complete
    JSON lines; or a non-zero exit with one of `error_shape`'s outputs and
    no file created or changed. Two exceptions may leave outputs: a run
    stopped by a NaN loss exits 1 saying "Wrote that image to OUTPUT";
    `stylize`, a stream, keeps the results it wrote (`[i/n] Wrote ...`)
    before an input was skipped or the run failed.
    Always: no traceback, the inputs byte-identical, no `.keras-nst-*`
    file left.
    """
    problems = []
    if "Traceback" in output:
        problems.append("a traceback")
    after = snapshot(folder)
    for name in after:
        if os.path.basename(name).startswith(TEMPORARY_PREFIX):
            problems.append(f"temporary file left: {name}")
    outputs = [os.path.normpath(p) for p in case.outputs]
    allowed = [*outputs, *case.optional]
    inputs = {os.path.normpath(name) for name in case.files}
    for name, data in before.items():
        # An input never changes; an output there before may be replaced
        # by a run that works; any other file (a network) never changes.
        overwritten = (
            exit_code == 0
            and name not in inputs
            and allowed_path(name, allowed)
        )
        if name not in after:
            problems.append(f"pre-existing {name} was removed")
        elif after[name] != data and not overwritten:
            problems.append(f"pre-existing {name} was changed")
    created = sorted(set(after) - set(before))
    stopped = exit_code == 1 and "Wrote that image to" in output
    if case.category == "stylize" and exit_code == 1:
        # A stream: the results made before an input was skipped, or
        # before the run failed, are kept, each line saying which.
        lines = output.strip("\n").splitlines()
        progress = [line for line in lines[:-1] if _PROGRESS.match(line)]
        stopped = bool(progress) or "Skipped" in lines[-1]
        output = "\n".join(line for line in lines if not _PROGRESS.match(line))
    if exit_code == 0:
        for name in outputs:
            if name not in after:
                problems.append(f"exit 0 but {name} is missing")
            elif case.category != "train":
                data = after[name]
                reason = (
                    "a folder"
                    if data is None
                    else (valid_image(data, _formats(name)))
                )
                if reason is not None:
                    problems.append(f"{name} is {reason}")
    else:
        reason = error_shape(exit_code, output, "-v" in case.args)
        if reason is not None:
            problems.append(reason)
    for name in created:
        if exit_code == 0 or stopped:
            if not allowed_path(name, allowed):
                problems.append(f"unexpected file {name}")
            elif after[name] is not None and (
                reason := _damaged(name, after[name], _logs(case))
            ):
                problems.append(reason)
        else:
            problems.append(f"exit {exit_code} but {name} was created")
    return problems


def check_interrupted(case, folder, before, output) -> list[str]:
    """The file checks of an interrupted run (its exit is checked apart)."""
    problems = []
    if "Traceback" in output:
        problems.append("a traceback")
    after = snapshot(folder)
    for name, data in after.items():
        if os.path.basename(name).startswith(TEMPORARY_PREFIX):
            problems.append(f"temporary file left: {name}")
        elif name in before:
            if before[name] != data:
                problems.append(f"input {name} was changed")
        elif not allowed_path(name, [*case.outputs, *case.optional]):
            problems.append(f"unexpected file {name}")
        elif (reason := _damaged(name, data)) is not None:
            problems.append(reason)
    return problems


def _logs(case: CliCase) -> set[str]:
    """The `--log` files of a case, whatever their names."""
    args = [str(arg) for arg in case.args]
    return {
        os.path.normpath(args[i + 1])
        for i, arg in enumerate(args[:-1])
        if arg == "--log"
    }


def _formats(name: str) -> tuple[str, ...]:
    return ("GIF",) if name.lower().endswith(".gif") else ("PNG", "JPEG")


def _damaged(name: str, data: bytes, logs=frozenset()) -> str | None:
    """What is wrong with a log or an image a stopped run left."""
    if name.endswith(".jsonl") or name in logs:
        return complete_json_lines(data)
    if name.lower().endswith((".png", ".jpg", ".jpeg", ".gif")):
        reason = valid_image(data, _formats(name))
        return None if reason is None else f"{name} is {reason}"
    return None
