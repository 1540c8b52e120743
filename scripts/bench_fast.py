"""Fast style transfer speed: ms per stylised image, and ms per training step.

Each backend runs in its own process, one after the other, with a random
`TransformNet` (weights do not change the speed):

    python scripts/bench_fast.py --sizes 256,512,1024 --json fast.json
    python scripts/bench_fast.py --train --train-size 256 --batch-size 4

Inference times are the median of `--repeats` single-image passes of
`keras_nst.fast.Stylizer` (what `stylize` runs: compiled once per shape,
NumPy in and out) after `--warmup` (compilation) passes; training times
are the median step of `fit` (random VGG19 weights) after its first steps.
"""

import json
import os
import subprocess
import sys
import time

import click
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


BACKENDS = ("tensorflow", "jax", "torch")


def measure_inference(size, warmup, repeats):
    """Times the package's own stylising pass, `keras_nst.fast.Stylizer`."""
    from keras_nst.fast import Stylizer
    from keras_nst.fast import TransformNet

    stylizer = Stylizer(TransformNet(seed=0))
    image = np.random.default_rng(0).uniform(0, 255, (1, size, size, 3))
    image = image.astype("float32")
    for _ in range(warmup):
        stylizer(image)
    times = []
    for _ in range(repeats):
        begin = time.perf_counter()
        stylizer(image)  # returns NumPy: the pass has finished
        times.append(1000 * (time.perf_counter() - begin))
    median = float(np.median(times))
    return {"ms_per_image": median, "fps": 1000 / median, "all": times}


def measure_training(size, batch_size, steps):
    import keras

    from keras_nst.fast import FastStyleTrainer
    from keras_nst.fast import resolve_train_config

    rng = np.random.default_rng(0)
    style = rng.uniform(0, 255, (size, size, 3)).astype("float32")
    data = rng.uniform(0, 255, (steps * batch_size, size, size, 3))
    trainer = FastStyleTrainer(
        style, resolve_train_config(weights=None, size=size)
    )
    trainer.compile(optimizer=keras.optimizers.Adam(1e-3))
    ends = []

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            ends.append(time.perf_counter())

    trainer.fit(
        data.astype("float32"), batch_size=batch_size, epochs=1,
        callbacks=[Clock()], verbose=0,
    )  # fmt: skip
    steps_ms = 1000 * np.diff(ends[2:])
    return {"ms_per_step": float(np.median(steps_ms)), "all": list(steps_ms)}


@click.command()
@click.option("--backends", default=",".join(BACKENDS), show_default=True)
@click.option("--sizes", default="256,512,1024", show_default=True)
@click.option("--warmup", default=2, show_default=True)
@click.option("--repeats", default=5, show_default=True)
@click.option("--train", "with_training", is_flag=True, help="Also time fit.")
@click.option("--train-size", default=256, show_default=True)
@click.option("--batch-size", default=4, show_default=True)
@click.option("--train-steps", default=8, show_default=True)
@click.option("--json", "json_path", help="Write the records here.")
@click.option("--worker", hidden=True)
def main(
    backends, sizes, warmup, repeats, with_training, train_size, batch_size,
    train_steps, json_path, worker,
):  # fmt: skip
    """Times TransformNet inference (and training) per backend."""
    if worker:
        task, value = worker.split(":")
        if task == "infer":
            record = measure_inference(int(value), warmup, repeats)
        else:
            record = measure_training(int(value), batch_size, train_steps)
        print(json.dumps(record))
        return
    records = []
    tasks = [("infer", int(s)) for s in sizes.split(",")]
    if with_training:
        tasks.append(("train", train_size))
    for task, size in tasks:
        for backend in backends.split(","):
            env = dict(os.environ, KERAS_BACKEND=backend)
            env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
            command = [
                sys.executable, __file__, "--worker", f"{task}:{size}",
                "--warmup", str(warmup), "--repeats", str(repeats),
                "--batch-size", str(batch_size),
                "--train-steps", str(train_steps),
            ]  # fmt: skip
            run = subprocess.run(
                command, env=env, capture_output=True, text=True, check=False
            )
            if run.returncode != 0:
                tail = run.stderr.strip().splitlines()[-1:] or ["?"]
                raise click.ClickException(f"{backend} {task}: {tail[0]}")
            record = json.loads(run.stdout.strip().splitlines()[-1])
            record.update(backend=backend, task=task, size=size)
            if task == "train":
                record["batch_size"] = batch_size
            records.append(record)
            value = record.get("ms_per_image", record.get("ms_per_step"))
            unit = (
                "ms/image"
                if task == "infer"
                else f"ms/step (batch {batch_size})"
            )
            click.echo(
                f"{backend:<11} {task:<6} {size:>5} px {value:>9.1f} {unit}"
            )
    click.echo(markdown_table(records))
    if json_path:
        with open(json_path, "w") as f:
            json.dump(records, f, indent=1)


def markdown_table(records: list[dict]) -> str:
    """One row per backend: ms per image (images per second) at each size,
    then ms per training step."""
    sizes = sorted({r["size"] for r in records if r["task"] == "infer"})
    train = [r for r in records if r["task"] == "train"]
    header = ["backend", *(f"{size} px" for size in sizes)]
    if train:
        header.append(
            f"training step ({train[0]['batch_size']} x {train[0]['size']} px)"
        )
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for backend in dict.fromkeys(r["backend"] for r in records):
        cells = [backend]
        for size in sizes:
            cells += [
                f"{r['ms_per_image']:.0f} ms ({1000 / r['ms_per_image']:.1f}/s)"
                for r in records
                if (r["backend"], r["task"], r["size"])
                == (backend, "infer", size)
            ] or ["–"]
        if train:
            cells += [
                f"{r['ms_per_step']:.0f} ms"
                for r in train
                if r["backend"] == backend
            ] or ["–"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
