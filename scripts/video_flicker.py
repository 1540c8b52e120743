"""Flicker of video stylisation: temporal loss against independent frames.

Makes clips with known camera motion from the shipped photos (a pan and a
zoom), stylises each twice at equal iterations per frame (each frame from
the last one warped with the temporal loss; each frame on its own from
--init), and prints the temporal warping error of both (mean squared
difference between consecutive stylised frames after warping, over the
pixels the flow check keeps), with the estimated flow and, for the pan,
the true shift. Needs the VGG19 weights and the `video` extra.

    python scripts/video_flicker.py --size 256 --frames 12 --out flicker/
"""

import argparse
import json
import os
import time

import numpy as np

from keras_nst.image_io import load_image
from keras_nst.image_io import resize_image
from keras_nst.presets import resolve_config
from keras_nst.video.config import VideoConfig
from keras_nst.video.frames import frame_path
from keras_nst.video.io import write_video
from keras_nst.video.optimize import stylize_video

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")
PAN_STEP = (3, 1)  # (dx, dy) pixels per frame at the clip's size


def pan_frames(size: int, frames: int) -> list[np.ndarray]:
    """A camera panning right and down over the astronaut by PAN_STEP."""
    height, width = size * 3 // 4 // 2 * 2, size
    dx, dy = PAN_STEP
    photo = load_image(
        os.path.join(EXAMPLES, "astronaut.png"),
        max(width + dx * frames, height + dy * frames) + 8,
    )
    return [
        photo[4 + dy * t : 4 + dy * t + height, 4 + dx * t : 4 + dx * t + width]
        for t in range(frames)
    ]


def zoom_frames(size: int, frames: int) -> list[np.ndarray]:
    """A camera zooming into the cat by 2% a frame."""
    photo = load_image(os.path.join(EXAMPLES, "chelsea.png"))
    height, width = size * 3 // 4 // 2 * 2, size
    clips = []
    for t in range(frames):
        scale = 0.98**t
        h, w = photo.shape[0] * scale, photo.shape[0] * scale * width / height
        w = min(w, photo.shape[1])
        top = (photo.shape[0] - h) / 2
        left = (photo.shape[1] - w) / 2
        crop = photo[int(top) : int(top + h), int(left) : int(left + w)]
        clips.append(resize_image(crop, (height, width)))
    return clips


def true_pan_error(folder: str, frames: int) -> float:
    """The warping error of a pan's stylised frames under the true shift."""
    dx, dy = PAN_STEP
    errors = []
    for t in range(2, frames + 1):
        current = load_image(frame_path(folder, t))
        previous = load_image(frame_path(folder, t - 1))
        # frame_t(x) = frame_{t-1}(x + (dx, dy)), where both exist.
        moved = previous[dy:, dx:]
        errors.append(
            np.mean((current[: moved.shape[0], : moved.shape[1]] - moved) ** 2)
        )
    return float(np.mean(errors))


def run(args, clip, frames, mode, weight, out):
    video = VideoConfig(
        frame_iterations=args.frame_iterations,
        temporal_weight=weight if mode == "temporal" else 0.0,
        frame_start="warped" if mode == "temporal" else "init",
    )
    config = resolve_config(
        "gatys", size=args.size, iterations=args.iterations, seed=0
    )
    name = f"{clip}_{mode}" + (f"_{weight:g}" if mode == "temporal" else "")
    folder = os.path.join(out, name + "_frames")
    reports = []
    began = time.monotonic()
    stylize_video(
        os.path.join(out, f"{clip}.mp4"),
        os.path.join(EXAMPLES, "starry_night.jpg"),
        os.path.join(out, name + ".mp4"),
        config,
        video,
        frames_dir=folder,
        on_frame=reports.append,
    )
    seconds = time.monotonic() - began
    later = reports[1:]
    row = {
        "clip": clip,
        "mode": mode,
        "temporal_weight": video.temporal_weight,
        "warping_error": float(np.mean([r.warping_error for r in later])),
        "reliable": float(np.mean([r.reliable for r in later])),
        "first_frame_s": reports[0].seconds,
        "later_frame_s": float(np.mean([r.seconds for r in later])),
        "style": float(np.mean([r.losses["style"] for r in later])),
        "content": float(np.mean([r.losses["content"] for r in later])),
        "total_s": seconds,
    }
    if clip == "pan":
        row["true_flow_error"] = true_pan_error(folder, len(reports))
    print(json.dumps(row), flush=True)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--iterations", type=int, default=150)
    parser.add_argument("--frame-iterations", type=int, default=75)
    parser.add_argument("--temporal-weights", default="1e4")
    parser.add_argument("--clips", default="pan,zoom")
    parser.add_argument("--modes", default="temporal,independent")
    parser.add_argument("--fps", type=float, default=12.0)
    parser.add_argument("--out", default="flicker")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    makers = {"pan": pan_frames, "zoom": zoom_frames}
    weights = [float(w) for w in args.temporal_weights.split(",")]
    rows = []
    for clip in args.clips.split(","):
        frames = makers[clip](args.size, args.frames)
        write_video(
            os.path.join(args.out, f"{clip}.mp4"), iter(frames), args.fps
        )
        for mode in args.modes.split(","):
            for weight in weights if mode == "temporal" else [0.0]:
                rows.append(run(args, clip, frames, mode, weight, args.out))
    with open(os.path.join(args.out, "results.json"), "w") as file:
        json.dump(rows, file, indent=1)


if __name__ == "__main__":
    main()
