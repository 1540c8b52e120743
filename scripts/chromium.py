"""Headless Chromium through selenium, for the scripts that look at pages.

Needs Debian's chromium and chromium-driver and selenium (`.[dev]`).
"""

import shutil


def chromium_driver():
    """A selenium driver of headless Debian Chromium, at one pixel a pixel."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--hide-scrollbars",
        "--disable-dev-shm-usage",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(argument)
    service = webdriver.ChromeService(shutil.which("chromedriver"))
    return webdriver.Chrome(options=options, service=service)
