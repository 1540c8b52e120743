"""The settings a video run adds to `Config`, and their defaults.

Each field is declared once with `keras_nst.settings.setting`, which the
command line turns into an option. Nothing here imports Keras.
"""

import dataclasses
from typing import Any

from keras_nst.choices import MAX_ITERATIONS
from keras_nst.settings import Settings
from keras_nst.settings import check_settings
from keras_nst.settings import replace_settings
from keras_nst.settings import setting

__all__ = ["FRAME_STARTS", "VideoConfig", "resolve_video_config"]

FRAME_STARTS = ("warped", "init")
"""Where each frame after the first starts: the last stylised frame warped
along the optical flow (Ruder et al.), or `Config.init` like the first."""


@dataclasses.dataclass(frozen=True)
class VideoConfig(Settings):
    """How a video is stylised frame by frame (Ruder et al. 2016).

    The first frame is a whole `transfer` run (`Config`, every scale).
    Each later frame is optimised at the output size only, starting from
    the last stylised frame warped into it, with a temporal loss that
    keeps it close to that warped frame where the flow is reliable.

    Args:
        frame_iterations: optimisation steps for each frame after the
            first; they start close to their result, so fewer do.
        temporal_weight: the weight of the temporal loss, the mean squared
            difference (0..255 levels) from the warped last frame over
            the reliable pixels; 0 turns it off.
        frame_start: `"warped"` or `"init"` (`FRAME_STARTS`); with
            `"init"` and no temporal weight, frames are stylised
            independently.
    """

    # Half the first frame's default steps: in the measured clips the
    # warped start is already most of the way (docs/video.md).
    frame_iterations: int = setting(
        75,
        "Optimisation steps for each frame after the first.",
        "optimiser",
        minimum=0,
        maximum=MAX_ITERATIONS,
    )
    temporal_weight: float = setting(
        1e4,
        "Weight of the temporal loss (0: none).",
        "losses",
        minimum=0,
    )
    frame_start: str = setting(
        "warped",
        "Start of each later frame: the last result warped along the "
        "optical flow, or --init like the first frame.",
        "images",
        choices=FRAME_STARTS,
    )


def resolve_video_config(
    config: VideoConfig | None = None, **overrides: Any
) -> VideoConfig:
    """Builds a checked `VideoConfig`; every override given is used.

    Raises:
        ValueError: an unknown field or a bad value.
        TypeError: a value of the wrong type.
    """
    if config is None:
        config = VideoConfig()
    elif not isinstance(config, VideoConfig):
        raise TypeError(
            "Expected config to be a VideoConfig or None. "
            f"Received: config={config!r}"
        )
    return check_settings(replace_settings(config, overrides))
