"""Screenshots of the live view and of `serve` for the docs, in Chromium.

Starts `keras-nst transfer --web` on the bundled astronaut and Starry Night
(256 px, the VGG19 weights), waits until the run is well under way, and
saves the page at desktop and phone width; then presses stop. Then starts
`keras-nst serve`, queues two runs from its form and saves the page.
Needs Debian's chromium and chromium-driver and selenium (`.[dev]`).

    python scripts/screenshots.py --out docs/figures --after 60
"""

import io
import os
import subprocess
import sys
import time

import click
from chromium import chromium_driver
from PIL import Image

EXAMPLES = os.path.relpath(
    os.path.join(os.path.dirname(__file__), "..", "examples")
)
SIZES = {"live_view.jpg": (1280, 1120), "live_view_phone.jpg": (390, 1700)}


@click.command()
@click.option("--out", default="docs/figures", show_default=True)
@click.option("--after", default=60.0, show_default=True,
              help="Seconds of the run before the screenshots.")  # fmt: skip
@click.option("--size", default=256, show_default=True)
@click.option("--weights", default="imagenet", show_default=True)
def main(out, after, size, weights):
    """Screenshots of `keras-nst transfer --web` for the docs."""
    os.makedirs(out, exist_ok=True)
    scratch = os.path.join(out, ".live_view_run.png")
    command = [
        os.path.join(os.path.dirname(sys.executable), "keras-nst"),
        "transfer", os.path.join(EXAMPLES, "astronaut.png"),
        os.path.join(EXAMPLES, "starry_night.jpg"), "-o", scratch,
        "--size", str(size), "--weights", weights, "--web",
    ]  # fmt: skip
    process, url = _start(command, "Live view: ")
    driver = chromium_driver()
    try:
        driver.set_window_size(*SIZES["live_view.jpg"])
        driver.get(url)
        time.sleep(after)
        for name, (width, height) in SIZES.items():
            driver.set_window_size(width, height)
            driver.get(url)
            time.sleep(4)  # two polls: the picture and the curves
            path = os.path.join(out, name)
            # The page down to the settings, which go on below; JPEG keeps
            # the docs small.
            png = io.BytesIO(driver.get_screenshot_as_png())
            Image.open(png).convert("RGB").save(path, quality=85)
            click.echo(f"Wrote {path}")
        driver.find_element("id", "stop").click()
        process.wait(timeout=120)
    finally:
        driver.quit()
        if process.poll() is None:
            process.kill()
        # The picture and the state a stopped run keeps for --resume.
        for path in (scratch, scratch + ".state.npz"):
            if os.path.exists(path):
                os.remove(path)
    _serve(out, size, weights)


def _start(command: list[str], prefix: str):
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    for line in process.stderr:
        if line.startswith(prefix):
            return process, line[len(prefix) :].strip()
    raise click.ClickException(f"{command[1]} printed no address")


def _serve(out: str, size: int, weights: str) -> None:
    keras_nst = os.path.join(os.path.dirname(sys.executable), "keras-nst")
    process, url = _start(
        [keras_nst, "serve", "--port", "0", "--weights", weights],
        "keras-nst serve: ",
    )
    driver = chromium_driver()
    try:
        driver.set_window_size(1280, 640)
        driver.get(url)
        time.sleep(2)
        size_box = driver.find_element("id", "size")
        size_box.clear()
        size_box.send_keys(str(size))
        driver.find_element("id", "start").click()  # astronaut, Starry Night
        time.sleep(1)
        driver.find_element("id", "start").click()  # a second, queued
        time.sleep(20)
        path = os.path.join(out, "serve.jpg")
        png = io.BytesIO(driver.get_screenshot_as_png())
        Image.open(png).convert("RGB").save(path, quality=85)
        click.echo(f"Wrote {path}")
    finally:
        driver.quit()
        process.terminate()
        process.wait(timeout=120)


if __name__ == "__main__":
    main()
