"""Milliseconds per style transfer iteration, per backend, size and precision.

Every Keras backend runs the package's own loop (`build_model` and
`model.optimize`, the `gatys` preset with random VGG19 weights, which run
exactly as fast as the ImageNet ones). The peer is a minimal native
PyTorch loop with the identical losses: the same VGG19 layer list built
from `torch.nn` modules, a plain `torch.optim.Adam` over the image and a
clamp after each step. Each (backend, size, precision) runs in a fresh
process, one after the other on the same machine, so the ratios are
comparable and each peak memory is its own.

    python scripts/bench.py --sizes 256,512 --iterations 10
    python scripts/bench.py --backends torch,native-torch --precision bf16
    python scripts/bench.py --json bench.json --markdown bench.md
    python scripts/bench.py --backends torch --sizes 1024 --tile-sizes 0,512
    python scripts/bench.py --emulate-isa avx2 --sizes 256,512

Each table names the CPU and its vector extensions (AVX2, AVX-512, AMX),
which decide the kernels every backend runs. `--emulate-isa avx2` runs
on an AVX-512 CPU as on one with AVX2 and FMA only: oneDNN (the
convolutions of TensorFlow and PyTorch, and the matrix products inside
XLA's) is capped with `ONEDNN_MAX_CPU_ISA=AVX2`, PyTorch's own kernels
with `ATEN_CPU_CAPABILITY=avx2`, XLA's generated code with
`--xla_cpu_max_isa=AVX2`; TensorFlow gets its own default for such a CPU
(`TF_ENABLE_ONEDNN_OPTS=0`: no oneDNN operations), and the package sees
no AVX-512 in the CPU's flags. Before timing, one short run per backend
with `ONEDNN_VERBOSE=1` reports the instruction set oneDNN used and its
convolution kernels (`--no-isa-check` skips it).

With `--tile-sizes`, each Keras backend also runs tiled (`tile_size`):
the same step, VGG19 one region at a time; the native peer runs untiled.

Times exclude `--warmup` steps (tracing, compilation, allocation); each
figure is the median of `--repeats` blocks of `--iterations` steps, all in
one `fit` call for the Keras backends. Peak
memory is the GPU's peak allocation on a GPU, else the process's peak
resident set (which includes the framework itself).
"""

import json
import os
import resource
import subprocess
import sys
import time

import click
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from keras_nst import hardware  # noqa: E402
from keras_nst.choices import PRECISIONS  # noqa: E402
from keras_nst.hardware import bf16_cpu_flags  # noqa: E402
from keras_nst.hardware import cpu_name  # noqa: E402
from keras_nst.hardware import cpu_vector_extensions  # noqa: E402
from keras_nst.layer_names import KERAS_LAYER_NAMES  # noqa: E402
from keras_nst.presets import resolve_config  # noqa: E402

KERAS_BACKENDS = ("tensorflow", "jax", "torch")
NATIVE = "native-torch"
BACKENDS = (*KERAS_BACKENDS, NATIVE)
PRESET = "gatys"
# The synthetic style image is made at the size it is used and holds no
# scan grain, so every pixel of it is taken, as the native peer does.
STYLE_DETAIL = 1.0
# What each --emulate-isa sets in the workers (see the module docstring).
EMULATED_ISA_ENV = {
    "avx2": {
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "ATEN_CPU_CAPABILITY": "avx2",
        "TF_ENABLE_ONEDNN_OPTS": "0",
    },
}
_XLA_MAX_ISA = {"avx2": "--xla_cpu_max_isa=AVX2"}
# The CPU flags an emulated CPU does not have.
_NOT_IN_AVX2 = ("avx512", "amx")
# VGG19's convolutions per block and their widths.
_BLOCKS = ((2, 64), (2, 128), (4, 256), (4, 512), (4, 512))


