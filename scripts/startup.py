"""Seconds from `keras-nst transfer`'s start to its first step, per backend.

For each backend, in fresh processes one after the other:

- `import keras`: from starting `python -c "import keras"` with that
  backend to the import's end, the framework's own start-up, which the
  package cannot shorten;
- `fit starts`: from launching `keras-nst transfer` (bundled examples,
  `--size`, the fetched weights unless `--weights` says otherwise) to
  the moment its `--log` file is created, which `fit` does before the
  first step: what the package adds is this less `import keras`;
- `first step`: to the first step's line in the log (tracing and
  compiling the step included);
- `imports`: whether the run imported another backend's framework.

    python scripts/startup.py --repeats 3 --json startup.json

Each figure is the median of `--repeats` runs.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import click

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
BACKENDS = ("tensorflow", "jax", "torch")
FRAMEWORKS = ("tensorflow", "jax", "torch")
# Printed by the child at exit: which frameworks the run imported.
_REPORT_IMPORTS = (
    "import atexit, sys\n"
    "path = sys.argv.pop(1)\n"
    "atexit.register(lambda: open(path, 'w').write("
    "' '.join(m for m in {frameworks!r} if m in sys.modules)))\n"
    "sys.argv[0] = 'keras-nst'\n"
    "from keras_nst.cli import main\n"
    "main()\n"
)


def _env(backend: str) -> dict:
    return dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")


def time_import(backend: str) -> float:
    """Seconds from starting Python to `import keras` done, on `backend`.

    Up to the child's line after the import, not its exit: a process that
    loaded a framework takes a while to exit.
    """
    begin = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", "import keras; print('imported', flush=True)"],
        env=_env(backend),
        stdout=subprocess.PIPE,
        text=True,
    )
    process.stdout.readline()
    seconds = time.perf_counter() - begin
    process.communicate()
    return seconds


def time_transfer(backend: str, size: int, weights: str | None) -> dict:
    """One `keras-nst transfer` run's start-up times and imports."""
    with tempfile.TemporaryDirectory() as folder:
        log = os.path.join(folder, "log.jsonl")
        imported = os.path.join(folder, "imported.txt")
        command = [
            sys.executable, "-c",
            _REPORT_IMPORTS.format(frameworks=FRAMEWORKS), imported,
            "transfer", os.path.join(EXAMPLES, "astronaut.png"),
            os.path.join(EXAMPLES, "starry_night.jpg"),
            "-o", os.path.join(folder, "out.png"), "--size", str(size),
            "--iterations", "2", "--log", log, "--quiet",
        ]  # fmt: skip
        if weights is not None:
            command += ["--weights", weights]
        begin = time.perf_counter()
        process = subprocess.Popen(command, env=_env(backend))
        fit_starts = first_step = None
        while process.poll() is None:
            now = time.perf_counter() - begin
            if fit_starts is None and os.path.exists(log):
                fit_starts = now
            if first_step is None and fit_starts is not None:
                with open(log) as file:
                    if file.readline().endswith("\n"):
                        first_step = now
            time.sleep(0.005)
        if process.returncode != 0:
            raise click.ClickException(f"{backend}: transfer failed")
        with open(imported) as file:
            frameworks = file.read().split()
    return {
        "fit_starts_s": fit_starts,
        "first_step_s": first_step,
        "total_s": time.perf_counter() - begin,
        "frameworks_imported": frameworks,
    }


@click.command()
@click.option("--backends", default=",".join(BACKENDS), show_default=True)
@click.option("--repeats", default=3, show_default=True)
@click.option("--size", default=256, show_default=True)
@click.option(
    "--weights",
    default=None,
    help="`random` for random VGG19 weights; the fetched file by default.",
)
@click.option("--json", "json_path", help="Write the records here.")
def main(backends, repeats, size, weights, json_path):
    """Times the command's start-up per backend against `import keras`."""
    records = []
    for backend in [b.strip() for b in backends.split(",") if b.strip()]:
        imports = [time_import(backend) for _ in range(repeats)]
        runs = [time_transfer(backend, size, weights) for _ in range(repeats)]
        record = {
            "backend": backend,
            "import_keras_s": statistics.median(imports),
            **{
                key: statistics.median(run[key] for run in runs)
                for key in ("fit_starts_s", "first_step_s", "total_s")
            },
            "frameworks_imported": runs[-1]["frameworks_imported"],
        }
        record["added_s"] = record["fit_starts_s"] - record["import_keras_s"]
        records.append(record)
        click.echo(
            f"{backend:<10} import keras {record['import_keras_s']:5.1f} s  "
            f"fit starts {record['fit_starts_s']:5.1f} s "
            f"(+{record['added_s']:.1f})  first step "
            f"{record['first_step_s']:5.1f} s  imported: "
            f"{' '.join(record['frameworks_imported'])}"
        )
    if json_path:
        with open(json_path, "w") as file:
            json.dump(records, file, indent=1)


if __name__ == "__main__":
    main()
