"""Every page of the built docs in headless Chromium, desktop and phone.

Serves a built site (`mkdocs build --site-dir DIR`) on 127.0.0.1, opens
each page at 1280 px and at 390 px wide, and reports pages whose images
did not load or that are wider than a phone's window (content that
scrolls inside its own box, as wide tables and code do, is fine); with
`--shots DIR` it saves a screenshot of each, to look at. Needs Debian's
chromium and chromium-driver and selenium (`.[dev]`).

    mkdocs build --site-dir /tmp/site
    python scripts/check_pages.py /tmp/site --shots /tmp/shots
"""

import functools
import http.server
import os
import shutil
import threading

import click

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
BROKEN_IMAGES = """return [...document.images]
    .filter((i) => i.complete && i.naturalWidth === 0).map((i) => i.src);"""
OVERFLOW = "return document.documentElement.scrollWidth - window.innerWidth;"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


def _driver():
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--hide-scrollbars",
        "--disable-dev-shm-usage",
    ):
        options.add_argument(argument)  # fmt: skip
    service = webdriver.ChromeService(shutil.which("chromedriver"))
    return webdriver.Chrome(options=options, service=service)


@click.command()
@click.argument("site", type=click.Path(file_okay=False, exists=True))
@click.option("--shots", help="Save a screenshot of each page here.")
def main(site, shots):
    """Check every page of the built docs in SITE."""
    pages = sorted(
        os.path.relpath(os.path.join(folder, name), site)
        for folder, _, names in os.walk(site)
        for name in names
        if name == "index.html" and "assets" not in folder
    )
    handler = functools.partial(_QuietHandler, directory=site)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    driver = _driver()
    problems = []
    try:
        for kind, size in WIDTHS.items():
            driver.set_window_size(*size)
            for page in pages:
                path = page[: -len("index.html")]
                driver.get(base + path)
                broken = driver.execute_script(BROKEN_IMAGES)
                if broken:
                    problems.append(f"{path} ({kind}): images {broken}")
                if kind == "phone" and driver.execute_script(OVERFLOW) > 0:
                    problems.append(f"{path} ({kind}): wider than the window")
                if shots:
                    name = path.strip("/").replace("/", "_") or "home"
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
