"""The emulator's run page: the run URL the client hands out answers with an HTML page of the
run (status, tasks, progress, log tail, cancel state) over real HTTP, without a token, and
reloads itself only while the run is active. One test looks at it in headless Chromium."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from nftower import TowerClient
from nftower.testing import TowerEmulator

SLOW = pytest.mark.tower_emulator(speed=0.01, rate_limit=None)
REFRESH = '<meta http-equiv="refresh"'
MULTIQC = "NFCORE_RNASEQ:RNASEQ:MULTIQC"


def element(page: str, element_id: str) -> str:
    """The text inside the element with ``element_id`` (tags dropped, entities decoded)."""
    match = re.search(rf'<(\w+)[^>]* id="{element_id}"[^>]*>(.*?)</\1>', page, re.DOTALL)
    assert match is not None, element_id
    return html.unescape(re.sub(r"<[^>]+>", " ", match[2]))


def task_rows(page: str) -> list[tuple[str, str]]:
    """``(task name, status)`` of each row of the tasks table."""
    rows = re.findall(r"<tr><td>\d+</td><td>(.*?)</td><td><span[^>]*>(\w+)</span>", page)
    return [(html.unescape(name), status) for name, status in rows]


def launch(emu: TowerEmulator, pipeline: str = "rnaseq", **params: Any) -> tuple[str, str]:
    """Launch ``pipeline``; returns the workflow id and the run URL the client hands out."""
    with TowerClient(emu.url, emu.token, emu.workspace_id) as tower:
        workflow_id = tower.launch(pipeline, params=params or None)
        url = tower.run_url(tower.get_workflow(workflow_id))
    assert url is not None
    return workflow_id, url


def page_of(url: str) -> str:
    answer = httpx.get(url)  # a browser has no token, and needs none
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    return answer.text


@SLOW
def test_the_run_url_shows_an_active_run_that_reloads_itself(
    tower_emulator: TowerEmulator,
) -> None:
    workflow_id, url = launch(tower_emulator)
    assert url.startswith(f"{tower_emulator.url}/orgs/demo-org/workspaces/demo-workspace/watch/")
    page = page_of(url)
    assert element(page, "status") == "SUBMITTED"
    assert REFRESH in page
    assert element(page, "tasks").strip() == "No task submitted yet."

    tower_emulator.advance(2 + 20 * 2.5 / 6)  # the first two tasks done, the third started
    page = page_of(url)
    assert element(page, "status") == "RUNNING"
    assert REFRESH in page
    rows = task_rows(page)
    assert [status for _, status in rows] == ["COMPLETED", "COMPLETED", "RUNNING"]
    assert rows[0][0] == "NFCORE_RNASEQ:RNASEQ:PREPARE_GENOME:GUNZIP_GTF (genes.gtf.gz)"
    assert element(page, "progress") == "2 of 6 tasks succeeded (33%): 1 running, 3 pending"
    assert '<progress id="progress-bar" max="6" value="2">' in page
    assert "Submitted process > NFCORE_RNASEQ:RNASEQ:PREPARE_GENOME:GUNZIP_GTF" in element(
        page, "log"
    )
    assert f"Not cancelled (to cancel it: nftower cancel {workflow_id})" in element(page, "facts")
    assert tower_emulator.token not in page


@SLOW
def test_an_ended_run_stops_reloading_and_shows_the_end_of_its_log(
    tower_emulator: TowerEmulator,
) -> None:
    _, url = launch(tower_emulator)
    tower_emulator.advance(60)
    page = page_of(url)
    assert element(page, "status") == "SUCCEEDED"
    assert REFRESH not in page
    assert element(page, "progress") == "6 of 6 tasks succeeded (100%)"
    assert {status for _, status in task_rows(page)} == {"COMPLETED"}
    log = element(page, "log").splitlines()
    assert log[-1] == "Succeeded   : 6"
    assert "Cancel Not cancelled " in " ".join(element(page, "facts").split()) + " "


@SLOW
def test_a_failed_run_shows_its_failed_task_and_error_report(
    tower_emulator: TowerEmulator,
) -> None:
    _, url = launch(tower_emulator, emulator_outcome="fail")
    tower_emulator.advance(60)
    page = page_of(url)
    assert element(page, "status") == "FAILED"
    assert task_rows(page)[-1] == (MULTIQC, "FAILED")
    assert element(page, "progress") == "5 of 6 tasks succeeded (83%): 1 failed"
    assert f"Error executing process > '{MULTIQC}'" in element(page, "error")
    assert f"ERROR ~ Error executing process > '{MULTIQC}'" in element(page, "log")


@SLOW
def test_a_cancelled_run_shows_when_it_was_cancelled(tower_emulator: TowerEmulator) -> None:
    workflow_id, url = launch(tower_emulator)
    tower_emulator.advance(5)
    with TowerClient(tower_emulator.url, tower_emulator.token, tower_emulator.workspace_id) as t:
        t.cancel(workflow_id)
    page = page_of(url)
    assert element(page, "status") == "CANCELLED"
    assert REFRESH not in page
    assert re.search(
        r"Cancelled at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC on request \(1 task\(s\) aborted\)",
        element(page, "facts"),
    )
    assert ("NFCORE_RNASEQ:RNASEQ:PREPARE_GENOME:GUNZIP_GTF (genes.gtf.gz)", "ABORTED") in (
        task_rows(page)
    )


@SLOW
def test_what_a_launch_carries_is_escaped(tower_emulator: TowerEmulator) -> None:
    evil = "https://example.org/<script>alert(1)</script>&x=1"
    _, url = launch(tower_emulator, pipeline=evil)
    tower_emulator.advance(5)
    page = page_of(url)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&amp;x=1" in page
    assert evil in element(page, "facts")
    assert evil in element(page, "log")


@SLOW
def test_a_personal_run_has_its_page_under_the_user(tower_emulator: TowerEmulator) -> None:
    with TowerClient(tower_emulator.url, tower_emulator.token) as tower:  # no workspace
        workflow_id = tower.launch("hello")
        url = tower.run_url(tower.get_workflow(workflow_id))
    assert url == f"{tower_emulator.url}/user/demo-user/watch/{workflow_id}"
    page = page_of(url)
    assert "personal (demo-user)" in element(page, "facts")


@SLOW
def test_other_addresses_answer_404_and_pages_are_not_recorded(
    tower_emulator: TowerEmulator,
) -> None:
    workflow_id, url = launch(tower_emulator)
    tower_emulator.clear_requests()
    base = tower_emulator.url
    for wrong in (
        url.replace("/demo-workspace/", "/sandbox/"),  # another workspace
        url.replace("/demo-org/", "/other-org/"),
        f"{base}/user/demo-user/watch/{workflow_id}",  # not a personal run
        f"{base}/orgs/demo-org/workspaces/demo-workspace/watch/unknown",
    ):
        answer = httpx.get(wrong)
        assert answer.status_code == 404, wrong
        assert answer.headers["content-type"].startswith("text/html")
        assert "Run not found" in answer.text
    assert httpx.head(url).status_code == 200
    assert tower_emulator.requests == []
    # The page is no API operation: other methods are answered by the API, which wants a token.
    assert httpx.post(url, json={}).status_code == 403


@SLOW
def test_runs_view_prints_the_run_url(tower_emulator: TowerEmulator) -> None:
    import subprocess
    import sys

    workflow_id, url = launch(tower_emulator)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWER_")}
    env.update(
        TOWER_API_ENDPOINT=tower_emulator.url,
        TOWER_ACCESS_TOKEN=tower_emulator.token,
        TOWER_WORKSPACE_ID=str(tower_emulator.workspace_id),
    )
    nftower = str(Path(sys.executable).parent / "nftower")
    result = subprocess.run(
        [nftower, "runs", "view", workflow_id], env=env, capture_output=True, text=True, timeout=90
    )
    assert result.returncode == 0, result.stderr
    assert re.search(rf"^\s*Run URL\s+{re.escape(url)}$", result.stdout, re.MULTILINE)
    result = subprocess.run(
        [nftower, "runs", "view", workflow_id, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert json.loads(result.stdout)["runUrl"] == url
    assert element(page_of(url), "run-name") == json.loads(result.stdout)["runName"]


# -- in a real browser -------------------------------------------------------------------------
CHROMIUM = Path(os.environ.get("NFTOWER_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("NFTOWER_CHROMEDRIVER", "/usr/bin/chromedriver"))


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Debian Chromium through Selenium (nothing downloaded); skipped without it,
    except in CI."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        message = f"needs {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="nftower-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--no-first-run", f"--user-data-dir={profile}",
                     "--window-size=1200,1000"):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def screenshot_path(name: str) -> Path:
    """`NFTOWER_SCREENSHOTS/<name>.png` (`make screenshots`: docs/assets/screenshots), else a
    temporary folder, so that a test run leaves the checkout clean."""
    folder = os.environ.get("NFTOWER_SCREENSHOTS")
    path = Path(folder) if folder else Path(tempfile.gettempdir()) / "nftower-screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path / f"{name}.png"


def wait_for_text(driver: Any, element_id: str, wanted: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        try:
            seen = driver.find_element("id", element_id).text
        except Exception:  # the page is reloading
            seen = ""
        if seen == wanted:
            return
        time.sleep(0.25)
    raise AssertionError(f"#{element_id} still reads {seen!r}, not {wanted!r}")


@pytest.mark.timeout(180)
@SLOW
def test_in_a_browser_the_page_follows_the_run_by_itself(tower_emulator: TowerEmulator) -> None:
    _, url = launch(tower_emulator, emulator_outcome="fail")
    tower_emulator.advance(2 + 20 * 4.5 / 6)
    with chromium() as driver:
        driver.get(url)
        wait_for_text(driver, "status", "RUNNING")
        assert driver.title.endswith("RUNNING · Tower emulator")
        cells = driver.find_elements("css selector", "#tasks td:nth-child(3)")
        assert [cell.text for cell in cells] == ["COMPLETED"] * 4 + ["RUNNING"]
        driver.save_screenshot(str(screenshot_path("emulator-run-page")))
        tower_emulator.advance(60)  # no click, no reload: the page refreshes itself
        wait_for_text(driver, "status", "FAILED")
        assert f"Error executing process > '{MULTIQC}'" in driver.find_element("id", "error").text
        driver.save_screenshot(str(screenshot_path("emulator-run-page-failed")))
        assert driver.find_elements("css selector", 'meta[http-equiv="refresh"]') == []
