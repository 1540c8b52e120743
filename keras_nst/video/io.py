"""Reading and writing video files frame by frame.

Frames stream through ffmpeg (`imageio-ffmpeg`, which ships its own
binary): one frame is in memory at a time, whatever the clip's length.
A written video appears complete or not at all (`keras_nst.atomic`), and
keeps the frame rate and, for `.mp4` and `.webm`, the source's audio.
Nothing here imports Keras.
"""

import contextlib
import dataclasses
import os
import subprocess  # noqa: S404 - ffmpeg, the binary imageio-ffmpeg ships
import warnings
from collections.abc import Iterator

import numpy as np

from keras_nst.atomic import atomic_write
from keras_nst.errors import MissingExtraError
from keras_nst.image_io import resize_image
from keras_nst.image_io import to_uint8
from keras_nst.image_limits import get_max_image_pixels

__all__ = [
    "VIDEO_EXTENSIONS",
    "VideoInfo",
    "frame_shape",
    "is_video",
    "read_frames",
    "read_video_info",
    "write_video",
]

# Extension: (video codec, audio codec or None for no audio track).
_CODECS = {
    ".mp4": ("libx264", "aac"),
    ".webm": ("libvpx-vp9", "libopus"),
    ".gif": ("gif", None),
}
VIDEO_EXTENSIONS = tuple(_CODECS)
"""The video file types read and written (by extension)."""


def is_video(path: str | os.PathLike) -> bool:
    """Whether `path` names a video file, by its extension."""
    return os.path.splitext(os.fspath(path))[1].lower() in _CODECS


def _ffmpeg():
    try:
        import imageio_ffmpeg
    except ImportError:
        raise MissingExtraError(
            "Video needs imageio-ffmpeg: pip install 'keras-nst[video]'"
        ) from None
    return imageio_ffmpeg


@dataclasses.dataclass(frozen=True)
class VideoInfo:
    """What a video file holds.

    Attributes:
        fps: frames per second.
        height: frame height in pixels.
        width: frame width in pixels.
        frames: the number of frames, counted by decoding.
        has_audio: whether it has an audio track.
    """

    fps: float
    height: int
    width: int
    frames: int
    has_audio: bool


