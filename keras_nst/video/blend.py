"""Steadier fast-network video: blend in the last output, warped.

The fast network stylises each frame on its own, and small changes
between frames can change its brush strokes. `TemporalBlend` pulls each
output towards the previous output warped along the optical flow, where
the flow is reliable (`keras_nst.video.flow.reliable_mask`):
`out_t = y_t + strength * c * (warp(out_t-1) - y_t)`. Where the scene
moves unpredictably, `c` is 0 and the network's own output stays.
"""

import numpy as np

from keras_nst.video.flow import optical_flow
from keras_nst.video.flow import reliable_mask
from keras_nst.video.flow import warp
from keras_nst.video.flow import warping_error

__all__ = ["TemporalBlend"]


class TemporalBlend:
    """Blends each stylised frame with the last one, warped into it.

    Call it once per frame, in order.

    Args:
        strength: the weight of the warped last output where the flow is
            reliable, in 0..1 (0: the network's output as it is).
        measure: compute the flow and `warping_errors` even at strength
            0 (to compare with and without).

    Attributes:
        warping_errors: `warping_error` of each output after the first
            against the last, over the reliable pixels.

    Example:

    ```python
    blend = TemporalBlend(0.5)
    outputs = [blend(frame, network_output) for frame, network_output in ...]
    ```
    """

    def __init__(self, strength: float, measure: bool = False):
        if not 0.0 <= strength <= 1.0:
            raise ValueError(
                "Expected the blend strength to be in [0, 1]. "
                f"Received: {strength}"
            )
        self.strength = float(strength)
        self.measure = measure
        self.warping_errors: list[float] = []
        self._previous = None

    def __call__(self, frame: np.ndarray, stylised: np.ndarray) -> np.ndarray:
        """The output for one frame.

        Args:
            frame: the input frame, `(H, W, 3)` in 0..255.
            stylised: the network's output for it.

        Returns:
            `(H, W, 3)` float32 in 0..255.
        """
        stylised = np.asarray(stylised, np.float32)
        if self.strength == 0 and not self.measure:
            return stylised
        if self._previous is None:
            self._previous = (frame, stylised)
            return stylised
        last_frame, last_output = self._previous
        backward = optical_flow(frame, last_frame)
        mask = reliable_mask(backward, optical_flow(last_frame, frame))
        warped = warp(last_output, backward)
        output = stylised + self.strength * mask * (warped - stylised)
        self.warping_errors.append(
            warping_error(output, last_output, backward, mask)
        )
        self._previous = (frame, output)
        return output