def images(size: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Square content, style and start images, the same for every backend."""
    rng = np.random.default_rng(seed)
    return tuple(
        rng.uniform(0, 255, (size, size, 3)).astype("float32") for _ in range(3)
    )


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# The Keras backends


def _keras_peak_mb(backend: str) -> tuple[float, str]:
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            return torch.cuda.max_memory_allocated() / 2**20, "gpu"
    elif backend == "jax":
        import jax

        device = jax.devices()[0]
        if device.platform == "gpu":
            return device.memory_stats()["peak_bytes_in_use"] / 2**20, "gpu"
    elif backend == "tensorflow":
        import tensorflow as tf

        if tf.config.list_physical_devices("GPU"):
            info = tf.config.experimental.get_memory_info("GPU:0")
            return info["peak"] / 2**20, "gpu"
    return _peak_rss_mb(), "cpu"


def measure_keras(
    size, iterations, warmup, repeats, precision, jit_compile, tile_size
):
    import keras

    from keras_nst.style_transfer import build_model

    content, style, start = images(size)
    model = build_model(
        content, style, PRESET, start=start, weights=None, size=size,
        precision=precision, style_detail=STYLE_DETAIL, tile_size=tile_size,
    )  # fmt: skip
    if jit_compile != "default":
        model.compile(
            optimizer=model.optimizer, jit_compile=jit_compile == "on"
        )

    class Clock(keras.callbacks.Callback):
        # fit turns each step's losses into Python floats before calling
        # back, so a step has finished when its batch ends.
        ends = []

        def on_train_batch_end(self, batch, logs=None):
            self.ends.append(time.perf_counter())

    # One fit call for everything: fit's own set-up and tear-down (over a
    # second on TensorFlow, once per call) are not per-iteration costs.
    model.optimize(warmup + repeats * iterations, [Clock()], verbose=0)
    marks = Clock.ends[warmup - 1 :: iterations]
    times = [
        1000 * (end - begin) / iterations
        for begin, end in zip(marks[:-1], marks[1:], strict=True)
    ]
    losses = model.evaluate_losses()
    backend = keras.backend.backend()
    peak, device = _keras_peak_mb(backend)
    return {
        "backend": backend,
        "jit_compile": bool(model.jit_compile),
        "device": device,
        "ms_per_iter": float(np.median(times)),
        "ms_per_iter_all": times,
        "peak_mem_mb": peak,
        "final_total": losses["total"],
    }


# The native PyTorch peer


def native_vgg(layers, pooling: str = "avg", weights=None, padding="zero"):
    """VGG19 up to the deepest of `layers`, as `(name, module)` pairs.

    Args:
        layers: Keras layer names (`block4_conv2`).
        pooling: `"avg"` or `"max"`.
        weights: optional list of `(kernel HWIO, bias)` NumPy pairs in
            Keras order, e.g. from `VGG19Features.get_weights()`; `None`
            keeps PyTorch's random initialisation.
        padding: `Config.padding`: `"zero"`, `"reflect"` or `"replicate"`.
    """
    import torch

    deepest = max(KERAS_LAYER_NAMES.index(name) for name in layers)
    modules, count, channels = [], 0, 3
    pool = torch.nn.AvgPool2d if pooling == "avg" else torch.nn.MaxPool2d
    mode = {"zero": "zeros"}.get(padding, padding)
    for block, (convs, width) in enumerate(_BLOCKS, start=1):
        if block > 1:
            modules.append((f"pool{block - 1}", pool(2, 2)))
        for conv in range(1, convs + 1):
            layer = torch.nn.Conv2d(
                channels, width, 3, padding=1, padding_mode=mode
            )
            if weights is not None:
                kernel, bias = weights[2 * count], weights[2 * count + 1]
                with torch.no_grad():
                    layer.weight.copy_(
                        torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy())
                    )
                    layer.bias.copy_(torch.from_numpy(bias))
            modules.append((f"block{block}_conv{conv}", layer))
            channels = width
            count += 1
            if count > deepest:
                return modules
    return modules


class NativeStyleTransfer:
    """The `gatys` preset's losses and Adam loop in plain PyTorch (NCHW)."""

    def __init__(self, content, style, start, config, device, weights=None):
        import torch

        self.torch = torch
        self.config = config
        self.device = device
        self.layers = native_vgg(
            config.content_layers + config.style_layers,
            config.pooling,
            weights,
            config.padding,
        )
        for _, module in self.layers:
            module.to(device).requires_grad_(False)
        self.autocast = config.precision == "bf16"
        mean = torch.tensor((103.939, 116.779, 123.68), device=device)
        self.mean = mean.view(1, 3, 1, 1)
        with torch.no_grad():
            content_features = self.features(self._tensor(content))
            style_features = self.features(self._tensor(style))
        self.content_targets = {
            n: content_features[n] for n in config.content_layers
        }
        self.style_targets = {
            n: self.gram(style_features[n]) for n in config.style_layers
        }
        weight = 1.0 / len(config.style_layers)
        self.style_weights = {
            # style_normalization="target": w_l / E_l(G = 0).
            n: weight * 4.0 * a.shape[-1] ** 2 / float((a**2).sum())
            for n, a in self.style_targets.items()
        }
        self.image = self._tensor(start).requires_grad_(True)
        self.optimizer = torch.optim.Adam([self.image], config.learning_rate)

    def _tensor(self, array):
        array = np.ascontiguousarray(array.transpose(2, 0, 1)[None])
        return self.torch.from_numpy(array).to(self.device)

    def features(self, image):
        # RGB 0..255 to BGR minus the ImageNet mean, as features.preprocess.
        x = image.flip(1) - self.mean
        wanted = set(self.config.content_layers + self.config.style_layers)
        out = {}
        with self.torch.autocast(
            self.device.type, self.torch.bfloat16, enabled=self.autocast
        ):
            for name, module in self.layers:
                x = module(x)
                if name.startswith("block"):
                    x = self.torch.relu(x)
                if name in wanted:
                    out[name] = x.float()
        return out

    @staticmethod
    def gram(features):
        b, c, h, w = features.shape
        flat = features.reshape(b, c, h * w)
        return flat @ flat.transpose(1, 2) / (h * w)

    def losses(self, image):
        features = self.features(image)
        content = sum(
            ((features[n] - p) ** 2).mean() / len(self.content_targets)
            for n, p in self.content_targets.items()
        )
        style = sum(
            w
            * ((self.gram(features[n]) - self.style_targets[n]) ** 2).sum()
            / (4.0 * features[n].shape[1] ** 2)
            for n, w in self.style_weights.items()
        )
        down = image[:, :, 1:, :] - image[:, :, :-1, :]
        right = image[:, :, :, 1:] - image[:, :, :, :-1]
        tv = (down**2).sum() + (right**2).sum()
        c = self.config
        if c.tv_reduction == "mean":
            tv = tv / (image.shape[2] * image.shape[3])
        total = (
            c.content_weight * content + c.style_weight * style
            + c.tv_weight * tv
        )  # fmt: skip
        return {"total": total, "content": content, "style": style, "tv": tv}

    def step(self):
        self.optimizer.zero_grad(set_to_none=True)
        total = self.losses(self.image)["total"]
        total.backward()
        self.optimizer.step()
        with self.torch.no_grad():
            self.image.clamp_(0.0, 255.0)
        return total

    def sync(self):
        if self.device.type == "cuda":
            self.torch.cuda.synchronize()


def measure_native(
    size, iterations, warmup, repeats, precision, jit_compile, tile_size
):
    import torch

    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    config = resolve_config(
        PRESET, weights=None, size=size, precision=precision
    )
    run = NativeStyleTransfer(*images(size), config, device)
    for _ in range(warmup):
        run.step()
    run.sync()
    times = []
    for _ in range(repeats):
        begin = time.perf_counter()
        for _ in range(iterations):
            run.step()
        run.sync()
        times.append(1000 * (time.perf_counter() - begin) / iterations)
    with torch.no_grad():
        total = float(run.losses(run.image)["total"])
    if device.type == "cuda":
        peak, where = torch.cuda.max_memory_allocated() / 2**20, "gpu"
    else:
        peak, where = _peak_rss_mb(), "cpu"
    return {
        "backend": NATIVE,
        "jit_compile": False,
        "device": where,
        "ms_per_iter": float(np.median(times)),
        "ms_per_iter_all": times,
        "peak_mem_mb": peak,
        "final_total": total,
    }


# The driver


def _worker(backend, size, iterations, warmup, repeats, precision, jit, tile):
    measure = measure_native if backend == NATIVE else measure_keras
    record = measure(size, iterations, warmup, repeats, precision, jit, tile)
    record.update(
        size=size, precision=precision, iterations=iterations, tile_size=tile
    )
    return record


def worker_env(backend: str, emulate_isa: str | None) -> dict:
    """A worker's environment: the backend, and the emulated CPU's caps."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if backend in KERAS_BACKENDS:
        env["KERAS_BACKEND"] = backend
    if emulate_isa:
        for name, value in EMULATED_ISA_ENV[emulate_isa].items():
            env.setdefault(name, value)
        flags = env.get("XLA_FLAGS", "").split()
        env["XLA_FLAGS"] = " ".join([*flags, _XLA_MAX_ISA[emulate_isa]])
    return env


def emulate_cpu_flags(emulate_isa: str) -> None:
    """Hides from the package the CPU flags an emulated CPU lacks."""
    real = hardware._cpu_flags

    def flags():
        return {f for f in real() if not f.startswith(_NOT_IN_AVX2)}

    hardware._cpu_flags = flags


def _worker_command(
    backend, size, iterations, warmup, repeats, precision, jit_compile, tile,
    emulate_isa,
):  # fmt: skip
    return [
        sys.executable, __file__, "--worker", "--backends", backend,
        "--sizes", str(size), "--iterations", str(iterations),
        "--warmup", str(warmup), "--repeats", str(repeats),
        "--precision", precision,
        "--jit-compile", jit_compile, "--tile-sizes", str(tile),
        *(["--emulate-isa", emulate_isa] if emulate_isa else []),
    ]  # fmt: skip


def _spawn(
    backend, size, iterations, warmup, repeats, precision, jit_compile, tile,
    emulate_isa=None,
):  # fmt: skip
    command = _worker_command(
        backend, size, iterations, warmup, repeats, precision, jit_compile,
        tile, emulate_isa,
    )  # fmt: skip
    run = subprocess.run(
        command,
        env=worker_env(backend, emulate_isa),
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        tail = run.stderr.strip().splitlines()[-1:] or ["?"]
        raise click.ClickException(
            f"{backend} {size} px {precision} failed: {tail[0]}"
        )
    return json.loads(run.stdout.strip().splitlines()[-1])


_KERNEL_KINDS = ("convolution", "gemm_api", "matmul")


def check_isa(backend: str, emulate_isa: str | None) -> dict:
    """What oneDNN ran in a short run: its instruction set and kernels.

    One 64 px step of `backend` with `ONEDNN_VERBOSE=1`: the `isa:` line
    oneDNN prints when it starts, and the implementation of each kind of
    primitive it executed (`gemm_api` is a bare matrix product, as inside
    Eigen's and XLA's convolutions).
    """
    env = dict(worker_env(backend, emulate_isa), ONEDNN_VERBOSE="1")
    command = _worker_command(
        backend, 64, 1, 1, 1, "fp32", "default", 0, emulate_isa
    )
    run = subprocess.run(
        command, env=env, capture_output=True, text=True, check=False
    )
    isa, kernels = None, set()
    for line in run.stdout.splitlines():
        fields = line.split(",")
        if not line.startswith("onednn_verbose"):
            continue
        if ",isa:" in line:
            isa = line.split("isa:", 1)[1].strip()
        elif fields[3] == "exec" and fields[5] in _KERNEL_KINDS:
            kernels.add(f"{fields[5]} {fields[6]}".strip())
    return {"onednn_isa": isa, "onednn_kernels": sorted(kernels)}


def cpu_line(emulate_isa: str | None) -> str:
    """The CPU, its cores and vector extensions, and what is emulated."""
    line = (
        f"CPU: {cpu_name()}, {os.cpu_count()} cores, vector extensions: "
        f"{', '.join(cpu_vector_extensions()) or 'unknown'}"
    )
    if emulate_isa:
        settings = ", ".join(
            f"{k}={v}" for k, v in EMULATED_ISA_ENV[emulate_isa].items()
        )
        line += (
            f"; emulating a CPU with {emulate_isa.upper()} and FMA only "
            f"({settings}, XLA_FLAGS={_XLA_MAX_ISA[emulate_isa]})"
        )
    return line


def markdown_table(records: list[dict]) -> str:
    lines = [
        "| backend | size | tiles | precision | XLA/compile | ms/iter "
        "| peak MB | × native |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        ratio = r.get("ratio_to_native")
        lines.append(
            f"| {r['backend']} | {r['size']} | {r.get('tile_size') or '-'} | "
            f"{r['precision']} | "
            f"{'yes' if r['jit_compile'] else 'no'} | "
            f"{r['ms_per_iter']:.1f} | {r['peak_mem_mb']:.0f} | "
            f"{'' if ratio is None else f'{ratio:.2f}'} |"
        )
    return "\n".join(lines)


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


@click.command()
@click.option("--backends", default=",".join(BACKENDS), show_default=True)
@click.option("--sizes", default="256,512,1024", show_default=True)
@click.option("--iterations", default=10, show_default=True)
@click.option("--warmup", default=3, show_default=True)
@click.option(
    "--repeats",
    default=3,
    show_default=True,
    help="Timed blocks of --iterations; the median is reported.",
)
@click.option(
    "--precision",
    default="fp32,bf16",
    show_default=True,
    help="Comma-separated: fp32, bf16.",
)
@click.option(
    "--jit-compile",
    type=click.Choice(["default", "on", "off"]),
    default="default",
    show_default=True,
    help="Keras backends: the package's choice, or force XLA / "
    "torch.compile on or off.",
)
@click.option(
    "--tile-sizes",
    default="0",
    show_default=True,
    help="Comma-separated tile sizes for the Keras backends (0: untiled).",
)
@click.option(
    "--emulate-isa",
    type=click.Choice(sorted(EMULATED_ISA_ENV)),
    help="Run as on a CPU with only this vector extension (see above).",
)
@click.option(
    "--isa-check/--no-isa-check",
    default=True,
    show_default=True,
    help="First report what oneDNN runs on each backend.",
)
@click.option("--json", "json_path", help="Write the records here.")
@click.option("--markdown", "markdown_path", help="Write the table here.")
@click.option("--worker", is_flag=True, hidden=True)
def main(
    backends, sizes, iterations, warmup, repeats, precision, jit_compile,
    tile_sizes, emulate_isa, isa_check, json_path, markdown_path, worker,
):  # fmt: skip
    """Times style transfer per backend against native PyTorch."""
    backends, precisions = _csv(backends), _csv(precision)
    sizes = [int(s) for s in _csv(sizes)]
    tiles = [int(t) for t in _csv(tile_sizes)]
    for name in backends:
        if name not in BACKENDS:
            raise click.BadParameter(f"{name!r} not in {BACKENDS}")
    for name in precisions:
        if name not in PRECISIONS:
            raise click.BadParameter(f"{name!r} not in {PRECISIONS}")
    if worker:
        if emulate_isa:
            emulate_cpu_flags(emulate_isa)
        record = _worker(
            backends[0], sizes[0], iterations, max(warmup, 1), repeats,
            precisions[0], jit_compile, tiles[0],
        )  # fmt: skip
        print(json.dumps(record))
        return
    # An emulated AVX2 CPU has no bf16 units.
    flags = [] if emulate_isa else bf16_cpu_flags()
    cpu = {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "vector_extensions": cpu_vector_extensions(),
        "emulated_isa": emulate_isa,
    }
    click.echo(cpu_line(emulate_isa))
    if isa_check:
        for backend in backends:
            found = cpu[f"onednn_{backend}"] = check_isa(backend, emulate_isa)
            click.echo(
                f"{backend:<13} oneDNN ISA: {found['onednn_isa']}; "
                f"kernels: {', '.join(found['onednn_kernels']) or 'none'}"
            )
    if "bf16" in precisions and not flags:
        click.echo(
            "warning: this CPU has no bf16 units; bf16 runs will be slower "
            "than fp32 unless a GPU is used"
        )
    records = []
    for size in sizes:
        for prec in precisions:
            group = []
            runs = [
                (backend, tile)
                for backend in backends
                for tile in (tiles if backend != NATIVE else [0])
            ]
            for backend, tile in runs:
                record = _spawn(
                    backend, size, iterations, warmup, repeats, prec,
                    jit_compile, tile, emulate_isa,
                )  # fmt: skip
                record.update(cpu)
                click.echo(
                    f"{backend:<13} {size:>5} px {prec:<5} tiles {tile:>4} "
                    f"{record['ms_per_iter']:>9.1f} ms/iter "
                    f"{record['peak_mem_mb']:>7.0f} MB"
                )
                group.append(record)
            native = [r for r in group if r["backend"] == NATIVE]
            for record in group:
                record["ratio_to_native"] = (
                    record["ms_per_iter"] / native[0]["ms_per_iter"]
                    if native
                    else None
                )
            records.extend(group)
    table = markdown_table(records)
    click.echo(table)
    if json_path:
        with open(json_path, "w") as f:
            json.dump(records, f, indent=1)
    if markdown_path:
        with open(markdown_path, "w") as f:
            f.write(
                f"{cpu_line(emulate_isa)}; median of {repeats} blocks "
                f"of {iterations} iterations after {warmup} warm-up."
                f"\n\n{table}\n"
            )


if __name__ == "__main__":
    main()