@contextlib.contextmanager
def _starting_ffmpeg() -> Iterator[None]:
    """Starts ffmpeg without JAX's warning about `os.fork`.

    JAX warns on every fork because a forked child that runs Python may
    deadlock; `subprocess` forks and executes ffmpeg at once, in C.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "os.fork", RuntimeWarning, module="subprocess"
        )
        yield


def _check_input(path: str) -> None:
    if not os.path.exists(path):
        raise FileNotFoundError(f"Video file not found: '{path}'")
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"Expected a video file, not a folder: '{path}'"
        )
    if not is_video(path):
        raise ValueError(
            f"Expected a video ending in {', '.join(VIDEO_EXTENSIONS)}. "
            f"Received: '{path}'"
        )


def _unreadable(path: str, error: Exception) -> ValueError:
    reason = str(error).strip().splitlines()
    detail = f": {reason[-1]}" if reason else ""
    return ValueError(f"Could not read the video '{path}'{detail}")


def read_video_info(path: str | os.PathLike) -> VideoInfo:
    """Reads a video's frame rate, size, frame count and audio.

    Raises:
        FileNotFoundError: `path` does not exist.
        ValueError: not a readable video of a supported type, or frames
            with more pixels than the image limit
            (`keras_nst.image_io.set_max_image_pixels`).
        ImportError: imageio-ffmpeg is not installed.
    """
    path = os.fspath(path)
    _check_input(path)
    ffmpeg = _ffmpeg()
    try:
        with _starting_ffmpeg():
            # imageio-ffmpeg leaves its pipes to the collector when ffmpeg
            # has already exited, which a short clip's has: they are
            # closed here, as the generator is.
            warnings.simplefilter("ignore", ResourceWarning)
            reader = ffmpeg.read_frames(path)
            meta = next(reader)
            reader.close()
            frames, _ = ffmpeg.count_frames_and_secs(path)
    except (RuntimeError, OSError, StopIteration, KeyError) as error:
        raise _unreadable(path, error) from None
    width, height = meta["size"]
    limit = get_max_image_pixels()
    if limit is not None and width * height > limit:
        raise ValueError(
            f"The frames of '{path}' have {width * height} pixels "
            f"({width}x{height}), more than the limit of {limit}."
        )
    if not frames or not meta.get("fps"):
        raise ValueError(f"Could not read the video '{path}': no frames")
    return VideoInfo(
        fps=float(meta["fps"]),
        height=int(height),
        width=int(width),
        frames=int(frames),
        has_audio=bool(meta.get("audio_codec")),
    )


def frame_shape(info: VideoInfo, size: int | None = None) -> tuple[int, int]:
    """The `(height, width)` frames are read at, with even sides.

    H.264 and VP9 in 4:2:0 chroma want even sides, so each side is the
    nearest even number of pixels.

    Args:
        info: the video.
        size: the longest side, or `None` for the video's own size.
    """
    height, width = info.height, info.width
    if size is not None:
        scale = size / max(height, width)
        height, width = height * scale, width * scale
    return max(2, 2 * round(height / 2)), max(2, 2 * round(width / 2))


def read_frames(
    path: str | os.PathLike,
    shape: tuple[int, int] | None = None,
    info: VideoInfo | None = None,
) -> Iterator[np.ndarray]:
    """Yields a video's frames one at a time.

    Args:
        path: the video file.
        shape: `(height, width)` to resize each frame to (Lanczos), e.g.
            from `frame_shape`; `None` keeps the video's size.
        info: the video's `read_video_info`, if the caller has it (it
            costs a pass over the file).

    Yields:
        `(H, W, 3)` float32 RGB arrays in 0..255.

    Raises:
        ValueError: the file cannot be decoded.
    """
    path = os.fspath(path)
    if info is None:
        info = read_video_info(path)
    height, width = info.height, info.width
    size = height * width * 3
    # ffmpeg decodes into a pipe, one raw RGB frame after another.
    command = [
        _ffmpeg().get_ffmpeg_exe(), "-nostdin", "-v", "error", "-i", path,
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
    ]  # fmt: skip
    with _starting_ffmpeg():
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    with process:
        try:
            while raw := process.stdout.read(size):
                if len(raw) < size:
                    raise ValueError(
                        f"Could not read the video '{path}': a frame is cut "
                        "short"
                    )
                frame = np.frombuffer(raw, np.uint8).reshape(height, width, 3)
                frame = frame.astype(np.float32)
                if shape is not None and tuple(shape) != (height, width):
                    frame = resize_image(frame, tuple(shape))
                yield frame
        finally:
            # Stopped early (or failed): ffmpeg need not finish decoding.
            if process.poll() is None:
                process.kill()
        error = process.stderr.read().decode(errors="replace").strip()
    if process.returncode != 0:
        raise ValueError(
            f"Could not read the video '{path}': "
            f"{error.splitlines()[-1] if error else 'ffmpeg failed'}"
        )


def write_video(
    path: str | os.PathLike,
    frames: Iterator[np.ndarray],
    fps: float,
    audio_from: str | os.PathLike | None = None,
) -> int:
    """Writes frames as a video, atomically, and returns how many.

    The codec follows the extension: H.264 for `.mp4`, VP9 for `.webm`,
    GIF's own for `.gif`. Frames are encoded as they come, so a long clip
    never sits in memory; the file appears only when the last frame is
    written (an error or Ctrl-C leaves the old file, or none).

    Args:
        path: ends in `.mp4`, `.webm` or `.gif`.
        frames: `(H, W, 3)` arrays in 0..255, all the same shape; even
            sides for `.mp4` and `.webm`.
        fps: frames per second.
        audio_from: a video whose audio track goes into the output
            (`.mp4` and `.webm`; ignored for `.gif` and when it has none).

    Raises:
        ValueError: an unsupported extension, no frames, or frames of
            different shapes.
    """
    path = os.fspath(path)
    if not is_video(path):
        raise ValueError(
            f"Expected a video ending in {', '.join(VIDEO_EXTENSIONS)}. "
            f"Received: '{path}'"
        )
    codec, audio_codec = _CODECS[os.path.splitext(path)[1].lower()]
    if (
        audio_codec is None
        or audio_from is None
        or not read_video_info(audio_from).has_audio
    ):
        audio_from = audio_codec = None
    ffmpeg = _ffmpeg()
    written = 0

    def open_writer(partial: str, shape: tuple[int, ...]):
        if codec != "gif" and (shape[0] % 2 or shape[1] % 2):
            raise ValueError(
                f"Expected frames with even sides for '{path}' (4:2:0 "
                f"video). Received: {shape[0]}x{shape[1]}"
            )
        writer = ffmpeg.write_frames(
            partial,
            (shape[1], shape[0]),
            fps=fps,
            codec=codec,
            # GIF takes a palette; the others 4:2:0 chroma.
            pix_fmt_out="rgb8" if codec == "gif" else "yuv420p",
            macro_block_size=1,
            ffmpeg_log_level="error",
            audio_path=None if audio_from is None else os.fspath(audio_from),
            audio_codec=audio_codec,
        )
        with _starting_ffmpeg():
            writer.send(None)
        return writer

    def write(partial: str) -> None:
        nonlocal written
        writer = shape = None
        try:
            for frame in frames:
                frame = np.ascontiguousarray(to_uint8(frame))
                if writer is None:
                    shape = frame.shape
                    writer = open_writer(partial, shape)
                elif frame.shape != shape:
                    raise ValueError(
                        "Expected every frame to have the first's shape "
                        f"{shape}. Received: {frame.shape} at frame "
                        f"{written + 1}"
                    )
                writer.send(frame)
                written += 1
            if writer is None:
                raise ValueError(f"No frames to write to '{path}'.")
        finally:
            if writer is not None:
                writer.close()

    atomic_write(path, write)
    return written
