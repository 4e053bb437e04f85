"""Screenshots of the home and consultation pages, on the demo data, for the README.

Saved to docs/screenshots/ (or $E2E_SCREENSHOT_DIR): run the browser tests and commit the images
when the pages change.
"""

import struct

import pytest

from tests.e2e.conftest import DESKTOP, PHONE, SCREENSHOT_DIR

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def png_width(path) -> int:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">I", header[16:20])[0]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_screenshots_of_home_and_consultation(browser, live_server, demo, viewport):
    context = browser.new_context(base_url=live_server.url, locale="en-US", viewport=viewport)
    page = context.new_page()
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for name, url in (("home", "/"), ("consultation", demo.get_absolute_url())):
        page.goto(url)
        # The stylesheet loaded (the live server serves static files): the header is coloured.
        header = page.evaluate(
            "getComputedStyle(document.querySelector('.site-header')).backgroundColor"
        )
        assert header not in ("rgba(0, 0, 0, 0)", "transparent"), "site.css did not load"
        path = SCREENSHOT_DIR / f"{name}-{viewport['width']}.png"
        page.screenshot(path=path, full_page=True)
        assert png_width(path) == viewport["width"]
    context.close()
