"""Serves the built docs and screenshots every page in headless Chromium.

    mkdocs build --strict && python scripts/screenshot_docs.py -o shots/

Needs Chromium (Debian: `apt install chromium`). Each page of `site/` is
loaded from a local HTTP server, as a reader would see it, and written as
`shots/<page>.png` for a person to look at: broken images, tables, code
blocks, layout. Headless Chromium only captures its window, so the window
is taller than any page and the empty space below the page is cut off.
"""

import functools
import http.server
import os
import shutil
import subprocess
import threading

import click
import numpy as np
from PIL import Image


def site_pages(site: str) -> list[str]:
    pages = []
    for root, _, files in os.walk(site):
        if "index.html" in files and not root.endswith("404"):
            relative = os.path.relpath(root, site)
            pages.append("" if relative == "." else relative + "/")
    return sorted(pages)


def _trim(path: str, keep: int) -> int:
    """Cuts the empty band between the page's end and its footer.

    The footer sits at the bottom of the window, so a window taller than the
    page leaves a band of blank rows above it; the longest such band goes.
    """
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"))
    blank = (pixels == pixels[:, :1]).all(axis=(1, 2))
    edges = np.flatnonzero(np.diff(np.concatenate(([0], blank, [0]))))
    starts, ends = edges[::2], edges[1::2]
    if len(starts):
        longest = np.argmax(ends - starts)
        start, end = starts[longest], ends[longest]
        if end - start > keep:
            pixels = np.concatenate([pixels[: start + keep], pixels[end:]])
    Image.fromarray(pixels).save(path)
    return len(pixels)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@click.command()
@click.option("--site", default="site", show_default=True)
@click.option("-o", "--output", default="shots", show_default=True)
@click.option("--width", default=1280, show_default=True)
@click.option(
    "--height",
    default=16000,
    show_default=True,
    help="Window height: more than the longest page (Chromium paints "
    "nothing below about 16384 px).",
)
@click.option("--browser", default="chromium", show_default=True)
def main(site, output, width, height, browser):
    """Screenshots every page of the built site SITE into OUTPUT."""
    keep = 32
    if shutil.which(browser) is None:
        raise click.ClickException(f"{browser} not found; apt install chromium")
    if not os.path.isdir(site):
        raise click.ClickException(f"No {site}/; run `mkdocs build` first")
    handler = functools.partial(QuietHandler, directory=site)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.makedirs(output, exist_ok=True)
    try:
        for page in site_pages(site):
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
            page_height = _trim(path, keep)
            click.echo(f"{path} ({page_height} px)")
            if page_height >= height - keep:
                click.echo(f"  {page} is taller than --height; cut off")
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
