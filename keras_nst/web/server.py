"""HTTP for the live view: a token-checked server and one run's routes.

`TokenServer` is the standard library's threading HTTP server, bound to
127.0.0.1 unless told otherwise, in a thread of its own. Every request
must name the server by a host it answers to (a page on another site that
points its own name at 127.0.0.1, DNS rebinding, is refused) and, except
for the fixed scripts and style sheet, carry the random token. The client
never names a file: each server resolves paths through a fixed table.
`LiveServer` serves one run (`transfer --web`); `keras_nst.web.serve` a
queue of them. Nothing here imports Keras.
"""

import hmac
import http.server
import importlib.resources
import ipaddress
import json
import mimetypes
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable

from keras_nst.web.state import LiveState

__all__ = ["LiveServer", "RunRoutes", "TokenServer", "is_loopback"]

_WILDCARDS = ("", "0.0.0.0", "::")  # noqa: S104 - names, not a bind
_STATIC = {
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/serve.js": ("serve.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}
_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' blob: data:; "
        "style-src 'self'; script-src 'self'; frame-ancestors 'none'"
    ),
}
Route = Callable[["Request", dict], None]


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address) is this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def static_file(name: str) -> bytes:
    """A file the pages are made of, from the package."""
    return (
        importlib.resources.files(__package__) / "static" / name
    ).read_bytes()


