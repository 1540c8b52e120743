"""`LiveState`: what the live page shows, shared between a run and the server.

The run writes it from the main thread, the server reads it from its own;
one lock guards it. Nothing here imports Keras.
"""

import threading
import time

__all__ = ["LiveState", "STATUSES"]

STATUSES = ("waiting", "starting", "running", "stopping", "done", "failed")
"""A run's states, in the order they can follow each other."""


class LiveState:
    """The picture, losses, settings and progress of one run.

    Args:
        settings: what the page lists under "settings" (names to values).
        total_steps: the run's steps over all scales, or `None`.
        loss_weights: each term's weight (`content`, `style`, `tv`), for
            the weighted curves; the terms are recorded unweighted.
    """

    def __init__(
        self,
        settings: dict,
        total_steps: int | None = None,
        loss_weights: dict[str, float] | None = None,
    ):
        self._lock = threading.Lock()
        self.settings = dict(settings)
        self.total_steps = total_steps
        self.loss_weights = dict(loss_weights or {})
        self.schedule: list[tuple[int, int]] = []
        self.status = "starting"
        self.message = ""
        self.step = 0
        self.size: tuple[int, int] | None = None
        self.seconds_left: float | None = None
        self.records: list[dict] = []
        self.image_png: bytes | None = None
        self.image_version = 0
        self.result_data: bytes | None = None
        self.result_name = "result.png"
        self.began = time.monotonic()
        self.stop_requested = threading.Event()
        self.result_fetched = threading.Event()

    def describe(
        self,
        settings: dict,
        schedule: list[tuple[int, int]],
        loss_weights: dict[str, float],
    ) -> None:
        """Adds to the settings; sets the scales and weights, at start."""
        with self._lock:
            self.status = "starting"
            self.settings.update(settings)
            self.schedule = list(schedule)
            self.total_steps = sum(steps for steps, _ in schedule)
            self.loss_weights = dict(loss_weights)

    def add_step(
        self, step: int, losses: dict, size, seconds_left: float | None
    ) -> None:
        """Records one step's (unweighted) losses and where the run is."""
        with self._lock:
            self.status = (
                "stopping" if self.stop_requested.is_set() else ("running")
            )
            self.step = step
            self.size = tuple(size) if size is not None else None
            self.seconds_left = seconds_left
            self.records.append({"step": step, **losses})

    def set_image(self, png: bytes) -> None:
        """Replaces the picture the page shows."""
        with self._lock:
            self.image_png = png
            self.image_version += 1

    def finish(
        self, result_data: bytes | None, name: str, message: str = ""
    ) -> None:
        """Marks the run done; `result_data` is the written file, if any."""
        with self._lock:
            self.status = "done" if result_data is not None else "failed"
            self.result_data = result_data
            self.result_name = name
            self.message = message
            self.seconds_left = None

    def fail(self, message: str) -> None:
        """Marks the run failed with a one-line reason, unless it ended."""
        with self._lock:
            if self.status in ("done", "failed"):
                return
        self.finish(None, self.result_name, message)

    def request_stop(self) -> bool:
        """Asks the run to stop after its step; `False` once it has ended."""
        with self._lock:
            if self.status in ("done", "failed"):
                return False
            self.stop_requested.set()
            self.status = "stopping"
            return True

    def snapshot(self, since: int = 0) -> dict:
        """The state as JSON-able data, with the loss records from `since`."""
        with self._lock:
            return {
                "status": self.status,
                "message": self.message,
                "step": self.step,
                "total_steps": self.total_steps,
                "schedule": self.schedule,
                "size": self.size,
                "seconds_left": self.seconds_left,
                "elapsed": time.monotonic() - self.began,
                "settings": dict(self.settings),
                "loss_weights": dict(self.loss_weights),
                "records": self.records[since:],
                "record_count": len(self.records),
                "image_version": self.image_version,
                "result": self.result_data is not None,
                "result_name": self.result_name,
            }

    def image(self) -> tuple[bytes, int] | None:
        """The picture's PNG and its version, or `None` before the first."""
        with self._lock:
            if self.image_png is None:
                return None
            return self.image_png, self.image_version

    def result(self) -> tuple[bytes, str] | None:
        """The written file's bytes and name, or `None` before the end."""
        with self._lock:
            if self.result_data is None:
                return None
            return self.result_data, self.result_name
