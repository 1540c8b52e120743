"""The named presets: the default run and the seeds' settings.

Each preset is `Config()` (the `gatys` preset) or a `dataclasses.replace`
of it, with a one-line description of where its values come from.
"""

import dataclasses

from keras_nst.config import Config
from keras_nst.settings import suggestion

__all__ = ["DEFAULT_PRESET", "PRESETS", "Preset", "get_preset"]


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named `Config` with a one-line description of where it comes from."""

    description: str
    config: Config


PRESETS = {
    "gatys": Preset(
        "Gatys et al. layers (content conv4_2, style conv1_1..conv5_1, "
        "average pooling); each style layer normalised to its relative "
        "Gram error so all five count; size-independent content loss.",
        Config(),
    ),
    "seed000": Preset(
        "Seed 000: content block5_conv2, Adam lr 5, content weight 1e4, "
        "style weight 1e-2, squared TV weight 1e2, max pooling, 1000 "
        "iterations.",
        dataclasses.replace(
            Config(),
            content_layers=("block5_conv2",),
            content_weight=1e4,
            style_weight=1e-2,
            style_normalization="none",
            tv_weight=1e2,
            pooling="max",
            learning_rate=5.0,
            iterations=1000,
        ),
    ),
    "seed004": Preset(
        "Seed 004: Gatys et al. (content conv4_2, 1/2 sum squared error, "
        "average pooling), alpha 8e-4, beta 8e-1, 3000 iterations.",
        dataclasses.replace(
            Config(),
            content_loss_form="sum",
            content_weight=8e-4,
            style_weight=8e-1,
            style_normalization="none",
            tv_weight=0.0,
            iterations=3000,
        ),
    ),
}
"""The presets by name; see the Presets page for what each seed chose."""
DEFAULT_PRESET = "gatys"
"""The preset whose settings `Config()` holds."""


def get_preset(name: str) -> Config:
    """Returns the `Config` of the preset called `name`."""
    if name not in PRESETS:
        raise ValueError(
            f"Unknown preset {name!r}"
            + suggestion(name, tuple(PRESETS))
            + f" Expected one of {tuple(PRESETS)}."
        )
    return PRESETS[name].config
