"""`keras-nst serve`: uploads, the queue, the runner, over HTTP."""

import http.client
import io
import json

import numpy as np
import pytest
from PIL import Image

from keras_nst.web.serve import MAX_UPLOAD_BYTES
from keras_nst.web.serve import JobQueue
from keras_nst.web.serve import ServeServer


def _png(width=24, height=20, seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def app(tmp_path):
    examples = tmp_path / "examples"
    examples.mkdir()
    (examples / "photo.png").write_bytes(_png(seed=1))
    (examples / "painting.png").write_bytes(_png(seed=2))
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    jobs = JobQueue(max_waiting=2)
    server = ServeServer(
        jobs,
        {p.name: str(p) for p in examples.iterdir()},
        str(uploads),
        ("gatys", "tf_tutorial"),
        max_size=64,
        settings={"backend": "test"},
    )
    yield server
    server.close()


def _call(app, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", app.port)
    separator = "&" if "?" in path else "?"
    connection.request(
        method,
        f"{path}{separator}token={app.token}",
        body=body,
        headers={"Host": f"127.0.0.1:{app.port}", **(headers or {})},
    )
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


def _json(app, method, path, value=None):
    body = None if value is None else json.dumps(value).encode()
    status, data = _call(app, method, path, body)
    return status, json.loads(data)


CHOICE = {
    "content": "example:photo.png",
    "style": "example:painting.png",
    "preset": "gatys",
    "size": 32,
    "iterations": 3,
}


def test_options_and_pages(app):
    status, options = _json(app, "GET", "/api/options")
    assert status == 200
    assert options["examples"] == ["painting.png", "photo.png"]
    assert options["presets"] == ["gatys", "tf_tutorial"]
    assert options["max_size"] == 64
    for page, marker in (("/", b"serve.js"), ("/job", b"app.js")):
        status, body = _call(app, "GET", page)
        assert status == 200 and marker in body
    status, body = _call(app, "GET", "/api/examples/photo.png")
    assert status == 200 and body == _png(seed=1)


def test_an_upload_is_decoded_and_can_be_chosen(app):
    status, answer = _json(app, "POST", "/api/uploads", None)
    assert status == 400  # an empty body is no image
    status, data = _call(app, "POST", "/api/uploads", _png(40, 30))
    answer = json.loads(data)
    assert (status, answer["width"], answer["height"]) == (200, 40, 30)
    choice = dict(CHOICE, style=f"upload:{answer['id']}")
    status, job = _json(app, "POST", "/api/jobs", choice)
    assert status == 201
    queued = app.jobs.get(job["id"])
    with Image.open(queued.style_path) as picture:
        assert picture.size == (40, 30)
    # The server named the file; no client text is in its path.
    assert queued.style_path.startswith(app.uploads)


@pytest.mark.parametrize(
    "body, message",
    [
        (b"not an image at all", "the upload"),
        (_png()[:40], "the upload"),
    ],
)
def test_bad_uploads_are_refused_with_a_message(app, body, message):
    status, data = _call(app, "POST", "/api/uploads", body)
    answer = json.loads(data)
    assert status == 400
    assert message in answer["error"] and "\n" not in answer["error"]
    assert app.uploads not in answer["error"]


def test_a_decompression_bomb_is_refused_before_decoding(app):
    from keras_nst.image_limits import get_max_image_pixels

    side = int(get_max_image_pixels() ** 0.5) + 100
    buffer = io.BytesIO()
    Image.new("1", (side, side)).save(buffer, "PNG")  # tiny file, huge image
    assert len(buffer.getvalue()) < MAX_UPLOAD_BYTES
    status, data = _call(app, "POST", "/api/uploads", buffer.getvalue())
    assert status == 400
    assert "pixels" in json.loads(data)["error"]


def test_an_oversized_upload_is_refused_unread(app):
    connection = http.client.HTTPConnection("127.0.0.1", app.port)
    connection.putrequest("POST", f"/api/uploads?token={app.token}",
                          skip_host=True)  # fmt: skip
    connection.putheader("Host", f"127.0.0.1:{app.port}")
    connection.putheader("Content-Length", str(MAX_UPLOAD_BYTES + 1))
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413
    assert b"at most" in response.read()
    connection.close()


@pytest.mark.parametrize(
    "change, status, message",
    [
        ({"content": None}, 400, "Choose a content image"),
        ({"content": "example:../secret.png"}, 400, "No such content"),
        ({"style": "upload:upload-99"}, 400, "No such style"),
        ({"style": "/etc/passwd"}, 400, "No such style"),
        ({"preset": "seed999"}, 400, "Expected a preset"),
        ({"size": 65}, 400, "size from 16 to 64"),
        ({"size": "32"}, 400, "whole number"),
        ({"iterations": 0}, 400, "iterations from 1"),
        ({"iterations": True}, 400, "whole number"),
    ],
)
def test_bad_choices_are_refused(app, change, status, message):
    got, answer = _json(app, "POST", "/api/jobs", {**CHOICE, **change})
    assert got == status and message in answer["error"]
    assert app.jobs.all() == []


def test_a_request_that_is_not_json_is_refused(app):
    for body in (b"{", b"[1, 2]", b"null"):
        status, data = _call(app, "POST", "/api/jobs", body)
        assert status == 400 and json.loads(data)["error"]


def test_the_queue_is_bounded(app):
    assert _json(app, "POST", "/api/jobs", CHOICE)[0] == 201
    assert _json(app, "POST", "/api/jobs", CHOICE)[0] == 201
    status, answer = _json(app, "POST", "/api/jobs", CHOICE)
    assert status == 503 and "already waiting" in answer["error"]
    status, jobs = _json(app, "GET", "/api/jobs")
    assert [job["id"] for job in jobs] == [2, 1]
    assert {job["status"] for job in jobs} == {"waiting"}


def test_each_run_has_its_own_live_routes(app):
    _, job = _json(app, "POST", "/api/jobs", CHOICE)
    status, state = _json(app, "GET", f"/api/jobs/{job['id']}/state")
    assert status == 200 and state["settings"]["backend"] == "test"
    assert state["settings"]["content"] == "photo.png"
    assert _call(app, "GET", "/api/jobs/99/state")[0] == 404
    assert _call(app, "GET", f"/api/jobs/{job['id']}/nothing")[0] == 404
    status, answer = _json(app, "POST", f"/api/jobs/{job['id']}/stop")
    assert status == 200 and answer == {"stopping": True}


def test_the_runner_paints_a_queued_run(app, tmp_path):
    from keras_nst.cli.serve import _run_job
    from keras_nst.image_output import read_metadata

    _, answer = _json(app, "POST", "/api/jobs", CHOICE)
    job = app.jobs.next(timeout=1)
    assert job.id == answer["id"]
    _run_job(job, str(tmp_path), weights=None)
    status, state = _json(app, "GET", f"/api/jobs/{job.id}/state")
    assert state["status"] == "done", state["message"]
    assert state["step"] == state["total_steps"] == 3
    assert [r["step"] for r in state["records"]] == [1, 2, 3]
    status, png = _call(app, "GET", f"/api/jobs/{job.id}/result")
    assert status == 200
    result = tmp_path / f"run_{job.id}.png"
    assert png == result.read_bytes()
    assert read_metadata(result)["size"] == 32


def test_a_failed_run_says_why(app, tmp_path):
    from keras_nst.cli.serve import _run_job

    _json(app, "POST", "/api/jobs", CHOICE)
    job = app.jobs.next(timeout=1)
    job.content_path = str(tmp_path / "gone.png")
    _run_job(job, str(tmp_path), weights=None)
    snapshot = job.state.snapshot()
    assert snapshot["status"] == "failed"
    assert "gone.png" in snapshot["message"]
