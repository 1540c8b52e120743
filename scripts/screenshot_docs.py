"""Serves the built docs and screenshots every page in headless Chromium.

    mkdocs build --strict && python scripts/screenshot_docs.py -o shots/

Needs Chromium (Debian: `apt install chromium`). Each page of `site/` is
loaded from a local HTTP server, as a reader would see it, and written as
`shots/<page>.png` (a tall window, so most pages fit in one picture), for a
person to look at: broken images, tables, code blocks, layout.
"""

import functools
import http.server
import os
import shutil
import subprocess
import threading

import click


def _pages(site: str) -> list[str]:
    pages = []
    for root, _, files in os.walk(site):
        if "index.html" in files and not root.endswith("404"):
            relative = os.path.relpath(root, site)
            pages.append("" if relative == "." else relative + "/")
    return sorted(pages)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@click.command()
@click.option("--site", default="site", show_default=True)
@click.option("-o", "--output", default="shots", show_default=True)
@click.option("--width", default=1280, show_default=True)
@click.option("--height", default=4000, show_default=True)
@click.option("--browser", default="chromium", show_default=True)
def main(site, output, width, height, browser):
    """Screenshots every page of the built site SITE into OUTPUT."""
    if shutil.which(browser) is None:
        raise click.ClickException(f"{browser} not found; apt install chromium")
    if not os.path.isdir(site):
        raise click.ClickException(f"No {site}/; run `mkdocs build` first")
    handler = functools.partial(_QuietHandler, directory=site)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.makedirs(output, exist_ok=True)
    try:
        for page in _pages(site):
            name = page.strip("/").replace("/", "_") or "index"
            path = os.path.join(output, f"{name}.png")
            subprocess.run(
                [
                    browser, "--headless", "--no-sandbox", "--disable-gpu",
                    "--hide-scrollbars", f"--window-size={width},{height}",
                    f"--screenshot={os.path.abspath(path)}",
                    f"http://127.0.0.1:{server.server_port}/{page}",
                ],
                check=True, capture_output=True, timeout=120,
            )  # fmt: skip
            click.echo(path)
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
