"""`LiveServer`: the live page and its data over HTTP, from a thread.

The standard library's threading HTTP server, bound to 127.0.0.1 unless
told otherwise. Every request must name the server by a host it answers
to (a page on another site that points its own name at 127.0.0.1, DNS
rebinding, is refused) and, except for the page's fixed script and style
sheet, carry the run's random token. The client never names a file: the
routes are a fixed table. Nothing here imports Keras.
"""

import hmac
import http.server
import importlib.resources
import ipaddress
import json
import secrets
import threading
import urllib.parse
from collections.abc import Callable

from keras_nst.web.state import RunState

__all__ = ["LiveServer", "is_loopback"]

_WILDCARDS = ("", "0.0.0.0", "::")  # noqa: S104 - names, not a bind

_STATIC = {
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
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


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address) is this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class LiveServer:
    """Serves a `RunState` as a live page until `close()`.

    Args:
        state: what the page shows.
        host: the address to bind; 127.0.0.1 keeps the page on this
            machine. Another address (e.g. 0.0.0.0) shows it to the
            network: anyone with the URL and its token can watch and stop
            the run.
        port: the port, or 0 for a free one.
        on_stop: called (from the server's thread) when the page's stop
            button is pressed while the run goes on.
        token: the access token, or `None` for a random one.

    Example:

    ```python
    with LiveServer(state) as server:
        print(server.url)
    ```
    """

    def __init__(
        self,
        state: RunState,
        host: str = "127.0.0.1",
        port: int = 0,
        on_stop: Callable[[], None] | None = None,
        token: str | None = None,
    ):
        self.state = state
        self.token = token if token is not None else secrets.token_urlsafe(24)
        self.on_stop = on_stop
        self.last_poll: float | None = None
        handler = type("Handler", (_Handler,), {"server_": self})
        self._httpd = http.server.ThreadingHTTPServer((host, port), handler)
        self._httpd.daemon_threads = True
        self.host = host
        self.port = self._httpd.server_address[1]
        # The names the page may be asked for by; any IP address also is.
        self.names = {"localhost", host.lower()}
        # A short poll interval: close() waits for it.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            args=(0.05,),
            name="keras-nst-web",
            daemon=True,
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """The page's address, token included."""
        shown = self.host if self.host not in _WILDCARDS else "127.0.0.1"
        if ":" in shown:
            shown = f"[{shown}]"
        return f"http://{shown}:{self.port}/?token={self.token}"

    def close(self) -> None:
        """Stops serving and frees the port."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self) -> "LiveServer":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


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


class _Handler(http.server.BaseHTTPRequestHandler):
    server_: LiveServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002
        pass  # the run's own output stays readable

    def do_GET(self):  # noqa: N802
        self._route("GET")

    def do_POST(self):  # noqa: N802
        self._route("POST")

    def _route(self, method: str) -> None:
        live = self.server_
        if not _host_allowed(self.headers.get("Host"), live.names, live.port):
            self._send(403, b"Unknown host.\n", "text/plain")
            return
        url = urllib.parse.urlsplit(self.path)
        if method == "GET" and url.path in _STATIC:
            name, kind = _STATIC[url.path]
            body = importlib.resources.files(__package__) / "static" / name
            self._send(200, body.read_bytes(), kind)
            return
        query = urllib.parse.parse_qs(url.query)
        token = query.get("token", [""])[0]
        if not hmac.compare_digest(token.encode(), live.token.encode()):
            self._send(403, b"Wrong or missing token.\n", "text/plain")
            return
        routes = {
            ("GET", "/"): self._page,
            ("GET", "/api/state"): self._state,
            ("GET", "/api/image"): self._image,
            ("GET", "/api/result"): self._result,
            ("POST", "/api/stop"): self._stop,
        }
        route = routes.get((method, url.path))
        if route is None:
            self._send(404, b"Not found.\n", "text/plain")
            return
        route(query)

    def _page(self, query) -> None:
        page = importlib.resources.files(__package__) / "static" / "index.html"
        self._send(200, page.read_bytes(), "text/html; charset=utf-8")

    def _state(self, query) -> None:
        import time

        self.server_.last_poll = time.monotonic()
        try:
            since = max(int(query.get("since", ["0"])[0]), 0)
        except ValueError:
            since = 0
        body = json.dumps(self.server_.state.snapshot(since)).encode()
        self._send(200, body, "application/json")

    def _image(self, query) -> None:
        png = self.server_.state.image()
        if png is None:
            self._send(404, b"No picture yet.\n", "text/plain")
            return
        self._send(200, png, "image/png")

    def _result(self, query) -> None:
        result = self.server_.state.result()
        if result is None:
            self._send(404, b"The run has not written its picture yet.\n",
                       "text/plain")  # fmt: skip
            return
        png, name = result
        quoted = urllib.parse.quote(name)
        self._send(200, png, "image/png", {
            "Content-Disposition": f"attachment; filename*=UTF-8''{quoted}"
        })  # fmt: skip
        self.server_.state.result_fetched.set()

    def _stop(self, query) -> None:
        live = self.server_
        stopping = live.state.request_stop()
        if stopping and live.on_stop is not None:
            live.on_stop()
        body = json.dumps({"stopping": stopping}).encode()
        self._send(200, body, "application/json")

    def _send(self, code: int, body: bytes, kind: str, headers=None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in {**_SECURITY_HEADERS, **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
