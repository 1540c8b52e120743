"""Runs the real `keras-nst` command line over generated cases.

Each case is a command with generated input files (`tests/fuzz/commands.py`,
here driven by a seeded `random.Random`), run as a subprocess in a fresh
folder, then checked against the contract: exit 0 with valid outputs, or
a one-line `Error:` (Click's usage block for exit 2) and no file created;
never a traceback, a changed input or a `.keras-nst-*` file left behind.
Cases that get past the input checks run for real on random VGG19
weights (`--weights random`), at 8-40 pixels for 0-3 iterations.

Interrupt cases start a long run (a million iterations) and send SIGINT
or SIGTERM to its process group after 2-15 s. They pass if the command
exits 130 (SIGINT) or 143 (SIGTERM), or 0 if it finished first; the log's
lines are whole JSON objects; no temporary file is left; and, if at least
one step was logged before the signal, the output is a valid image.

Every subprocess is limited to `--memory-gb` of address space and
`--timeout` seconds: a case that needs more is a violation, not a hang.

    python scripts/fuzz_cli.py --cases 1000 --jobs 2 --backend torch

Prints a table (category, cases tried, worked, clean errors, violations),
then each violation with the command to reproduce it (its folder is
kept), and exits 1 if there was any.
"""

import argparse
import concurrent.futures
import contextlib
import dataclasses
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from tests.fuzz import commands  # noqa: E402
from tests.fuzz import contract  # noqa: E402
from tests.fuzz.choosers import Chooser  # noqa: E402
from tests.fuzz.choosers import RandomChooser  # noqa: E402
from tests.fuzz.images import INPUT_KINDS  # noqa: E402
from tests.fuzz.report import Outcome  # noqa: E402
from tests.fuzz.report import print_table  # noqa: E402
from tests.fuzz.report import print_violations  # noqa: E402

CATEGORIES = {
    "transfer-images": 34,
    "transfer-options": 30,
    "transfer-outputs": 12,
    "grid": 6,
    "stylize": 14,
    "train": 4,
}
"""The share of each category among the cases that are not interrupts."""
NETWORK = "net.keras"
"""A valid `TransformNet` file put in the folder of stylize cases."""
_MAKE_NETWORK = """
import sys
from keras_nst.fast import TransformNet
import numpy as np
model = TransformNet(filters=2, residual_blocks=0, seed=0)
model(np.zeros((1, 8, 8, 3), "float32"))
model.save(sys.argv[1])
"""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cases", type=int, default=1000, help="How many, interrupts included."
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="The same seed, the same cases."
    )
    parser.add_argument(
        "--jobs", type=int, default=2, help="Cases run at the same time."
    )
    parser.add_argument(
        "--backend", default="torch", choices=("tensorflow", "jax", "torch")
    )
    parser.add_argument(
        "--interrupts",
        type=int,
        default=None,
        help="How many of the cases are interrupts [default: 2%%, >= 10].",
    )
    parser.add_argument(
        "--timeout", type=float, default=180.0, help="Seconds per case."
    )
    parser.add_argument(
        "--memory-gb", type=float, default=6.0, help="Address space per run."
    )
    parser.add_argument(
        "--keras-nst",
        default=None,
        help="The command [default: keras-nst next to this Python].",
    )
    parser.add_argument(
        "--keep",
        default=None,
        help="Folder for the cases that broke the contract [default: a new "
        "temporary folder].",
    )
    parser.add_argument(
        "--only", choices=(*CATEGORIES, "interrupt"), help="One category."
    )
    parser.add_argument(
        "--json", help="Also write every outcome to this JSON-lines file."
    )
    return parser.parse_args(argv)


