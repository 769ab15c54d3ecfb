"""The pallet label scans: Chromium renders it, zxing-cpp reads the GS1-128 symbols off the screenshot.

The seed (browser/conftest.py) gives the company a GS1 prefix and leaves one closed pallet holding one
packed batch, so its label carries (00) SSCC, (13) pack date, (37) cartons and (10) batch code.
"""

import io
import re

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect

from browser.helpers import CLERK, LABEL_CARTONS, login

pytestmark = pytest.mark.browser

AI = re.compile(r"\((\d{2})\)")


def element_strings(text):
    """{AI: value} of a human-readable GS1 string such as "(13)261130(37)72(10)PH1-...". """
    parts = AI.split(text)[1:]
    return dict(zip(parts[::2], parts[1::2], strict=True))


def decoded(png):
    shot = Image.open(io.BytesIO(png)).convert("L")
    # A white margin all round: the decoder wants the symbol's quiet zones inside the picture.
    image = Image.new("L", (shot.width + 200, shot.height + 200), 255)
    image.paste(shot, (100, 100))
    found = {}
    for barcode in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.Code128):
        # zxing-cpp gives GS1 symbols' element strings in parentheses in .text when the symbol starts with FNC1.
        assert barcode.content_type == zxingcpp.ContentType.GS1, barcode.text
        found.update(element_strings(barcode.text))
    return found


@pytest.fixture
def sharp_page(browser, live_url):
    """A page rendered at 4 device pixels per CSS pixel: a 0.33 mm bar is then several pixels wide, as a
    label printer's dots are, and the decoder sees clean edges."""
    context = browser.new_context(base_url=live_url, device_scale_factor=4, viewport={"width": 800, "height": 900})
    yield context.new_page()
    context.close()


def test_the_label_decodes_to_its_element_strings(sharp_page: Page):
    page = sharp_page
    login(page, CLERK)
    page.goto("/pallets/?status=closed")
    page.get_by_role("row").nth(1).get_by_role("link").first.click()
    sscc = page.get_by_test_id("sscc").inner_text().strip()
    page.get_by_role("link", name="Label").click()
    expect(page.get_by_test_id("sscc")).to_have_text(sscc)
    batch_code = page.locator("dd").filter(has_text=re.compile(r"^[A-Z0-9]+-\d{8}-\d{4}$")).first.inner_text()
    packed = page.locator("dt:text-is('Packed') + dd").inner_text().strip()  # YYYY-MM-DD

    found = {}
    symbols = page.locator("main.label figure.barcode svg")
    for index in range(symbols.count()):
        found.update(decoded(symbols.nth(index).screenshot(scale="device")))

    assert found == {"00": sscc, "13": packed[2:].replace("-", ""), "37": str(LABEL_CARTONS), "10": batch_code}
