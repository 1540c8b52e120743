"""Fast-network video: flicker with and without the temporal blend, speed,
and the peak memory of `keras-nst stylize` against the clip's length.

Flicker: the shipped network stylises the pan and zoom clips of
`scripts/video_flicker.py` frame by frame; for each `--blends` strength it
prints the mean temporal warping error (the last output warped into each
frame, over the pixels the flow check keeps) and the seconds per frame,
network and blend apart.

Memory: `keras-nst stylize` runs in its own process on a pan clip of each
of `--frame-counts` lengths, written as .mp4 at `--memory-size`, and the
process's peak resident memory is printed (`ru_maxrss` of the child).

    python scripts/fast_video.py --sizes 256,512 --frames 12 \\
        --frame-counts 10,200 --json fast_video.json
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import click
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from video_flicker import pan_frames  # noqa: E402
from video_flicker import zoom_frames  # noqa: E402

MODEL = os.path.join(ROOT, "examples", "models", "starry_night.keras")


def flicker(stylizer, clip, strength):
    from keras_nst.video.blend import TemporalBlend

    blend = TemporalBlend(strength, measure=True)
    network = blending = 0.0
    for frame in clip:
        begin = time.perf_counter()
        output = stylizer(frame[None])[0]
        network += time.perf_counter() - begin
        begin = time.perf_counter()
        blend(frame, output)
        blending += time.perf_counter() - begin
    return {
        "warping_error": float(np.mean(blend.warping_errors)),
        "network_s_per_frame": network / len(clip),
        "blend_s_per_frame": blending / len(clip),
    }


def peak_memory(frames, size):
    from keras_nst.video.io import write_video

    with tempfile.TemporaryDirectory() as folder:
        clip = os.path.join(folder, "pan.mp4")
        write_video(clip, iter(pan_frames(size, frames)), 24)
        process = subprocess.Popen(
            [sys.executable, "-m", "keras_nst", "stylize", MODEL, clip,
             "-o", os.path.join(folder, "out"), "-q"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        # wait4 gives this child's own peak (ru_maxrss, KiB on Linux).
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            raise click.ClickException(f"stylize failed on {frames} frames")
    return {
        "frames": frames,
        "size": size,
        "peak_rss_mb": usage.ru_maxrss / 1024,
    }


@click.command()
@click.option("--sizes", default="256,512", show_default=True)
@click.option("--frames", default=12, show_default=True)
@click.option("--blends", default="0,0.5,0.8", show_default=True)
@click.option("--frame-counts", default="10,200", show_default=True)
@click.option("--memory-size", default=256, show_default=True)
@click.option("--json", "json_path", help="Write the records here.")
def main(sizes, frames, blends, frame_counts, memory_size, json_path):
    """Fast-network video: flicker, speed and memory."""
    memory = []
    for count in (int(c) for c in frame_counts.split(",")):
        memory.append(peak_memory(count, memory_size))
        click.echo(
            f"stylize {count:4} frames at {memory_size} px: peak RSS "
            f"{memory[-1]['peak_rss_mb']:.0f} MB"
        )
    import keras

    from keras_nst.fast import Stylizer
    from keras_nst.fast import load_transform

    stylizer = Stylizer(load_transform(MODEL))
    records = {"backend": keras.backend.backend(), "flicker": []}
    records["memory"] = memory
    for size in (int(s) for s in sizes.split(",")):
        for name, make in (("pan", pan_frames), ("zoom", zoom_frames)):
            clip = make(size, frames)
            stylizer(clip[0][None])  # compiles for this shape
            for strength in (float(b) for b in blends.split(",")):
                record = {"clip": name, "size": size, "blend": strength}
                record.update(flicker(stylizer, clip, strength))
                records["flicker"].append(record)
                click.echo(
                    f"{name:4} {size:4} px  blend {strength:.1f}  warping "
                    f"error {record['warping_error']:8.2f}  network "
                    f"{record['network_s_per_frame']:.3f} s/frame  blend "
                    f"{record['blend_s_per_frame']:.3f} s/frame"
                )
    if json_path:
        with open(json_path, "w") as file:
            json.dump(records, file, indent=1)


if __name__ == "__main__":
    main()
