"""Every page of the built docs in headless Chromium, desktop and phone.

Serves a built site (`mkdocs build --site-dir DIR`) on 127.0.0.1, opens
each page at 1280 px and at 390 px wide, and reports pages whose images
did not load or that are wider than a phone's window (content that
scrolls inside its own box, as wide tables and code do, is fine); with
`--shots DIR` it saves what the window shows of each.
`scripts/screenshot_docs.py --width 390` takes whole pages. Needs
Debian's chromium and chromium-driver and selenium (`.[dev]`).

    mkdocs build --site-dir /tmp/site
    python scripts/check_pages.py /tmp/site --shots /tmp/shots
"""

import functools
import http.server
import os
import threading

import click
from chromium import chromium_driver
from screenshot_docs import QuietHandler
from screenshot_docs import site_pages

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
BROKEN_IMAGES = """return [...document.images]
    .filter((i) => i.complete && i.naturalWidth === 0).map((i) => i.src);"""
OVERFLOW = "return document.documentElement.scrollWidth - window.innerWidth;"


@click.command()
@click.argument("site", type=click.Path(file_okay=False, exists=True))
@click.option("--shots", help="Save a screenshot of each page here.")
def main(site, shots):
    """Check every page of the built docs in SITE."""
    pages = site_pages(site)
    handler = functools.partial(QuietHandler, directory=site)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    driver = chromium_driver()
    problems = []
    try:
        for kind, size in WIDTHS.items():
            driver.set_window_size(*size)
            for page in pages:
                driver.get(base + page)
                broken = driver.execute_script(BROKEN_IMAGES)
                if broken:
                    problems.append(f"{page} ({kind}): images {broken}")
                if kind == "phone" and driver.execute_script(OVERFLOW) > 0:
                    problems.append(f"{page} ({kind}): wider than the window")
                if shots:
                    name = page.strip("/").replace("/", "_") or "home"
                    os.makedirs(shots, exist_ok=True)
                    driver.save_screenshot(
                        os.path.join(shots, f"{name}_{kind}.png")
                    )
    finally:
        driver.quit()
        httpd.shutdown()
    click.echo(f"{len(pages)} pages at {len(WIDTHS)} widths")
    for problem in problems:
        click.echo(problem)
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
