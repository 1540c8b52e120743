"""`ServeServer`: the pages and data of `keras-nst serve`, and its queue.

A user picks a content and a style image (a shipped example, or an upload),
a preset, a size and a number of iterations; the run joins a bounded queue
and one runs at a time (`JobQueue`; the command line runs them). Uploads
are limited in size, decoded with the same guards as the command line's
inputs (`keras_nst.image_io.load_image`) and kept as PNG files the server
names itself; the client only ever names an example or an upload by its
id. Nothing here imports Keras.
"""

import dataclasses
import itertools
import json
import os
import queue
import re
import threading
from collections.abc import Callable

from keras_nst.errors import KerasNSTError
from keras_nst.web.server import Request
from keras_nst.web.server import Route
from keras_nst.web.server import RunRoutes
from keras_nst.web.server import TokenServer
from keras_nst.web.server import static_file
from keras_nst.web.state import LiveState

__all__ = ["Job", "JobQueue", "QueueFullError", "ServeServer"]

MAX_UPLOAD_BYTES = 25 * 2**20
"""The largest upload accepted, in bytes."""
MAX_ITERATIONS = 5000
"""The most iterations a queued run may ask for."""
_JOB_PATH = re.compile(r"^/api/jobs/(\d+)/(\w+)$")
_EXAMPLE_PATH = re.compile(r"^/api/examples/([\w.-]+)$")


class QueueFullError(KerasNSTError, RuntimeError):
    """The queue of runs is full; try again when one has finished."""


@dataclasses.dataclass
class Job:
    """One queued run: what the user chose, and its `LiveState`."""

    id: int
    content: str
    style: str
    content_path: str
    style_path: str
    preset: str
    size: int
    iterations: int
    state: LiveState
    routes: RunRoutes

    def summary(self) -> dict:
        """What the list of runs shows."""
        snapshot = self.state.snapshot(since=10**12)
        return {
            "id": self.id,
            "content": self.content,
            "style": self.style,
            "preset": self.preset,
            "size": self.size,
            "iterations": self.iterations,
            "status": snapshot["status"],
            "step": snapshot["step"],
            "total_steps": snapshot["total_steps"],
            "message": snapshot["message"],
            "result": snapshot["result"],
        }


