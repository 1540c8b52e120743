"""The model of one video frame: Gatys et al.'s losses plus a temporal one.

One `FrameModel` serves every frame after the first: `next_frame` swaps
in the frame's content targets, start and warped previous frame, so the
compiled step is traced once per clip, not once per frame.
"""

import keras
import numpy as np
from keras import ops

from keras_nst.color import luminance
from keras_nst.config import Config
from keras_nst.features import VGG19Features
from keras_nst.inputs import ModelInputs
from keras_nst.losses import temporal_loss
from keras_nst.model import StyleTransferModel
from keras_nst.types import Tensor

__all__ = ["FrameModel"]


class FrameModel(StyleTransferModel):
    """`StyleTransferModel` with Ruder et al.'s (2016) temporal loss.

    The total adds `temporal_weight * temporal`, where `temporal` is
    `keras_nst.losses.temporal_loss` of the image against `warped` (the
    last stylised frame warped into this one) over `reliable` (1 where the
    optical flow is trusted). Both start at zero, so until `next_frame`
    gives them the term is 0.

    The style targets are those of the first frame's inputs for the whole
    clip (with `preserve_color="histogram"`, the style recoloured to the
    first frame's colours), which keeps the style steady.

    Args:
        inputs: the first frame's images (`keras_nst.inputs.model_inputs`).
        config: the run's `Config`; it must not tile (a frame is one
            VGG19 pass).
        extractor: a `VGG19Features` to reuse.
        temporal_weight: the temporal loss's weight.

    Example:

    ```python
    model = FrameModel(model_inputs(config, frame, styles), config,
                       temporal_weight=1e4)
    model.compile(keras.optimizers.Adam(10.0))
    model.next_frame(model_inputs(config, frame, styles, start), warped,
                     reliable)
    model.optimize(75)
    ```
    """

    def __init__(
        self,
        inputs: ModelInputs,
        config: Config | str | None = None,
        extractor: VGG19Features | None = None,
        temporal_weight: float = 0.0,
        **kwargs,
    ):
        super().__init__(inputs, config, extractor, **kwargs)
        if self.tiled is not None:
            raise ValueError(
                "Expected video frames of at most tile_size pixels a side: "
                f"{tuple(inputs.content.shape[1:3])} is tiled at "
                f"{self.config.tile_size}. Use a smaller size or a larger "
                "tile_size."
            )
        shape = tuple(inputs.content.shape)
        self.temporal_weight = float(temporal_weight)
        self.warped = keras.Variable(
            np.zeros(shape, "float32"), trainable=False, name="warped"
        )
        self.reliable = keras.Variable(
            np.zeros((*shape[:3], 1), "float32"),
            trainable=False,
            name="reliable",
        )
        self._initial_optimizer_state = None

    def compile(self, optimizer="adam", **kwargs) -> None:
        """As `StyleTransferModel.compile`, then keeps the fresh state.

        Each `next_frame` restores the optimiser to it.
        """
        super().compile(optimizer=optimizer, **kwargs)
        self._initial_optimizer_state = [
            ops.convert_to_numpy(v.value) for v in self.optimizer.variables
        ]

    def compute_losses(self, image: Tensor) -> dict[str, Tensor]:
        """The `StyleTransferModel` losses plus `temporal` (in `total`)."""
        losses = super().compute_losses(image)
        temporal = ops.convert_to_tensor(
            temporal_loss(image, self.warped.value, self.reliable.value),
            "float32",
        )
        return {
            **losses,
            "total": losses["total"] + self.temporal_weight * temporal,
            "temporal": temporal,
        }

    def next_frame(
        self,
        inputs: ModelInputs,
        warped: np.ndarray | None = None,
        reliable: np.ndarray | None = None,
    ) -> None:
        """Moves the model to a new frame of the same size.

        The content targets become the frame's, the image its start, the
        optimiser and the moving average start afresh.

        Args:
            inputs: the frame's images; only its content, start and
                colour reference are used.
            warped: `(H, W, 3)` last stylised frame warped into this one,
                as pictures are (the colours put back); `None` with no
                temporal term.
            reliable: `(H, W, 1)` mask of the pixels the temporal loss
                keeps; `None` keeps none.
        """
        if tuple(inputs.content.shape) != tuple(self.image.shape):
            raise ValueError(
                "Expected a frame of the clip's shape "
                f"{tuple(self.image.shape)}. "
                f"Received: {tuple(inputs.content.shape)}"
            )
        features = self.extractor(inputs.content)
        for name, target in self.content_targets.items():
            target.assign(features[name])
        self.color_reference = inputs.color_reference
        self.set_image(inputs.start)
        self.steps_taken.assign(0.0)
        for variable, value in zip(
            self.optimizer.variables, self._initial_optimizer_state, strict=True
        ):
            variable.assign(value)
        if warped is None or reliable is None:
            self.warped.assign(ops.zeros(self.warped.shape))
            self.reliable.assign(ops.zeros(self.reliable.shape))
            return
        if self.config.preserve_color == "luminance":
            warped = luminance(warped)
        self.warped.assign(np.asarray(warped, "float32")[None])
        self.reliable.assign(np.asarray(reliable, "float32")[None])