class TokenServer:
    """Serves `resolve`'s routes from a thread until `close()`.

    Args:
        host: the address to bind; 127.0.0.1 keeps the pages on this
            machine. Another address (e.g. 0.0.0.0) shows them to the
            network: anyone with the URL and its token can use them.
        port: the port, or 0 for a free one.
        token: the access token, or `None` for a random one.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, token: str | None = None
    ):
        self.token = token if token is not None else secrets.token_urlsafe(24)
        handler = type("Handler", (Request,), {"server_": self})
        self._httpd = http.server.ThreadingHTTPServer((host, port), handler)
        self._httpd.daemon_threads = True
        self.host = host
        self.port = self._httpd.server_address[1]
        # The names the pages may be asked for by; any IP address also is.
        self.names = {"localhost", host.lower()}
        # A short poll interval: close() waits for it.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            args=(0.05,),
            name="keras-nst-web",
            daemon=True,
        )
        self._thread.start()

    def resolve(self, method: str, path: str) -> Route | None:
        """The route for a token-checked request, or `None` (404)."""
        raise NotImplementedError

    @property
    def url(self) -> str:
        """The main page's address, token included."""
        shown = self.host if self.host not in _WILDCARDS else "127.0.0.1"
        if ":" in shown:
            shown = f"[{shown}]"
        return f"http://{shown}:{self.port}/?token={self.token}"

    def close(self) -> None:
        """Stops serving and frees the port."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class RunRoutes:
    """The routes of one run's live page: state, picture, result, stop.

    Args:
        state: the run's `LiveState`.
        on_stop: called (from a server thread) when the stop button is
            pressed while the run goes on.
    """

    def __init__(
        self, state: LiveState, on_stop: Callable[[], None] | None = None
    ):
        self.state = state
        self.on_stop = on_stop
        self.last_poll: float | None = None

    def resolve(self, method: str, name: str) -> Route | None:
        """The route for `name` (`state`, `image`, `result`, `stop`)."""
        return {
            ("GET", "state"): self._state,
            ("GET", "image"): self._image,
            ("GET", "result"): self._result,
            ("POST", "stop"): self._stop,
        }.get((method, name))

    def _state(self, request: "Request", query: dict) -> None:
        self.last_poll = time.monotonic()
        try:
            since = max(int(query.get("since", ["0"])[0]), 0)
        except ValueError:
            since = 0
        request.send_json(self.state.snapshot(since))

    def _image(self, request: "Request", query: dict) -> None:
        image = self.state.image()
        if image is None:
            request.send(404, b"No picture yet.\n", "text/plain")
            return
        # The newest picture, whatever version the page asked for: the
        # header says which one it is.
        png, version = image
        request.send(200, png, "image/png", {"X-Image-Version": str(version)})

    def _result(self, request: "Request", query: dict) -> None:
        result = self.state.result()
        if result is None:
            request.send(404, b"The run has not written its picture yet.\n",
                         "text/plain")  # fmt: skip
            return
        data, name = result
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        quoted = urllib.parse.quote(name)
        request.send(200, data, kind, {
            "Content-Disposition": f"attachment; filename*=UTF-8''{quoted}"
        })  # fmt: skip
        self.state.result_fetched.set()

    def _stop(self, request: "Request", query: dict) -> None:
        stopping = self.state.request_stop()
        if stopping and self.on_stop is not None:
            self.on_stop()
        request.send_json({"stopping": stopping})


class LiveServer(TokenServer):
    """Serves one run's live page (`transfer --web`) until `close()`.

    Args:
        state: what the page shows.
        host: as for `TokenServer`.
        port: as for `TokenServer`.
        on_stop: called (from the server's thread) when the page's stop
            button is pressed while the run goes on.
        token: as for `TokenServer`.

    Example:

    ```python
    with LiveServer(state) as server:
        print(server.url)
    ```
    """

    def __init__(
        self,
        state: LiveState,
        host: str = "127.0.0.1",
        port: int = 0,
        on_stop: Callable[[], None] | None = None,
        token: str | None = None,
    ):
        self.state = state
        self.run = RunRoutes(state, on_stop)
        super().__init__(host, port, token)

    @property
    def last_poll(self) -> float | None:
        """When the page last asked for the state (`time.monotonic`)."""
        return self.run.last_poll

    def resolve(self, method: str, path: str) -> Route | None:
        if method == "GET" and path == "/":
            return _page("index.html")
        if path.startswith("/api/"):
            return self.run.resolve(method, path[len("/api/") :])
        return None


def _page(name: str) -> Route:
    def send_page(request: "Request", query: dict) -> None:
        request.send(200, static_file(name), "text/html; charset=utf-8")

    return send_page


def _host_allowed(header: str | None, names: set[str], port: int) -> bool:
    """Whether a request's Host header names this server.

    An IP address is always accepted (DNS rebinding needs a name that
    resolves to the address); a name only if it is one of `names`.
    """
    if not header:
        return False
    name, _, given_port = header.rpartition(":")
    if given_port != str(port):
        return False
    if name.lower() in names:
        return True
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


class Request(http.server.BaseHTTPRequestHandler):
    """One request: the host and token checks, then the server's route."""

    server_: TokenServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002
        pass  # the run's own output stays readable

    def do_GET(self):  # noqa: N802
        self._route("GET")

    def do_POST(self):  # noqa: N802
        self._route("POST")

    def _route(self, method: str) -> None:
        server = self.server_
        if not _host_allowed(
            self.headers.get("Host"), server.names, server.port
        ):
            self.send(403, b"Unknown host.\n", "text/plain")
            return
        url = urllib.parse.urlsplit(self.path)
        if method == "GET" and url.path in _STATIC:
            name, kind = _STATIC[url.path]
            self.send(200, static_file(name), kind)
            return
        query = urllib.parse.parse_qs(url.query)
        token = query.get("token", [""])[0]
        if not hmac.compare_digest(token.encode(), server.token.encode()):
            self.send(403, b"Wrong or missing token.\n", "text/plain")
            return
        route = server.resolve(method, url.path)
        if route is None:
            self.send(404, b"Not found.\n", "text/plain")
            return
        route(self, query)

    def read_body(self, limit: int) -> bytes | None:
        """The request's body, or `None` (413 sent) if over `limit` bytes."""
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= limit:
            self.close_connection = True
            self.send(413, f"Expected at most {limit} bytes.\n".encode(),
                      "text/plain")  # fmt: skip
            return None
        return self.rfile.read(length)

    def send_json(self, value, code: int = 200) -> None:
        """Sends `value` as JSON."""
        self.send(code, json.dumps(value).encode(), "application/json")

    def send(self, code: int, body: bytes, kind: str, headers=None) -> None:
        """Sends a whole response with the security headers."""
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in {**_SECURITY_HEADERS, **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
