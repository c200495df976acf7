"""The browse page in headless Chromium (Debian's chromium + chromium-driver, driven by selenium):
open /, navigate to a bucket, upload a file through the form, see it listed, download it, preview
an image, delete it; no console errors; keyboard-reachable controls; no horizontal scrolling at
1280x800 and 390x844. The screenshots at both sizes are kept as test artifacts in
IntegrationTests/artifacts/browse-page/ (gitignored, so never committed; GRIDLITE_SCREENSHOT_DIR
chooses another folder), for CI to upload and for a person to look at.
"""

from __future__ import annotations

import base64
import os
import shutil
import time
from pathlib import Path

import gridfs
import pytest
import requests

from conftest import TEST_AUTH, TEST_PASSWORD, TEST_USER
from http_support import start_gateway

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(CHROMIUM is None or DRIVER is None,
                                reason="chromium and chromium-driver are not installed (make deps installs them)")

# A 1x1 PNG.
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "browse-page"

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2"
                    "21bc330000000049454e44ae426082")


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,800", "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.downloads = downloads
    if TEST_AUTH:  # make integration-test-auth: every request of the page carries the fixtures' user
        token = base64.b64encode(f"{TEST_USER}:{TEST_PASSWORD}".encode()).decode()
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Basic {token}"}})
    try:
        yield driver
    finally:
        driver.quit()


def severe_console_entries(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def no_horizontal_scroll(driver) -> bool:
    return driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")


def wait_until_replaced(driver, element, timeout: float = 10) -> None:
    """Waits until `element` has left the page (the navigation it started has loaded a new document).

    selenium's `staleness_of` catches only StaleElementReferenceException; while Chromium is tearing
    the old document down, the same probe can instead fail with "Node with given id does not belong
    to the document" (a plain WebDriverException). Both mean the element is gone.
    """
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def gone(_driver) -> bool:
        try:
            element.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" in str(error) or "no such element" in str(error):
                return True
            raise

    WebDriverWait(driver, timeout).until(gone)
    WebDriverWait(driver, timeout).until(lambda d: d.execute_script("return document.readyState") == "complete")


def test_browse_upload_download_preview_delete(tmp_path, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    shots = Path(os.environ.get("GRIDLITE_SCREENSHOT_DIR", ARTIFACTS))
    shots.mkdir(parents=True, exist_ok=True)
    for old_shot in shots.glob("browse-*.png"):
        old_shot.unlink()  # a failed run must not leave the last run's pictures looking current
    g = start_gateway(tmp_path)
    try:
        with g.daemon.client() as c:
            bucket = gridfs.GridFSBucket(c["media"])
            for i in range(3):
                bucket.upload_from_stream(f"notes-{i}.txt", f"note {i}\n".encode() * 100)
            bucket.upload_from_stream("pixel.png", PNG)

        browser.get(g.base + "/")
        assert browser.title.startswith("Databases")
        browser.find_element(By.LINK_TEXT, "media").click()
        browser.find_element(By.LINK_TEXT, "fs").click()
        assert "fs in media" in browser.title
        names = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "td.name a")]
        assert names == ["notes-0.txt", "notes-1.txt", "notes-2.txt", "pixel.png"]

        # upload through the form
        upload = tmp_path / "from-browser.txt"
        upload.write_bytes(b"uploaded by chromium\n" * 1000)
        browser.find_element(By.ID, "file").send_keys(str(upload))
        form_button = browser.find_element(By.CSS_SELECTOR, "form[enctype] button[type=submit]")
        form_button.click()
        wait_until_replaced(browser, form_button)
        assert "from-browser.txt" in [a.text for a in browser.find_elements(By.CSS_SELECTOR, "td.name a")]
        row = browser.find_element(By.XPATH, "//tr[td/a[text()='from-browser.txt']]")
        assert "20.5 KiB" in row.text and "text/plain" in row.text

        # download it (the browser saves the file)
        row.find_element(By.LINK_TEXT, "Download").click()
        target = browser.downloads / "from-browser.txt"
        deadline = time.monotonic() + 20
        while not target.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert target.read_bytes() == upload.read_bytes()

        # preview an image through the range-capable URL
        browser.find_element(By.XPATH, "//tr[td/a[text()='pixel.png']]").find_element(By.LINK_TEXT, "Preview").click()
        img = browser.find_element(By.CSS_SELECTOR, ".preview img")
        assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) == 1

        # search by name
        box = browser.find_element(By.ID, "prefix")
        box.clear()
        box.send_keys("notes", Keys.ENTER)
        wait_until_replaced(browser, box)
        assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, "td.name a")] == [
            "notes-0.txt", "notes-1.txt", "notes-2.txt"]

        # keyboard: Tab reaches the breadcrumb links, the search box and the file links
        browser.get(g.base + "/media/fs/")
        from selenium.webdriver.common.action_chains import ActionChains
        focused = []
        for _ in range(12):
            ActionChains(browser).send_keys(Keys.TAB).perform()
            el = browser.switch_to.active_element
            focused.append((el.tag_name, el.get_attribute("id") or el.text))
        assert ("input", "prefix") in focused
        assert ("a", "notes-0.txt") in focused

        # readable at desktop and phone sizes: no horizontal scrolling
        browser.set_window_size(1280, 800)
        assert no_horizontal_scroll(browser)
        assert browser.save_screenshot(str(shots / "browse-1280x800.png"))
        browser.set_window_size(390, 844)
        assert no_horizontal_scroll(browser)
        assert browser.save_screenshot(str(shots / "browse-390x844.png"))
        for name, width in (("browse-1280x800.png", 1280), ("browse-390x844.png", 390)):
            shot = (shots / name).read_bytes()
            assert shot[:8] == b"\x89PNG\r\n\x1a\n" and shot[12:16] == b"IHDR", name
            # the IHDR width is the viewport's (at most the window's), never a blank 0 x 0 capture
            assert 0 < int.from_bytes(shot[16:20], "big") <= width, name
        browser.set_window_size(1280, 800)

        # delete it
        row = browser.find_element(By.XPATH, "//tr[td/a[text()='from-browser.txt']]")
        row.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait_until_replaced(browser, row)
        assert "fs in media" in browser.title  # back on the bucket's page
        assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, "td.name a")] == [
            "notes-0.txt", "notes-1.txt", "notes-2.txt", "pixel.png"]
        assert "from-browser.txt" not in [a.text for a in browser.find_elements(By.CSS_SELECTOR, "td.name a")]
        assert requests.get(f"{g.base}/media/fs/name/from-browser.txt").status_code == 404

        assert severe_console_entries(browser) == []
    finally:
        g.stop()


def test_paging_through_a_large_bucket(tmp_path, browser):
    from selenium.webdriver.common.by import By

    g = start_gateway(tmp_path)
    try:
        with g.daemon.client() as c:
            c.big.fs.files.insert_many([{"filename": f"f{i:05d}", "length": 0, "chunkSize": 261120,
                                         "uploadDate": __import__("datetime").datetime(2024, 1, 1)} for i in range(250)])
        browser.get(g.base + "/big/fs/?limit=100")
        seen = []
        for _ in range(5):
            seen += [a.text for a in browser.find_elements(By.CSS_SELECTOR, "td.name a")]
            nxt = browser.find_elements(By.LINK_TEXT, "Next page")
            if not nxt:
                break
            nxt[0].click()
            wait_until_replaced(browser, nxt[0])
        assert seen == [f"f{i:05d}" for i in range(250)]
        assert browser.find_elements(By.LINK_TEXT, "First page")
        assert severe_console_entries(browser) == []
    finally:
        g.stop()
