"""Stylising a video by optimisation, frame after frame (Ruder et al. 2016).

The first frame is a whole `keras_nst.optimize` run. Each later frame
starts from the last stylised frame warped along the optical flow between
the two input frames, and a temporal loss keeps it close to that warped
frame where the flow is reliable (`keras_nst.video.flow`). Frames are
written as PNGs as they are made, so a stopped run keeps them and goes on
from the last (`resume=True`); the video is assembled from them at the
end, with the source's frame rate and audio.

Reference:

- [Ruder, Dosovitskiy, Brox, Artistic style transfer for videos, GCPR
  2016](https://arxiv.org/abs/1604.08610)
"""

import dataclasses
import os
import time
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from keras_nst.config import Config
from keras_nst.features import VGG19Features
from keras_nst.image_io import load_image
from keras_nst.image_io import to_uint8
from keras_nst.image_output import check_distinct_outputs
from keras_nst.image_output import check_output_path
from keras_nst.image_output import read_metadata
from keras_nst.image_output import save_image
from keras_nst.inputs import initial_image
from keras_nst.inputs import load_styles
from keras_nst.inputs import model_inputs
from keras_nst.optimizers import optimizer_for
from keras_nst.presets import resolve_config
from keras_nst.settings import replace_settings
from keras_nst.style_transfer import optimize
from keras_nst.types import ImageLike
from keras_nst.video.config import VideoConfig
from keras_nst.video.config import resolve_video_config
from keras_nst.video.flow import optical_flow
from keras_nst.video.flow import reliable_mask
from keras_nst.video.flow import warp
from keras_nst.video.flow import warping_error
from keras_nst.video.frames import frame_path
from keras_nst.video.frames import frames_folder
from keras_nst.video.frames import written_frames
from keras_nst.video.io import VIDEO_EXTENSIONS
from keras_nst.video.io import VideoInfo
from keras_nst.video.io import frame_shape
from keras_nst.video.io import read_frames
from keras_nst.video.io import read_video_info
from keras_nst.video.io import write_video
from keras_nst.video.model import FrameModel

__all__ = ["FrameReport", "stylize_video"]


@dataclasses.dataclass(frozen=True)
class FrameReport:
    """What one stylised frame took and how steady it is.

    Attributes:
        index: the frame's number, from 1.
        frames: the clip's number of frames.
        seconds: the time the frame took, flow and writing included.
        losses: the frame's final loss terms.
        warping_error: `keras_nst.video.flow.warping_error` against the
            last frame (`None` for the first).
        reliable: the share of pixels the flow check kept (`None` for the
            first).
    """

    index: int
    frames: int
    seconds: float
    losses: dict[str, float]
    warping_error: float | None = None
    reliable: float | None = None


def _recorded(config: Config, video: VideoConfig) -> dict:
    return {**config.to_dict(), **video.to_dict()}


def _check_resumable(folder: str, settings: dict) -> None:
    recorded = read_metadata(frame_path(folder, 1))
    changed = sorted(
        key
        for key, value in settings.items()
        if key in recorded and recorded[key] != value
    )
    if changed:
        raise ValueError(
            f"The frames in '{folder}' were made with other settings "
            f"({', '.join(changed)}): give the same ones to go on, or "
            "start afresh in another folder."
        )


