"""The Prefect UI as a user sees it, in headless Chromium (Debian's, driven by Selenium).

A second Prefect server process serves the UI on the session's test database (the session's
own server serves no UI). In the default (V2) UI the test creates the `TowerCredentials`
block in its form, with the token typed into a password input, runs the example flow with
that block, and reads the flow run's artifacts. Screenshots: see `browser_support`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from browser_support import broken_images, chromium, save_screenshot, wait_for
from nftower.testing import TowerEmulator
from prefect_nftower import TowerCredentials, TowerPipeline
from test_examples import load_example
from tower_helpers import POLL, launches_of

pytestmark = pytest.mark.timeout(300)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PrefectUI:
    url: str
    driver: Any

    def open(self, path: str) -> None:
        self.driver.get(f"{self.url}{path}")


@pytest.fixture(scope="module")
def prefect_ui() -> Iterator[PrefectUI]:
    """The V2 UI on the session's database, and a browser to look at it."""
    from prefect.settings import get_current_settings

    TowerCredentials.register_type_and_schema()
    TowerPipeline.register_type_and_schema()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        **get_current_settings().to_environment_variables(exclude_unset=True),
        "PREFECT_UI_ENABLED": "1",
        "PREFECT_UI_API_URL": f"{url}/api",
        "PREFECT__SERVER_WEBSERVER_ONLY": "1",  # the session server runs the services
    }
    server = subprocess.Popen(
        [
            sys.executable,
            *("-m", "uvicorn", "--factory", "prefect.server.api.server:create_app"),
            *("--host", "127.0.0.1", "--port", str(port), "--log-level", "error"),
        ],
        env=env,
        start_new_session=True,
    )
    try:
        wait_for("the UI server", lambda: httpx.get(f"{url}/api/health").status_code == 200, 90)
        with chromium() as driver:
            yield PrefectUI(url=url, driver=driver)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def _field(ui: PrefectUI, label: str) -> Any:
    """The input or textarea of the form field labelled `label` (the label's `for`)."""

    def find() -> Any:
        xpath = f"//form//label[starts-with(normalize-space(.), '{label}')]"
        target = ui.driver.find_element("xpath", xpath).get_attribute("for")
        return ui.driver.find_element("id", target)

    return wait_for(f"the {label!r} field", find, 30)


def test_credentials_block_form_masks_the_token(
    prefect_ui: PrefectUI, emulator: TowerEmulator, token: str
) -> None:
    ui = prefect_ui
    ui.open("/v2/blocks/catalog/tower-credentials/create")
    token_input = _field(ui, "Access Token")
    assert token_input.tag_name == "input"
    assert token_input.get_attribute("type") == "password"
    # no type switch on any field: each one takes text straight away
    page = ui.driver.find_element("tag name", "main").text
    assert "None" not in page.split()
    assert "null" not in page.split()
    assert not broken_images(ui.driver)

    _field(ui, "Name").send_keys("browser-credentials")
    token_input.send_keys(token)
    _field(ui, "API URL").send_keys(emulator.url)
    _field(ui, "Workspace").send_keys(str(emulator.workspace_id))
    assert token not in ui.driver.find_element("tag name", "main").text
    save_screenshot(ui.driver, "prefect-credentials-form")
    ui.driver.find_element("xpath", "//button[normalize-space(.)='Save']").click()

    saved = wait_for(
        "the saved block",
        lambda: TowerCredentials.load("browser-credentials"),
        30,
    )
    assert saved.access_token.get_secret_value() == token
    assert saved.api_url == emulator.url
    assert saved.workspace == str(emulator.workspace_id)
    assert saved.rate_limit_backend == ""
    wait_for("the block page", lambda: not ui.driver.current_url.endswith("/create"), 30)

    def block_page() -> bool:
        # the form's input (with the typed token) may stay in the DOM a moment after the URL
        # changes: the saved block's own page is the one that must not show the token
        source = ui.driver.page_source
        return "browser-credentials" in source and 'type="password"' not in source

    wait_for("the saved block's page", block_page, 30)
    assert token not in ui.driver.page_source


def test_pipeline_form_names_the_credentials_field_briefly(prefect_ui: PrefectUI) -> None:
    ui = prefect_ui
    ui.open("/v2/blocks/catalog/tower-pipeline/create")
    wait_for("the form", lambda: "Poll Interval" in ui.driver.page_source, 30)
    form = ui.driver.find_element("tag name", "form").text
    assert "Tower credentials block." in form
    # the class docstring belongs to the catalog card, not to the field of the form
    assert "Every field left empty falls back" not in form
    assert not broken_images(ui.driver)
    save_screenshot(ui.driver, "prefect-pipeline-form")


def test_example_flow_artifacts_in_the_ui(
    prefect_ui: PrefectUI, emulator: TowerEmulator, token: str
) -> None:
    TowerCredentials(
        access_token=token, api_url=emulator.url, workspace=str(emulator.workspace_id)
    ).save("browser-example", overwrite=True)
    example = load_example()
    state = example.nightly(
        run_date="2024-06-01",
        credentials_block="browser-example",
        poll_interval=POLL,
        return_state=True,
    )
    (launch,) = launches_of(emulator, token)
    flow_run_id = state.state_details.flow_run_id

    ui = prefect_ui
    ui.open(f"/v2/runs/flow-run/{flow_run_id}?tab=Artifacts")
    wait_for("the artifacts", lambda: "nftower-summary" in ui.driver.page_source, 60)
    text = ui.driver.find_element("tag name", "main").text
    assert "nftower-run-" in text
    assert "nftower-progress-" in text
    save_screenshot(ui.driver, "prefect-flow-run-artifacts")
    assert launch.json["launch"]["runName"]
