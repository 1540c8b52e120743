"""Stylising many files in a stream: one batch in memory at a time.

`stylize_files` reads, stylises and writes the images of a run one batch
at a time (images of one shape in a row share a pass), and videos frame
by frame, so memory does not grow with the number of inputs or frames.
Each result is written atomically as soon as it is made; an input that
cannot be read is reported and the others go on.
"""

import dataclasses
import os
import time
from collections.abc import Iterator
from collections.abc import Sequence

import numpy as np

from keras_nst.errors import InsufficientMemoryError
from keras_nst.errors import KerasNSTError
from keras_nst.fast.config import STYLIZE_BATCH_SIZE
from keras_nst.fast.config import TEMPORAL_BLEND
from keras_nst.fast.files import StylizeItem
from keras_nst.fast.files import plan_outputs
from keras_nst.fast.inference import Stylizer
from keras_nst.fast.memory import check_stylize_memory
from keras_nst.fast.network import TransformNet
from keras_nst.fast.network import load_transform
from keras_nst.image_io import load_image
from keras_nst.image_output import check_distinct_outputs
from keras_nst.image_output import save_image
from keras_nst.interrupt import raise_if_requested

__all__ = ["StylizeResult", "stylize_files"]

# What reading one input can raise; anything else is a bug or the machine.
_READ_ERRORS = (KerasNSTError, ValueError, OSError)


@dataclasses.dataclass(frozen=True)
class StylizeResult:
    """What became of one input.

    Attributes:
        item: the input and its result's path.
        index: its place among the inputs, from 1.
        total: the number of inputs.
        error: why it was skipped (one line), or `None` if written.
        frames: the frames written (1 for an image).
        seconds: the time it took, reading and writing included.
        warping_errors: for a video with a temporal blend, the mean
            temporal warping error of its frames
            (`keras_nst.video.blend.TemporalBlend`); else `None`.
    """

    item: StylizeItem
    index: int
    total: int
    error: str | None = None
    frames: int = 0
    seconds: float = 0.0
    warping_error: float | None = None


def stylize_files(
    model: TransformNet | str | os.PathLike,
    inputs: Sequence[str | os.PathLike],
    output_dir: str | os.PathLike,
    *,
    size: int | None = None,
    batch_size: int = STYLIZE_BATCH_SIZE,
    temporal_blend: float = TEMPORAL_BLEND,
    metadata: dict | None = None,
    distribute: bool = False,
) -> Iterator[StylizeResult]:
    """Stylises images and videos, yielding each result when written.

    Results go under `output_dir` with the inputs' relative paths
    (`keras_nst.fast.files.plan_outputs`): an image as a `.png` with
    `metadata` and its source in the file, a video as the same type with
    the source's frame rate and audio. Outputs are checked against the
    inputs before anything is read.

    Args:
        model: a `TransformNet` or the path of its `.keras` file.
        inputs: files, folders and glob patterns.
        output_dir: the folder for the results (made if missing).
        size: resize each image (and each video's frames) so the longest
            side is `size`; `None` keeps it (a video's sides are rounded
            to even).
        batch_size: images (or frames) per forward pass.
        temporal_blend: for videos, the weight of the last output warped
            into each frame (`keras_nst.video.blend.TemporalBlend`); 0
            stylises each frame on its own.
        metadata: JSON-serialisable data for each image's PNG.
        distribute: split each batch across every device
            (`keras_nst.fast.inference.Stylizer`); give a `batch_size`
            that is a multiple of the device count.

    Yields:
        A `StylizeResult` per input, in order.

    Raises:
        ValueError: a bad argument, an output that would overwrite an
            input, a folder or pattern with nothing to stylise, or
            `distribute` on the PyTorch backend.
        FileNotFoundError: the model file is missing.
        keras_nst.errors.InsufficientMemoryError: a batch would not fit.
        keras_nst.errors.Interrupted: SIGINT or SIGTERM; results already
            yielded are written, the one in progress is not.

    Example:

    ```python
    for result in stylize_files("starry.keras", ["photos/"], "out/"):
        print(result.item.output, result.error or "ok")
    ```
    """
    if batch_size < 1:
        raise ValueError(
            f"Expected batch_size to be positive. Received: {batch_size}"
        )
    items = plan_outputs(inputs, output_dir)
    check_distinct_outputs(
        [item.output for item in items],
        [item.source for item in items]
        + ([] if isinstance(model, TransformNet) else [model]),
    )
    if not isinstance(model, TransformNet):
        model = load_transform(model)
    run = _Run(Stylizer(model, distribute), items, metadata)
    pending: list[tuple[StylizeItem, np.ndarray, float]] = []
    for item in items:
        if item.is_video:
            yield from run.flush(pending)
            yield run.video(item, size, batch_size, temporal_blend)
            continue
        began = time.monotonic()
        try:
            image = load_image(item.source, size)
        except _READ_ERRORS as error:
            yield from run.flush(pending)  # results in the inputs' order
            yield run.result(item, _one_line(error))
            continue
        if pending and (
            pending[0][1].shape != image.shape or len(pending) == batch_size
        ):
            yield from run.flush(pending)
        pending.append((item, image, began))
    yield from run.flush(pending)


