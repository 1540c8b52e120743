"""The live view's server: routes, the token, the Host check, the stop."""

import http.client
import json
import threading

import pytest

from keras_nst.web.server import LiveServer
from keras_nst.web.server import is_loopback
from keras_nst.web.state import LiveState

PNG = b"\x89PNG\r\n\x1a\nfake"


@pytest.fixture
def server():
    state = LiveState({"size": 64}, total_steps=10, loss_weights={"tv": 2.0})
    stops = []
    live = LiveServer(state, on_stop=lambda: stops.append(True))
    live.stops = stops
    yield live
    live.close()


def _request(server, path, method="GET", host=None, token=True):
    connection = http.client.HTTPConnection("127.0.0.1", server.port)
    if token:
        path += ("&" if "?" in path else "?") + f"token={server.token}"
    headers = {"Host": f"127.0.0.1:{server.port}" if host is None else host}
    connection.request(method, path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body


def test_the_page_and_its_assets_are_served(server):
    response, body = _request(server, "/")
    assert response.status == 200
    assert b"keras-nst" in body and b'src="/app.js"' in body
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    for asset, kind in (("/app.js", "javascript"), ("/style.css", "css")):
        response, body = _request(server, asset, token=False)
        assert (
            response.status == 200 and kind in response.headers["Content-Type"]
        )
        assert body
    # Nothing on the page refers to another site.
    assert b"http" not in _request(server, "/")[1].replace(
        b"http://www.w3.org", b""
    )


def test_state_follows_the_run(server):
    state = server.state
    state.add_step(1, {"total": 5.0, "tv": 1.0}, (8, 12), 3.0)
    state.add_step(2, {"total": 4.0, "tv": 0.5}, (8, 12), 1.5)
    state.set_image(PNG)
    response, body = _request(server, "/api/state?since=1")
    snapshot = json.loads(body)
    assert response.status == 200
    assert snapshot["status"] == "running"
    assert snapshot["step"] == 2 and snapshot["total_steps"] == 10
    assert snapshot["records"] == [{"step": 2, "total": 4.0, "tv": 0.5}]
    assert snapshot["record_count"] == 2
    assert snapshot["loss_weights"] == {"tv": 2.0}
    assert snapshot["settings"] == {"size": 64}
    assert snapshot["image_version"] == 1 and not snapshot["result"]
    response, body = _request(server, "/api/image")
    assert (response.status, body) == (200, PNG)
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Image-Version"] == "1"
    # The newest picture, whichever version is asked for, and its number.
    state.set_image(PNG[:-1] + b"!")
    response, body = _request(server, "/api/image?v=1")
    assert body == PNG[:-1] + b"!"
    assert response.headers["X-Image-Version"] == "2"


def test_result_is_a_download_once_written(server):
    assert _request(server, "/api/result")[0].status == 404
    server.state.finish(PNG, "out é.png")
    response, body = _request(server, "/api/result")
    assert (response.status, body) == (200, PNG)
    assert response.headers["Content-Disposition"] == (
        "attachment; filename*=UTF-8''out%20%C3%A9.png"
    )
    assert server.state.result_fetched.wait(5)  # set once it is sent
    assert json.loads(_request(server, "/api/state")[1])["status"] == "done"


def test_stop_asks_once_while_running(server):
    response, body = _request(server, "/api/stop", method="POST")
    assert json.loads(body) == {"stopping": True}
    assert server.state.stop_requested.is_set() and server.stops == [True]
    assert json.loads(_request(server, "/api/state")[1])["status"] == (
        "stopping"
    )
    server.state.finish(PNG, "out.png")
    response, body = _request(server, "/api/stop", method="POST")
    assert json.loads(body) == {"stopping": False}
    assert server.stops == [True]
    # A GET does not stop.
    assert _request(server, "/api/stop")[0].status == 404


@pytest.mark.parametrize(
    "path", ["/", "/api/state", "/api/image", "/api/result", "/api/stop"]
)
@pytest.mark.parametrize("token", ["", "wrong", "x" * 32])
def test_a_wrong_or_missing_token_is_refused(server, path, token):
    server.state.set_image(PNG)
    method = "POST" if path == "/api/stop" else "GET"
    response, body = _request(
        server, f"{path}?token={token}", method=method, token=False
    )
    assert response.status == 403
    assert b"token" in body
    assert not server.state.stop_requested.is_set()


@pytest.mark.parametrize(
    "host",
    ["evil.example:{port}", "127.0.0.1.evil.example:{port}",
     "localhost:1", "", "127.0.0.1"],
)  # fmt: skip
def test_a_foreign_host_is_refused(server, host):
    # DNS rebinding: a page of another site whose name now points here.
    response, body = _request(
        server, "/api/state", host=host.format(port=server.port)
    )
    assert response.status == 403
    assert body == b"Unknown host.\n"


@pytest.mark.parametrize("host", ["localhost:{port}", "[::1]:{port}",
                                  "127.0.0.1:{port}"])  # fmt: skip
def test_local_names_are_accepted(server, host):
    response, _ = _request(
        server, "/api/state", host=host.format(port=server.port)
    )
    assert response.status == 200


def test_no_path_from_the_client_is_opened(server):
    for path in ("/../../etc/passwd", "/static/index.html", "/app.js/..",
                 "/%2e%2e/pyproject.toml", "/api/image/../../x"):  # fmt: skip
        assert _request(server, path)[0].status == 404


def test_url_and_loopback():
    state = LiveState({})
    with LiveServer(state, token="abc") as live:
        assert live.url == f"http://127.0.0.1:{live.port}/?token=abc"
    assert is_loopback("127.0.0.1") and is_loopback("localhost")
    assert is_loopback("::1") and not is_loopback("0.0.0.0")
    assert not is_loopback("192.168.1.4") and not is_loopback("example.org")


def test_a_busy_port_is_an_error():
    state = LiveState({})
    with LiveServer(state) as live, pytest.raises(OSError):
        LiveServer(state, port=live.port)


def test_state_is_safe_to_read_while_written():
    state = LiveState({})
    done = threading.Event()

    def write():
        for step in range(1, 2001):
            state.add_step(step, {"total": float(step)}, (4, 4), None)
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    seen = 0
    while not done.is_set() or seen < 2000:
        snapshot = state.snapshot(seen)
        steps = [record["step"] for record in snapshot["records"]]
        assert steps == list(range(seen + 1, seen + 1 + len(steps)))
        seen += len(steps)
    thread.join()
