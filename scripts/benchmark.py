"""Seconds per iteration of style transfer on each Keras backend.

Each backend runs in its own process (the backend is fixed when Keras is
imported), one after the other on the same machine, so the ratios in the
table are comparable; absolute times only mean something on a GPU.

    python scripts/benchmark.py --size 256 --iterations 30
    python scripts/benchmark.py --backends jax,torch --weights random --json

The first `--warmup` steps (tracing, compilation, allocation) are timed
separately and left out of the per-iteration figure.
"""

import json
import os
import subprocess
import sys
import time

import click

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONTENT = os.path.join(ROOT, "examples", "astronaut.png")
STYLE = os.path.join(ROOT, "examples", "starry_night.jpg")


def _measure(size, iterations, warmup, weights, preset) -> dict:
    import keras

    import keras_nst

    class Clock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_train_batch_end(self, batch, logs=None):
            # Reading a loss waits for the step to finish on async backends.
            float(keras.ops.convert_to_numpy(logs["total"]))
            self.times.append(time.perf_counter())

    start = time.perf_counter()
    model = keras_nst.build_model(
        CONTENT, STYLE, preset, size=size, weights=weights
    )
    built = time.perf_counter()
    clock = Clock()
    model.optimize(warmup + iterations, callbacks=[clock], verbose=0)
    steady = clock.times[warmup:]
    per_iteration = (steady[-1] - clock.times[warmup - 1]) / len(steady)
    return {
        "backend": keras.backend.backend(),
        "size": size,
        "shape": list(model.get_image().shape),
        "weights": weights or "random",
        "build_s": built - start,
        "warmup_s": clock.times[warmup - 1] - built,
        "s_per_iteration": per_iteration,
        "iterations": iterations,
        "final_losses": model.evaluate_losses(),
    }


@click.command()
@click.option("--backends", default="tensorflow,jax,torch", show_default=True)
@click.option("--size", default=256, show_default=True)
@click.option("--iterations", default=30, show_default=True)
@click.option("--warmup", default=3, show_default=True)
@click.option(
    "--weights",
    type=click.Choice(["imagenet", "random"]),
    default="imagenet",
    show_default=True,
)
@click.option("--preset", default="gatys", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@click.option("--worker", is_flag=True, hidden=True)
def main(backends, size, iterations, warmup, weights, preset, as_json, worker):
    """Times the optimisation on each backend, side by side."""
    weights = None if weights == "random" else weights
    if worker:
        result = _measure(size, iterations, max(warmup, 1), weights, preset)
        print(json.dumps(result))
        return
    results = []
    for backend in backends.split(","):
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
        command = [
            sys.executable, __file__, "--worker", "--size", str(size),
            "--iterations", str(iterations), "--warmup", str(warmup),
            "--weights", weights or "random", "--preset", preset,
        ]  # fmt: skip
        run = subprocess.run(
            command, env=env, capture_output=True, text=True, check=False
        )
        if run.returncode != 0:
            tail = run.stderr.strip().splitlines()[-1:] or ["?"]
            raise click.ClickException(f"{backend} failed: {tail[0]}")
        results.append(json.loads(run.stdout.strip().splitlines()[-1]))
    if as_json:
        for result in results:
            click.echo(json.dumps(result))
        return
    fastest = min(r["s_per_iteration"] for r in results)
    click.echo(
        f"{'backend':<11} {'s/iter':>8} {'ratio':>6} {'build s':>8} "
        f"{'warmup s':>9} {'final total':>12}"
    )
    for r in results:
        click.echo(
            f"{r['backend']:<11} {r['s_per_iteration']:>8.3f} "
            f"{r['s_per_iteration'] / fastest:>6.2f} {r['build_s']:>8.1f} "
            f"{r['warmup_s']:>9.1f} {r['final_losses']['total']:>12.4g}"
        )
    shape = "x".join(str(n) for n in results[0]["shape"][:2])
    click.echo(
        f"{shape} px, {iterations} timed iterations after {warmup} warm-up, "
        f"weights={weights or 'random'}, preset={preset}"
    )


if __name__ == "__main__":
    main()