def plan(args) -> list[tuple[str, int]]:
    """The (category, index) of every case, in a seeded order."""
    chooser = RandomChooser(args.seed)
    if args.only:
        return [(args.only, i) for i in range(args.cases)]
    interrupts = args.interrupts
    if interrupts is None:
        interrupts = max(10, args.cases // 50)
    interrupts = min(interrupts, args.cases)
    names = list(CATEGORIES)
    weights = [CATEGORIES[name] for name in names]
    categories = chooser.random.choices(
        names, weights, k=args.cases - interrupts
    )
    categories += ["interrupt"] * interrupts
    chooser.random.shuffle(categories)
    return [(category, i) for i, category in enumerate(categories)]


def make_case(category: str, chooser: Chooser) -> commands.CliCase:
    if category.startswith("transfer-"):
        focus = category.removeprefix("transfer-")
        # A good image a third of the time: most cases end before Keras.
        kinds = INPUT_KINDS
        return commands.transfer_case(chooser, focus=focus, image_kinds=kinds)
    if category == "grid":
        return commands.grid_case(chooser)
    if category == "stylize":
        return commands.stylize_case(chooser, NETWORK, INPUT_KINDS)
    if category == "train":
        return commands.train_case(chooser)
    return commands.interrupt_case(chooser)


_WITH_LIMIT = (
    "import os, resource, signal, sys; "
    "limit = int(float(sys.argv[1]) * 2**30); "
    "resource.setrlimit(resource.RLIMIT_AS, (limit, limit)); "
    "signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "signal.signal(signal.SIGTERM, signal.SIG_DFL); "
    "os.execvp(sys.argv[2], sys.argv[2:])"
)
"""Runs a command under an address-space limit (no `preexec_fn`, which
is unsafe in a threaded parent), with the default SIGINT and SIGTERM
handlers as in a terminal: a script started in the background (`&`,
`nohup`) passes on an ignored SIGINT, which keras-nst rightly keeps."""


def _kill_group(process: subprocess.Popen) -> None:
    """Kills the process group this script started for one case."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _start(command, folder, env, memory_gb) -> subprocess.Popen:
    limited = [sys.executable, "-c", _WITH_LIMIT, str(memory_gb), *command]
    return subprocess.Popen(
        limited,
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _output(process, timeout) -> tuple[int | None, str]:
    try:
        data, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        data, _ = process.communicate()
        return None, data.decode("utf-8", "replace")
    return process.returncode, data.decode("utf-8", "replace")


def run_case(category, index, args, env, root, network) -> Outcome:
    chooser = RandomChooser((args.seed << 32) + index)
    case = make_case(category, chooser)
    folder = os.path.join(root, f"{index:05d}-{category}")
    os.makedirs(folder)
    if category == "stylize" and NETWORK in case.args:
        shutil.copy(network, os.path.join(folder, NETWORK))
    before = contract.write_case(case, folder)
    command = [args.keras_nst, *case.args]
    start = time.monotonic()
    process = _start(command, folder, env, args.memory_gb)
    problems = []
    if category == "interrupt":
        exit_code, output, problems = interrupt(process, case, chooser, folder)
    else:
        exit_code, output = _output(process, args.timeout)
    seconds = time.monotonic() - start
    if exit_code is None:
        if category != "interrupt":
            problems.append(f"no exit within {args.timeout:.0f} s (killed)")
    elif category == "interrupt":
        problems += contract.check_interrupted(case, folder, before, output)
    else:
        problems += contract.check_cli_result(
            case, folder, before, exit_code, output
        )
        if exit_code < 0:
            problems.append(f"killed by signal {-exit_code}")
    text = f"cd {shlex.quote(folder)} && {_short(command)}"
    if problems:
        with open(os.path.join(folder, "command.sh"), "w") as file:
            file.write(
                f"# exit {exit_code}; run from this folder\n"
                f"KERAS_BACKEND={args.backend} {shlex.join(command)}\n"
            )
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return Outcome(
        category, index, text, folder, exit_code, output, problems, seconds
    )


def _short(command) -> str:
    """The command for a terminal, long arguments cut (see command.sh)."""
    parts = [
        a if len(a) <= 60 else a[:30] + f"...({len(a)} chars)" for a in command
    ]
    return shlex.join(parts)


EXPECTED_EXIT = {
    signal.SIGINT: (130, -signal.SIGINT),
    signal.SIGTERM: (143, -signal.SIGTERM),
}
"""The exit of a signalled run; a shell shows death by the signal as the
same number, so that counts too (the file checks still apply)."""


def interrupt(process, case, chooser, folder):
    """Signals the run after 2-15 s; returns its exit, output, problems."""
    delay = chooser.integer(2000, 15000) / 1000
    sig = chooser.choice((signal.SIGINT, signal.SIGTERM))
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=delay)
    problems = []
    log = os.path.join(folder, "log.jsonl")
    started = os.path.exists(log) and os.path.getsize(log) > 0
    finished = process.poll() is not None
    if not finished:
        os.killpg(process.pid, sig)
    exit_code, output = _output(process, 60)
    note = f"{sig.name} after {delay:.1f} s" + (
        ", after the first step" if started else ", before the first step"
    )
    if exit_code is None:
        problems.append(f"{note}: still running 60 s later (killed)")
        return exit_code, output, problems
    if finished:
        note = f"finished before the {sig.name} after {delay:.1f} s"
    allowed = (0,) if finished else EXPECTED_EXIT[sig]
    if exit_code not in allowed:
        want = " or ".join(str(code) for code in allowed)
        problems.append(f"{note}: exit {exit_code}, expected {want}")
    output_name = case.outputs[0]
    if (started or exit_code == 0) and not os.path.isfile(
        os.path.join(folder, output_name)
    ):
        # Stopped during the optimisation: the image so far is written.
        problems.append(f"{note}: no {output_name} written")
    return exit_code, output, problems


def preflight(args, env) -> None:
    """Stops early if the command does not even start."""
    result = subprocess.run(
        [args.keras_nst, "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        sys.exit(
            f"`{args.keras_nst} --help` fails (exit {result.returncode}); "
            f"fix that first:\n{result.stderr[-2000:]}"
        )


def make_network(env, root) -> str:
    path = os.path.join(root, NETWORK)
    subprocess.run(
        [sys.executable, "-c", _MAKE_NETWORK, path],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return path


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.keras_nst is None:
        here = os.path.join(os.path.dirname(sys.executable), "keras-nst")
        args.keras_nst = here if os.path.exists(here) else "keras-nst"
    root = args.keep or tempfile.mkdtemp(prefix="keras-nst-fuzz-")
    os.makedirs(root, exist_ok=True)
    home = os.path.join(root, "keras-home")
    os.makedirs(home, exist_ok=True)
    env = dict(
        os.environ,
        KERAS_BACKEND=args.backend,
        KERAS_HOME=home,
        CUDA_VISIBLE_DEVICES="",
        PYTHONUNBUFFERED="1",
    )
    preflight(args, env)
    network = make_network(env, root)
    cases = plan(args)
    print(
        f"{len(cases)} cases, seed {args.seed}, {args.jobs} jobs, "
        f"{args.backend}; folders under {root}",
        file=sys.stderr,
    )
    outcomes = []
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = [
            pool.submit(run_case, category, index, args, env, root, network)
            for category, index in cases
        ]
        try:
            for future in concurrent.futures.as_completed(futures):
                outcomes.append(future.result())
                if len(outcomes) % 50 == 0:
                    bad = sum(1 for o in outcomes if o.problems)
                    print(
                        f"  {len(outcomes)}/{len(cases)} done, {bad} "
                        f"violations, {time.monotonic() - start:.0f} s",
                        file=sys.stderr,
                    )
        except KeyboardInterrupt:
            for future in futures:
                future.cancel()
            print(
                "interrupted: the table covers the cases done", file=sys.stderr
            )
    seconds = time.monotonic() - start
    outcomes.sort(key=lambda o: o.index)
    if args.json:
        with open(args.json, "w") as file:
            for outcome in outcomes:
                record = dataclasses.asdict(outcome)
                record["output"] = record["output"][-2000:]
                file.write(json.dumps(record) + "\n")
    print_table(outcomes, seconds)
    print_violations(outcomes)
    if not any(o.problems for o in outcomes) and args.keep is None:
        shutil.rmtree(root, ignore_errors=True)
    else:
        print(f"\nthe violating cases' folders are under {root}")
    return 1 if any(o.problems for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