def _one_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


class _Run:
    """One `stylize_files` call: its network and where results go."""

    def __init__(self, stylizer, items, metadata):
        self.stylizer = stylizer
        self.places = {item: index for index, item in enumerate(items, 1)}
        self.metadata = metadata or {}

    def result(self, item, error=None, **done) -> StylizeResult:
        return StylizeResult(
            item, self.places[item], len(self.places), error, **done
        )

    def flush(self, pending) -> Iterator[StylizeResult]:
        """Stylises the pending images in one pass and writes them."""
        if not pending:
            return
        check_stylize_memory(
            [image.shape for _, image, _ in pending],
            len(pending),
            self.stylizer.model.filters,
        )
        results = self.stylizer(np.stack([image for _, image, _ in pending]))
        raise_if_requested()  # stopped during the pass: write none of it
        done = list(pending)
        pending.clear()
        for (item, _, began), picture in zip(done, results, strict=True):
            os.makedirs(os.path.dirname(item.output) or ".", exist_ok=True)
            save_image(
                item.output,
                picture,
                metadata={**self.metadata, "source": item.source},
            )
            yield self.result(item, frames=1, seconds=time.monotonic() - began)

    def video(self, item, size, batch_size, strength) -> StylizeResult:
        """Stylises one video, its frames in batches, and writes it."""
        from keras_nst.video.blend import TemporalBlend
        from keras_nst.video.io import frame_shape
        from keras_nst.video.io import read_frames
        from keras_nst.video.io import read_video_info
        from keras_nst.video.io import write_video

        began = time.monotonic()
        try:
            info = read_video_info(item.source)
        except _READ_ERRORS as error:
            return self.result(item, _one_line(error))
        shape = frame_shape(info, size)
        check_stylize_memory([shape], batch_size, self.stylizer.model.filters)
        blend = TemporalBlend(strength)

        def stylised() -> Iterator[np.ndarray]:
            batch = []
            for frame in read_frames(item.source, shape, info):
                batch.append(frame)
                if len(batch) == batch_size:
                    yield from self._blended(batch, blend)
                    batch = []
            if batch:
                yield from self._blended(batch, blend)

        os.makedirs(os.path.dirname(item.output) or ".", exist_ok=True)
        try:
            frames = write_video(item.output, stylised(), info.fps, item.source)
        except InsufficientMemoryError:
            raise
        except _READ_ERRORS as error:
            return self.result(item, _one_line(error))
        errors = blend.warping_errors
        return self.result(
            item,
            frames=frames,
            seconds=time.monotonic() - began,
            warping_error=float(np.nanmean(errors)) if errors else None,
        )

    def _blended(self, frames, blend) -> Iterator[np.ndarray]:
        outputs = self.stylizer(np.stack(frames))
        raise_if_requested()
        for frame, output in zip(frames, outputs, strict=True):
            yield blend(frame, output)
