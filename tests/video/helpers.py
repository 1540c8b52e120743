import subprocess

import imageio_ffmpeg
import numpy as np


def pan_frames(rng, count, shape=(32, 48), step=2):
    """Frames of a camera panning right over random smooth texture."""
    height, width = shape
    wide = rng.uniform(
        0, 255, (height // 4 + 1, (width + step * count) // 4 + 2, 3)
    )
    wide = np.kron(wide, np.ones((4, 4, 1)))[:height]
    return [
        wide[:, step * t : step * t + width].astype("float32")
        for t in range(count)
    ]


def clip_with_audio(path, frames=12, fps=12, size="32x24"):
    """A test pattern with a sine tone, made by the bundled ffmpeg."""
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error",
            "-f", "lavfi", "-i",
            f"testsrc=size={size}:rate={fps}:duration={frames / fps}",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={frames / fps}",
            "-shortest", "-c:v", "libx264", "-pix_fmt", "yuv420p",
            "-c:a", "aac", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path