def stylize_video(
    content: str | os.PathLike,
    style: ImageLike | Sequence[ImageLike],
    output: str | os.PathLike,
    config: Config | str | None = None,
    video: VideoConfig | None = None,
    *,
    frames_dir: str | os.PathLike | None = None,
    resume: bool = False,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: str | int = 0,
    on_frame: Callable[[FrameReport], None] | None = None,
    extractor: VGG19Features | None = None,
    metadata: dict | None = None,
    **overrides: Any,
) -> VideoInfo:
    """Stylises a video with temporal consistency and writes it.

    Frames are read at `config.size` (longest side; even sides, as video
    encoders want), one at a time. Each is written to `frames_dir` as a
    PNG when done; `output` is written from them at the end, with the
    source's frame rate and, for `.mp4` and `.webm`, its audio.

    Args:
        content: the video, `.mp4`, `.webm` or `.gif`.
        style: the style image (path or array), or a list to blend.
        output: the stylised video, `.mp4`, `.webm` or `.gif`.
        config: the `Config` of every frame (a preset name, or `None` for
            `"gatys"`); the first frame runs all its scales, later frames
            only the last, untiled.
        video: a `VideoConfig`; `None` for the defaults.
        frames_dir: where the frames go; `None` uses `frames_folder`.
        resume: keep the frames already in `frames_dir` and go on from
            the last.
        callbacks: Keras callbacks for each frame's `fit`.
        verbose: as for `fit`, per frame.
        on_frame: called with a `FrameReport` after each frame is written.
        extractor: a `VGG19Features` to reuse.
        metadata: more JSON-serialisable data for each frame's PNG.
        **overrides: `Config` fields to change, e.g. `size=256`.

    Returns:
        The `VideoInfo` of the input.

    Raises:
        FileNotFoundError: a missing input.
        FileExistsError: `frames_dir` holds frames and `resume` is off.
        ValueError: a bad setting, an unreadable video or image, or (with
            `resume`) frames made with other settings.
        keras_nst.errors.Interrupted: SIGINT or SIGTERM stopped a frame;
            the frames before it are kept for `resume`.

    Example:

    ```python
    from keras_nst.video import stylize_video

    stylize_video("clip.mp4", "starry_night.jpg", "clip_starry.mp4",
                  size=256)
    ```
    """
    config = resolve_config(config, **overrides)
    video = resolve_video_config(video)
    output = os.fspath(output)
    check_output_path(output, VIDEO_EXTENSIONS)
    info = read_video_info(content)
    check_distinct_outputs([output], [content])
    shape = frame_shape(info, config.size)
    config = replace_settings(config, {"size": max(shape)})
    folder = os.fspath(frames_dir or frames_folder(output))
    settings = _recorded(config, video)
    done = written_frames(folder)
    if done and not resume:
        raise FileExistsError(
            f"'{folder}' holds frames of another run: go on with it "
            "(resume), or remove it."
        )
    if done:
        _check_resumable(folder, settings)
    os.makedirs(folder, exist_ok=True)
    style_images = load_styles(style, config)
    frame_config = replace_settings(
        config, {"start_size": None, "scales": None, "iterations": 0}
    )
    state = _Clip(
        frame_config, video, style_images, extractor, callbacks, verbose
    )
    previous_input = previous = None
    for index, frame in enumerate(read_frames(content, shape, info), start=1):
        if index < done:
            continue
        if index == done:
            previous_input = frame
            previous = load_image(frame_path(folder, index))
            continue
        began = time.monotonic()
        if previous is None:
            model = optimize(
                frame, style, config, callbacks=callbacks, verbose=verbose,
                extractor=state.extractor,
            )  # fmt: skip
            state.extractor = model.extractor
            picture, losses = model.get_image(), model.evaluate_losses()
            del model
            report = {}
        else:
            picture, losses, report = state.next(
                frame, previous_input, previous
            )
        picture = to_uint8(picture).astype(np.float32)
        if "flow" in report:
            backward, mask = report.pop("flow")
            report["warping_error"] = warping_error(
                picture, previous, backward, mask
            )
        save_image(
            frame_path(folder, index),
            picture,
            metadata={**(metadata or {}), **settings, "frame": index},
        )
        previous_input, previous = frame, picture
        if on_frame is not None:
            on_frame(
                FrameReport(
                    index, info.frames, time.monotonic() - began, losses,
                    **report,
                )
            )  # fmt: skip
    count = written_frames(folder)
    write_video(output, _read_pngs(folder, count), info.fps, content)
    return info


class _Clip:
    """The frames after the first: one `FrameModel`, built at frame 2."""

    def __init__(
        self, config, video, style_images, extractor, callbacks, verbose
    ):
        self.config = config
        self.video = video
        self.style_images = style_images
        self.extractor = extractor
        self.callbacks = callbacks
        self.verbose = verbose
        self.model = None

    def next(self, frame, previous_input, previous):
        """Optimises one frame; returns its picture, losses and report."""
        config, video = self.config, self.video
        backward = optical_flow(frame, previous_input)
        mask = reliable_mask(backward, optical_flow(previous_input, frame))
        warped = warp(previous, backward)
        start = (
            warped
            if video.frame_start == "warped"
            else initial_image(
                config.init, frame, self.style_images[0], config.seed
            )
        )
        inputs = model_inputs(config, frame, self.style_images, start)
        if self.model is None:
            self.model = FrameModel(
                inputs, config, self.extractor, video.temporal_weight
            )
            self.extractor = self.model.extractor
            self.model.compile(optimizer=optimizer_for(config))
        self.model.next_frame(inputs, warped, mask)
        self.model.optimize(
            video.frame_iterations,
            callbacks=self.callbacks,
            verbose=self.verbose,
        )
        report = {"flow": (backward, mask), "reliable": float(np.mean(mask))}
        return self.model.get_image(), self.model.evaluate_losses(), report


def _read_pngs(folder: str, count: int) -> Iterator[np.ndarray]:
    for index in range(1, count + 1):
        yield load_image(frame_path(folder, index))