class JobQueue:
    """The runs: at most `max_waiting` waiting, taken one at a time.

    Args:
        max_waiting: how many runs may wait behind the one running.
    """

    def __init__(self, max_waiting: int = 8):
        self._waiting: queue.Queue[Job] = queue.Queue(max_waiting)
        self._jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def new_id(self) -> int:
        """A fresh job id."""
        with self._lock:
            return next(self._ids)

    def submit(self, job: Job) -> None:
        """Queues `job`.

        Raises:
            QueueFullError: `max_waiting` runs are already waiting.
        """
        try:
            self._waiting.put_nowait(job)
        except queue.Full:
            raise QueueFullError(
                f"{self._waiting.maxsize} runs are already waiting; start "
                "this one when one of them has finished."
            ) from None
        with self._lock:
            self._jobs[job.id] = job

    def next(self, timeout: float) -> Job | None:
        """The next run to start, or `None` after `timeout` seconds."""
        try:
            return self._waiting.get(timeout=timeout)
        except queue.Empty:
            return None

    def get(self, job_id: int) -> Job | None:
        """The run with this id, or `None`."""
        with self._lock:
            return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        """Every run, newest first."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: -j.id)


class ServeServer(TokenServer):
    """The `keras-nst serve` app: choose, queue, watch, download.

    Args:
        jobs: the queue the command line's runner takes runs from.
        examples: the shipped images the page offers, name to path.
        uploads: a folder for the decoded uploads (the server names them).
        presets: the preset names the page offers.
        max_size: the largest `size` a run may ask for.
        settings: the settings every run records besides the chosen
            ones (e.g. the backend), for its live page.
        host: as for `TokenServer`.
        port: as for `TokenServer`.
        token: as for `TokenServer`.
        on_stop: called when a running run's stop button is pressed.
    """

    def __init__(
        self,
        jobs: JobQueue,
        examples: dict[str, str],
        uploads: str,
        presets: tuple[str, ...],
        max_size: int,
        settings: dict | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        on_stop: Callable[[], None] | None = None,
    ):
        self.jobs = jobs
        self.examples = dict(examples)
        self.uploads = uploads
        self.presets = presets
        self.max_size = max_size
        self.settings = dict(settings or {})
        self.on_stop = on_stop
        self._uploaded: dict[str, str] = {}
        self._upload_ids = itertools.count(1)
        self._lock = threading.Lock()
        super().__init__(host, port, token)

    def resolve(self, method: str, path: str) -> Route | None:
        pages = {"/": "serve.html", "/job": "index.html"}
        if method == "GET" and path in pages:
            name = pages[path]
            return lambda request, query: request.send(
                200, static_file(name), "text/html; charset=utf-8"
            )
        routes = {
            ("GET", "/api/options"): self._options,
            ("POST", "/api/uploads"): self._upload,
            ("GET", "/api/jobs"): self._list,
            ("POST", "/api/jobs"): self._submit,
        }
        if (method, path) in routes:
            return routes[method, path]
        match = _EXAMPLE_PATH.match(path)
        if method == "GET" and match and match[1] in self.examples:
            example = self.examples[match[1]]
            return lambda request, query: _send_file(request, example)
        match = _JOB_PATH.match(path)
        if match:
            job = self.jobs.get(int(match[1]))
            if job is not None:
                return job.routes.resolve(method, match[2])
        return None

    def _options(self, request: Request, query: dict) -> None:
        request.send_json({
            "examples": sorted(self.examples),
            "presets": list(self.presets),
            "max_size": self.max_size,
            "max_iterations": MAX_ITERATIONS,
            "max_upload_bytes": MAX_UPLOAD_BYTES,
        })  # fmt: skip

    def _upload(self, request: Request, query: dict) -> None:
        from keras_nst.image_io import load_image
        from keras_nst.image_output import save_image

        body = request.read_body(MAX_UPLOAD_BYTES)
        if body is None:
            return
        with self._lock:
            number = next(self._upload_ids)
        raw = os.path.join(self.uploads, f"upload_{number}.raw")
        path = os.path.join(self.uploads, f"upload_{number}.png")
        with open(raw, "wb") as file:
            file.write(body)
        try:
            image = load_image(raw)
            save_image(path, image)
        except (ValueError, OSError, KerasNSTError) as error:
            message = (
                str(error)
                .replace(f"'{raw}'", "the upload")
                .replace(raw, "the upload")
                .splitlines()[0]
            )
            request.send_json({"error": message}, 400)
            return
        finally:
            os.remove(raw)
        upload_id = f"upload-{number}"
        with self._lock:
            self._uploaded[upload_id] = path
        height, width = image.shape[:2]
        request.send_json({"id": upload_id, "width": width, "height": height})

    def _list(self, request: Request, query: dict) -> None:
        request.send_json([job.summary() for job in self.jobs.all()])

    def _submit(self, request: Request, query: dict) -> None:
        body = request.read_body(10_000)
        if body is None:
            return
        try:
            job = self._job(json.loads(body))
            self.jobs.submit(job)
        except QueueFullError as error:
            request.send_json({"error": str(error)}, 503)
            return
        except (ValueError, TypeError, KeyError) as error:
            request.send_json({"error": _one_line(error)}, 400)
            return
        request.send_json({"id": job.id}, 201)

    def _job(self, choice: dict) -> Job:
        if not isinstance(choice, dict):
            raise ValueError("Expected a JSON object.")
        content, content_path = self._image(choice.get("content"), "content")
        style, style_path = self._image(choice.get("style"), "style")
        preset = choice.get("preset")
        if preset not in self.presets:
            raise ValueError(f"Expected a preset among {list(self.presets)}.")
        size = _integer(choice.get("size"), "size", 16, self.max_size)
        iterations = _integer(
            choice.get("iterations"), "iterations", 1, MAX_ITERATIONS
        )
        job_id = self.jobs.new_id()
        settings = {
            "content": content, "style": style, "preset": preset,
            "size": size, "iterations": iterations, **self.settings,
        }  # fmt: skip
        state = LiveState(settings)
        state.status = "waiting"  # until the runner takes it
        state.result_name = f"run_{job_id}.png"
        return Job(
            job_id, content, style, content_path, style_path, preset, size,
            iterations, state, RunRoutes(state, self.on_stop),
        )  # fmt: skip

    def _image(self, choice, role: str) -> tuple[str, str]:
        """An example's or an upload's name and the server's path for it."""
        if not isinstance(choice, str):
            raise ValueError(f"Choose a {role} image.")
        kind, _, name = choice.partition(":")
        if kind == "example" and name in self.examples:
            return name, self.examples[name]
        with self._lock:
            path = self._uploaded.get(name) if kind == "upload" else None
        if path is None:
            raise ValueError(f"No such {role} image: {choice!r}.")
        return f"{name}.png", path


def _integer(value, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"Expected {name} to be a whole number.")
    if not low <= value <= high:
        raise ValueError(f"Expected {name} from {low} to {high}.")
    return value


def _one_line(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text.splitlines()[0]


def _send_file(request: Request, path: str) -> None:
    kinds = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
    kind = kinds.get(
        os.path.splitext(path)[1].lower(), "application/octet-stream"
    )
    with open(path, "rb") as file:
        request.send(200, file.read(), kind)
