"""`LivePreview`: a run's picture and loss curves, updated in a notebook.

One output area shows the image being optimised, a small plot of the loss
and a line of numbers; each update replaces it in place (IPython's display
handles), so a long run leaves one picture in the notebook, not hundreds.
Needs IPython and matplotlib (the `notebook` extra).
"""

import base64
import html
import io
import time

from keras_nst.callbacks import _StepCounter
from keras_nst.callbacks import logged_losses
from keras_nst.choices import LOSS_NAMES
from keras_nst.image_output import png_bytes
from keras_nst.progress import compact

__all__ = ["LivePreview"]

_WEIGHT_SYMBOLS = {"content": "α", "style": "β", "tv": "γ"}


class LivePreview(_StepCounter):
    """Shows the run's current picture and its losses in a notebook cell.

    Works with `transfer`, `optimize` and `StyleTransferModel.optimize`
    (through `callbacks=[LivePreview()]`) and with any `fit`: the picture
    is shown where the model has `get_image()`, the losses always. The
    plot shows the weighted total the optimiser minimises and, where the
    model has `loss_weights`, each term times its weight (α·content,
    β·style, γ·tv), so the lines add up to the total and show which term
    dominates.

    Args:
        interval: the least time between two updates, in seconds; the end
            of each `fit` (each scale of a multi-scale run) always updates.
        width: the picture's displayed width in pixels.

    Example:

    ```python
    from keras_nst import transfer
    from keras_nst.notebook import LivePreview

    image = transfer("photo.jpg", "painting.jpg", callbacks=[LivePreview()])
    ```
    """

    def __init__(self, interval: float = 2.0, width: int = 384):
        super().__init__()
        try:
            from IPython.display import HTML
            from IPython.display import display
        except ImportError:
            raise ImportError(
                "LivePreview needs IPython: pip install 'keras-nst[notebook]'"
            ) from None
        self._html, self._display = HTML, display
        self.interval = interval
        self.width = width
        self.history: dict[str, list[tuple[int, float]]] = {}
        """Each loss's `(step, value)` pairs, the terms times their weight."""
        self.updates = 0
        self._latest = 0
        self._handle = None
        self._last = 0.0

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self._handle is None:
            starting = self._html("<em>starting…</em>")
            self._handle = self._display(starting, display_id=True)
            self._last = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        self._latest = self._step(batch)
        weights = self._weights()
        for name, value in logged_losses(logs).items():
            value *= weights.get(name, 1.0)
            self.history.setdefault(name, []).append((self._latest, value))
        if time.monotonic() - self._last >= self.interval:
            self.update()

    def on_train_end(self, logs=None):
        super().on_train_end(logs)
        self.update()

    def _weights(self) -> dict[str, float]:
        """The terms' weights, where the model has them (not the total)."""
        weights = getattr(self.model, "loss_weights", None)
        if not isinstance(weights, dict):
            return {}
        return {k: v for k, v in weights.items() if k != "total"}

    def update(self) -> None:
        """Redraws the preview now."""
        self._last = time.monotonic()
        parts = []
        get_image = getattr(self.model, "get_image", None)
        if get_image is not None:
            parts.append(
                _img(png_bytes(get_image()), self.width, "the picture")
            )
        if self.history:
            parts.append(_img(self._plot(), self.width, "loss curves"))
        figure = (
            '<div style="display:flex;flex-wrap:wrap;gap:12px;'
            f'align-items:flex-start">{"".join(parts)}</div>'
        )
        caption = html.escape(self.caption())
        self._handle.update(self._html(f"{figure}<pre>{caption}</pre>"))
        self.updates += 1

    def caption(self) -> str:
        """The numbers under the picture: the step and its losses."""
        weights = self._weights()
        values = []
        for name in LOSS_NAMES:
            if name in self.history:
                value = self.history[name][-1][1]
                label = "loss" if name == "total" else name
                if name in weights:
                    label = f"{_WEIGHT_SYMBOLS.get(name, '')}·{name}"
                values.append(f"{label} {compact(value)}")
        return f"step {self._latest}: " + ", ".join(values)

    def _plot(self) -> bytes:
        from matplotlib.figure import Figure

        weighted = self._weights()
        figure = Figure(figsize=(4.2, 2.8), dpi=100, layout="constrained")
        axis = figure.subplots()
        for name, points in self.history.items():
            label = "loss (weighted sum)" if name == "total" else name
            if name in weighted:
                label = f"{_WEIGHT_SYMBOLS.get(name, '')}·{name}"
            axis.plot(*zip(*points, strict=True), label=label)
        if all(v > 0 for points in self.history.values() for _, v in points):
            axis.set_yscale("log")
        axis.set_xlabel("step")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()


def _img(png: bytes, width: int, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<img src="data:image/png;base64,{data}" width="{width}" alt="{alt}">'
    )
