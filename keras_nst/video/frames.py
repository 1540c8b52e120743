"""Where a video run keeps its frames. Nothing here imports Keras."""

import os

__all__ = ["frame_path", "frames_folder", "written_frames"]


def frames_folder(output: str | os.PathLike) -> str:
    """Where a video's frames go by default: `OUTPUT_frames/`."""
    return os.path.splitext(os.fspath(output))[0] + "_frames"


def frame_path(folder: str | os.PathLike, index: int) -> str:
    """The PNG of frame `index` (from 1) in `folder`."""
    return os.path.join(os.fspath(folder), f"frame_{index:06d}.png")


def written_frames(folder: str | os.PathLike) -> int:
    """How many frames, from the first on without a gap, are in `folder`."""
    count = 0
    while os.path.isfile(frame_path(folder, count + 1)):
        count += 1
    return count
