"""The live view in headless Chromium, against the real command.

`keras-nst transfer --web` runs in a subprocess on this session's backend;
the browser loads the page, sees the picture change, presses stop and
downloads the result.
"""

import base64
import os
import queue
import shutil
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from PIL import Image

from keras_nst.image_output import read_metadata

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("default_sigint")]

SMALL = [
    "--weights", "random", "--size", 32, "--iterations", 10**6,
    "--style-layers", "conv1_1,conv2_1", "--content-layers", "conv2_1",
]  # fmt: skip
TIMEOUT = 240


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in (
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
        "--disable-gpu", "--window-size=1280,900",
    ):  # fmt: skip
        options.add_argument(argument)
    service = webdriver.ChromeService(shutil.which("chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver.execute_cdp_cmd(
        "Page.setDownloadBehavior",
        {"behavior": "allow", "downloadPath": str(downloads)},
    )
    driver.downloads = downloads
    yield driver
    driver.quit()


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("content.png", "style.png"):
        pixels = rng.integers(0, 255, (32, 40, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(tmp_path / name)
    return tmp_path / "content.png", tmp_path / "style.png"


def _wait(condition, what, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _start(arguments, tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "keras_nst", *map(str, arguments)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, KERAS_HOME=str(tmp_path)),
    )
    lines = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stderr],
        daemon=True,
    ).start()
    return process, lines


def _url(process, lines, prefix="Live view: ") -> str:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            assert process.poll() is None, "the command ended early"
            continue
        if line.startswith(prefix):
            return line[len(prefix) :].strip()
    raise AssertionError("the command never printed its live view")


def _shown_picture(driver) -> tuple[int, bytes]:
    """The version and bytes of the picture the page's URL gives now.

    The server sends its newest picture, which may be newer than the
    version in the URL; its header says which it is.
    """
    src = driver.find_element("id", "picture").get_attribute("src")
    version, data = driver.execute_async_script(
        """const done = arguments[arguments.length - 1];
        fetch(arguments[0]).then(async (r) => {
          const b = new Uint8Array(await r.arrayBuffer());
          let s = "";
          b.forEach((c) => (s += String.fromCharCode(c)));
          done([r.headers.get("X-Image-Version"), btoa(s)]);
        });""",
        src,
    )
    return int(version), base64.b64decode(data)


def _url_version(driver) -> int:
    """The picture version the page's picture URL asks for, or 0."""
    src = driver.find_element("id", "picture").get_attribute("src") or ""
    _, found, version = src.rpartition("v=")
    return int(version) if found else 0


def test_watch_stop_and_download(browser, images, tmp_path):
    content, style = images
    out = tmp_path / "out.png"
    process, lines = _start(
        ["transfer", content, style, "-o", out, *SMALL, "--web"], tmp_path
    )
    try:
        url = _url(process, lines)
        assert url.startswith("http://127.0.0.1:") and "?token=" in url
        browser.get(url)
        _wait(lambda: _url_version(browser), "a picture")
        first_version, first = _shown_picture(browser)
        # A later poll asks for a later picture, and it differs.
        _wait(
            lambda: _url_version(browser) > first_version,
            "the picture to change",
        )
        second_version, second = _shown_picture(browser)
        assert second_version > first_version
        assert first[:8] == second[:8] == b"\x89PNG\r\n\x1a\n"
        assert first != second
        step = browser.find_element("id", "step").text
        assert " / 1000000" in step
        _wait(
            lambda: (
                len(browser.find_elements("css selector", "#weighted path"))
                == 4
            ),
            "the weighted curves",
        )
        settings = browser.find_element("id", "settings").text
        assert "content_weight" in settings and "style_weight" in settings
        assert browser.find_element("id", "status").text == "running"

        browser.find_element("id", "stop").click()
        download = browser.find_element("id", "download")
        _wait(download.is_displayed, "the download link")
        assert download.get_attribute("download") == "out.png"
        download.click()
        saved = browser.downloads / "out.png"
        _wait(saved.exists, "the downloaded file", timeout=30)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    printed = "".join(lines.queue)
    assert process.returncode == 0, printed
    assert "Stopped from the live view." in printed
    assert "Traceback" not in printed
    assert saved.read_bytes() == out.read_bytes()
    metadata = read_metadata(out)
    assert metadata["stopped_after_iteration"] > 0
    # The page says how the run ended.
    assert browser.find_element("id", "status").text == "done"
    message = browser.find_element("id", "message").text
    assert message.startswith("Stopped from the live view.")
    assert browser.find_element("id", "stop").get_attribute("disabled")


def test_the_page_fits_a_phone(browser, images, tmp_path):
    content, style = images
    process, lines = _start(
        ["transfer", images[0], style, "-o", tmp_path / "o.png", *SMALL,
         "--web"],
        tmp_path,
    )  # fmt: skip
    try:
        url = _url(process, lines)
        browser.set_window_size(390, 844)
        browser.get(url)
        picture = browser.find_element("id", "picture")
        _wait(lambda: "v=" in (picture.get_attribute("src") or ""), "a picture")
        _wait(
            lambda: browser.execute_script(
                "return arguments[0].naturalWidth", picture
            ),
            "the picture to load",
        )
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0
        width = browser.execute_script(
            "return document.getElementById('picture').getBoundingClientRect()"
            ".width"
        )
        assert 0 < width <= 390
    finally:
        process.kill()
        process.wait()


def test_serve_queues_shows_and_downloads_runs(browser, tmp_path):
    from selenium.webdriver.support.ui import Select

    examples = tmp_path / "examples"
    examples.mkdir()
    rng = np.random.default_rng(1)
    for name in ("photo.png", "painting.png"):
        pixels = rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(examples / name)
    upload = tmp_path / "mine.png"
    Image.fromarray(rng.integers(0, 255, (30, 30, 3), np.uint8)).save(upload)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a picture")
    process, lines = _start(
        ["serve", "--port", 0, "--weights", "random", "--examples", examples,
         "--max-size", 64],
        tmp_path,
    )  # fmt: skip
    try:
        url = _url(process, lines, "keras-nst serve: ")
        browser.get(url)
        content = Select(browser.find_element("id", "content-example"))
        _wait(lambda: len(content.options) == 3, "the examples")
        content.select_by_visible_text("photo.png")
        message = browser.find_element("id", "form-message")
        browser.find_element("id", "style-file").send_keys(str(bad))
        _wait(lambda: "The style image:" in message.text, "the refusal")
        assert "the upload" in message.text
        browser.find_element("id", "style-file").send_keys(str(upload))
        _wait(lambda: "30 x 30 px" in message.text, "the upload")
        size = browser.find_element("id", "size")
        size.clear()
        size.send_keys("32")
        iterations = browser.find_element("id", "iterations")
        iterations.clear()
        iterations.send_keys("5")
        browser.find_element("id", "start").click()
        _wait(lambda: "Run 1 queued." in message.text, "the queued run")

        def row() -> str:
            # The list is redrawn every two seconds.
            return browser.execute_script(
                "const r = document.getElementById('run-1');"
                "return r ? r.textContent : '';"
            )

        _wait(lambda: "done" in row(), "the run to finish")
        assert "photo.png in the style of upload-2.png" in row()  # 1 was bad
        _wait(
            lambda: browser.find_elements("css selector", "#run-1 a.download"),
            "the download link",
        )
        browser.execute_script(
            "document.querySelector('#run-1 a.download').click()"
        )
        saved = browser.downloads / "run_1.png"
        _wait(saved.exists, "the downloaded result", timeout=30)
        with Image.open(saved) as picture:
            assert picture.size == (32, 27)
        browser.execute_script(
            "document.querySelector('#run-1 a.watch').click()"
        )
        _wait(
            lambda: browser.find_element("id", "status").text == "done",
            "the run's live page",
        )
        assert browser.find_element("id", "step").text == "5 / 5"
        assert len(browser.find_elements("css selector", "#weighted path"))
    finally:
        process.kill()
        process.wait()
