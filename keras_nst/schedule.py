"""The coarse-to-fine schedule: the sizes and steps of a run's scales.

A run optimises at `Config.start_size` first, where a step is cheap and the
picture's layout forms, then at sizes `sqrt(2)` times larger up to
`Config.size`, each scale starting from the last one's picture resized
(crowsonkb/style-transfer-pytorch schedules its scales the same way; the
idea goes back to Gatys et al. 2017, "Controlling Perceptual Factors in
Neural Style Transfer", section 5). Nothing here imports Keras.
"""

import dataclasses
import math

from keras_nst.config import Config

__all__ = [
    "scale_configs",
    "scale_iterations",
    "scale_sizes",
    "schedule_sizes",
    "style_side",
]


def scale_sizes(size: int, scales: int) -> list[int]:
    """`scales` longest sides, `sqrt(2)` apart, ending at `size`.

    Example: `scale_sizes(1024, 3) == [512, 724, 1024]`.
    """
    return [
        max(1, round(size / 2 ** ((scales - 1 - k) / 2))) for k in range(scales)
    ]


def schedule_sizes(config: Config) -> list[int]:
    """The longest side of each scale of a run, coarse first.

    `config.scales` of them when it is set; otherwise as many as start at
    or above `config.start_size` and grow by `sqrt(2)` to `config.size`
    (one, at `size`, when `start_size` is `None` or at least `size`).

    Example: at `size=512, start_size=128`, `[128, 181, 256, 362, 512]`.
    """
    if config.scales is not None:
        return scale_sizes(config.size, config.scales)
    if config.start_size is None or config.start_size >= config.size:
        return [config.size]
    # The tolerance keeps a power of sqrt(2) up to rounding to whole
    # pixels (512 / 128, 181 / 128) from losing its first scale.
    steps = math.floor(2 * math.log2(config.size / config.start_size) + 0.01)
    return scale_sizes(config.size, 1 + steps)


def scale_iterations(config: Config) -> list[int]:
    """The steps of each scale of a run, coarse first.

    `iterations` at the first scale (the only one of a one-scale run),
    `refine_iterations` at every later one (`iterations` if it is `None`).
    """
    count = len(schedule_sizes(config))
    later = config.refine_iterations
    if later is None:
        later = config.iterations
    return [config.iterations] + [later] * (count - 1)


def style_side(config: Config) -> int:
    """The longest side the style images are resized to at `config.size`.

    `style_size` if set, else `style_scale` times `size`, else `size`.
    """
    if config.style_size is not None:
        return config.style_size
    if config.style_scale is not None:
        return max(1, round(config.style_scale * config.size))
    return config.size


def scale_configs(config: Config) -> list[Config]:
    """The settings of each scale of a run, coarse first.

    Each is `config` with the scale's `size`, a `style_size` that keeps the
    style's size in proportion to the output's (`style_side`), and
    `iterations`; each is a one-scale run (`scales=1`). A one-scale run has
    one, `config`'s sizes.
    """
    sizes = schedule_sizes(config)
    steps = scale_iterations(config)
    configs = []
    for size, iterations in zip(sizes, steps, strict=True):
        style_size = None
        if config.style_size is not None:
            style_size = max(1, round(config.style_size * size / config.size))
        elif config.style_scale is not None:
            style_size = max(1, round(config.style_scale * size))
        configs.append(
            dataclasses.replace(
                config,
                size=size,
                style_size=style_size,
                style_scale=None,
                iterations=iterations,
                scales=1,
            )
        )
    return configs
