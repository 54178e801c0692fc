"""The Airflow 3 UI as a user sees it, in headless Chromium (Debian's, driven by Selenium),
served by the session's real ``airflow standalone`` (see ``standalone_harness``).

One browser session, in order: create a ``tower`` connection in the form and press its "Test"
button; trigger the example DAG from its page (with "Unpause on trigger", which also starts
the latest scheduled run); read the launch task's log (run URL, its counts, success line);
follow the "Tower run" extra link to the emulator's run page; trigger a DAG whose 45 s run
fails and read its progress lines and failure report in its log; trigger a DAG whose launch
meets a Tower API error that does not go away and read the Error ID in its log. Screenshots:
see ``browser_support``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

import pytest
from browser_support import chromium, save_screenshot, wait_for
from standalone_harness import Standalone, until
from standalone_harness import get as get_json

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

EXAMPLE_DAG = "nightly_rnaseq"
FAILING_DAG = "tower_failure_demo"
API_ERROR_DAG = "tower_api_error_demo"


@dataclass
class AirflowUI:
    standalone: Standalone
    driver: Any
    runs: dict[str, str] = field(default_factory=dict)  # DAG id -> the run triggered here

    @property
    def url(self) -> str:
        return str(self.standalone.api.base_url).removesuffix("/api/v2/").removesuffix("/api/v2")

    def open(self, path: str) -> None:
        self.driver.get(f"{self.url}{path}")

    def find(self, xpath: str, what: str, timeout: float = 60) -> Any:
        return wait_for(what, lambda: self.driver.find_element("xpath", xpath), timeout)


@pytest.fixture(scope="module")
def ui(standalone: Standalone) -> Iterator[AirflowUI]:
    """A browser on the session's Airflow, its DAGs paused (as a new DAG is, and as the
    REST tests that may have run first did not leave them)."""
    for dag_id in (EXAMPLE_DAG, FAILING_DAG, API_ERROR_DAG):
        until(
            f"the DAG {dag_id} to be parsed",
            lambda dag_id=dag_id: standalone.api.get(f"/dags/{dag_id}").status_code == 200 or None,
            240,
            standalone.log,
        )
        standalone.api.patch(f"/dags/{dag_id}", json={"is_paused": True}).raise_for_status()
    with chromium(height=1200) as driver:
        yield AirflowUI(standalone=standalone, driver=driver)


def _field(ui: AirflowUI, label: str) -> Any:
    """The input of the dialog's form field labelled ``label``."""

    def find() -> Any:
        xpath = f"//div[@role='dialog']//label[starts-with(normalize-space(.), '{label}')]"
        target = ui.driver.find_element("xpath", xpath).get_attribute("for")
        return ui.driver.find_element("id", target)

    return wait_for(f"the {label!r} field", find, 30)


def test_connection_form_and_its_test_button(ui: AirflowUI) -> None:
    """Test passes for a connection made in the form as shipped (Port 443: Airflow 3.3's
    button sends port 0 for a connection without one, and its API refuses that)."""
    from selenium.webdriver.common.keys import Keys

    emulator = ui.standalone.emulator
    ui.open("/connections")
    ui.find("//button[normalize-space(.)='Add Connection']", "the Add Connection button").click()
    _field(ui, "Connection ID").send_keys("tower_ui")
    kind = _field(ui, "Connection Type")
    kind.send_keys("Nextflow Tower")
    kind.send_keys(Keys.ENTER)
    token_input = _field(ui, "Access token")
    assert token_input.get_attribute("type") == "password"
    _field(ui, "API URL").send_keys(emulator.url)
    token_input.send_keys(emulator.token)
    _field(ui, "Port").send_keys("443")
    assert emulator.token not in ui.driver.find_element("tag name", "body").text
    save_screenshot(ui.driver, "airflow-connection-form")
    ui.find("//button[normalize-space(.)='Extra Fields']", "the Extra Fields section").click()
    wait_for("the workspace field", lambda: ui.driver.find_element("id", "element_workspace"), 10)
    ui.driver.find_element("id", "element_workspace").send_keys(str(emulator.workspace_id))
    ui.find("//div[@role='dialog']//button[normalize-space(.)='Save']", "Save").click()

    saved = until(
        "the saved connection",
        lambda: get_json(ui.standalone.api, "/connections/tower_ui"),
        60,
        ui.standalone.log,
    )
    assert (saved["conn_type"], saved["host"], saved["port"]) == ("tower", emulator.url, 443)
    extra = json.loads(saved["extra"])
    assert extra["workspace"] == str(emulator.workspace_id)
    assert None not in extra.values()  # no "rate_limit_backend": null

    row = "//tr[.//td[normalize-space(.)='tower_ui']]"
    ui.find(f"{row}//button[@aria-label='Test Connection']", "the Test button").click()
    toast = ui.find(
        "//*[@data-scope='toast' and @data-part='root' and contains(., 'Connected to Tower')]",
        "the test result",
        60,
    )
    assert toast.get_attribute("data-type") == "success", toast.text
    wait_for("the test's message", lambda: f"workspace {emulator.workspace_id}" in toast.text, 10)
    save_screenshot(ui.driver, "airflow-connection-test")


def _trigger(ui: AirflowUI, dag_id: str) -> str:
    """Trigger ``dag_id`` from its page (the dialog as it opens: "Unpause on trigger" ticked);
    return the new DAG run's id (the UI opens its page)."""
    ui.open(f"/dags/{dag_id}")
    ui.find("//button[@aria-label='Trigger Dag']", "the Trigger button").click()
    dialog = "//div[@role='dialog']"
    unpause = ui.find(f"{dialog}//label[starts-with(normalize-space(.), 'Unpause')]", "Unpause")
    assert unpause.get_attribute("data-state") == "checked"
    ui.find(f"{dialog}//button[normalize-space(.)='Trigger']", "the dialog's Trigger").click()
    marker = f"/dags/{dag_id}/runs/"
    wait_for("the DAG run page", lambda: marker in ui.driver.current_url, 60)
    run_id = ui.driver.current_url.split(marker, 1)[1].split("/")[0].split("?")[0]
    ui.runs[dag_id] = run_id = unquote(run_id)
    return run_id


def _finished(ui: AirflowUI, dag_id: str, run_id: str, timeout: float = 420) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        run = get_json(ui.standalone.api, f"/dags/{dag_id}/dagRuns/{quote(run_id)}")
        return run if run["state"] in ("success", "failed") else None

    return until(f"the DAG run {run_id} to finish", finished, timeout, ui.standalone.log)


def _task_log_text(ui: AirflowUI, dag_id: str, run_id: str, task_id: str, expect: str) -> str:
    """The task log as the Logs tab shows it (once ``expect`` appears in it)."""
    ui.open(f"/dags/{dag_id}/runs/{quote(run_id)}/tasks/{task_id}")

    def shown() -> str | None:
        lines = ui.driver.find_elements("css selector", "[data-testid^='virtualized-item-']")
        text = "\n".join(line.text for line in lines)
        return text if expect in text else None

    return wait_for(f"{expect!r} in the log of {task_id}", shown, 90)


def test_trigger_the_example_dag_and_read_the_task_log(ui: AirflowUI) -> None:
    api, emulator = ui.standalone.api, ui.standalone.emulator
    before = {r.workflow_id for r in emulator.launches}
    run_id = _trigger(ui, EXAMPLE_DAG)
    run = _finished(ui, EXAMPLE_DAG, run_id)
    assert run["state"] == "success", ui.standalone.log.read_text()[-6000:]
    # "Unpause on trigger" also started the latest scheduled run (Airflow's behaviour)
    runs = get_json(api, f"/dags/{EXAMPLE_DAG}/dagRuns")["dag_runs"]
    assert any(r["run_type"] == "scheduled" for r in runs), runs

    workflow_id = _workflow_id(ui, EXAMPLE_DAG, run_id)
    assert workflow_id not in before
    text = _task_log_text(ui, EXAMPLE_DAG, run_id, "rnaseq", f"Tower run {workflow_id} succeeded")
    run_url = (
        f"{emulator.url}/orgs/{emulator.org_name}/workspaces/{emulator.workspace_name}"
        f"/watch/{workflow_id}"
    )
    assert run_url in text
    counts = r"\d+ succeeded, \d+ running, \d+ failed of \d+ tasks"
    # the trigger's lines carry the counts (how many it logs depends on when the triggerer
    # picked the trigger up: the failing DAG below runs long enough to show them move)
    assert re.search(rf"Run {workflow_id} is [A-Z]+ \({counts}\)", text), text
    progress = re.findall(rf"Run {workflow_id} progress: ({counts})", text)
    assert len(progress) == len(set(progress)), text  # never the same counts twice
    assert re.search(rf"Tower run {workflow_id} succeeded in (\d+m )?\d+s: {counts}", text), text
    assert emulator.token not in ui.driver.page_source
    save_screenshot(ui.driver, "airflow-task-log")


def _workflow_id(ui: AirflowUI, dag_id: str, run_id: str) -> str:
    """The Tower run the DAG run's launch task pushed to XCom."""
    ti = f"/dags/{dag_id}/dagRuns/{quote(run_id)}/taskInstances/rnaseq"
    entry = get_json(ui.standalone.api, f"{ti}/xcomEntries/workflow_id")
    value = entry["value"]
    return str(json.loads(value) if isinstance(value, str) and value.startswith('"') else value)


def test_the_extra_link_opens_the_run_page(ui: AirflowUI) -> None:
    run_id = ui.runs[EXAMPLE_DAG]
    ui.open(f"/dags/{EXAMPLE_DAG}/runs/{quote(run_id)}/tasks/rnaseq/details")
    link = ui.find("//a[normalize-space(.)='Tower run']", "the Tower run link")
    href = link.get_attribute("href")
    assert "/watch/" in href
    save_screenshot(ui.driver, "airflow-extra-link")
    first = ui.driver.current_window_handle
    link.click()
    wait_for("the run page's window", lambda: len(ui.driver.window_handles) > 1, 30)
    ui.driver.switch_to.window(next(h for h in ui.driver.window_handles if h != first))
    try:
        workflow_id = href.rsplit("/", 1)[1]
        wait_for("the run page", lambda: workflow_id in ui.driver.page_source, 30)
        assert "SUCCEEDED" in ui.driver.find_element("tag name", "body").text
    finally:
        ui.driver.close()
        ui.driver.switch_to.window(first)


def test_a_failed_run_shows_its_report_in_the_task_log(ui: AirflowUI) -> None:
    run_id = _trigger(ui, FAILING_DAG)
    assert _finished(ui, FAILING_DAG, run_id)["state"] == "failed"
    text = _task_log_text(ui, FAILING_DAG, run_id, "rnaseq", "Failed tasks (")
    assert re.search(r"Run \S+ \(\w+\) ended FAILED", text), text
    # a 45 s run: one progress line per change of its counts while the triggerer watched it
    counts = r"\d+ succeeded, \d+ running, \d+ failed of \d+ tasks"
    progress = re.findall(rf"Run \w+ progress: ({counts})", text)
    assert progress, text
    assert len(progress) == len(set(progress)), text
    assert "/watch/" in text  # the run page
    assert re.search(r"  - \S.*: exit \d+, workdir ", text), text  # a failed task named
    save_screenshot(ui.driver, "airflow-failed-task-log")


def test_an_api_error_shows_its_error_id_in_the_task_log(ui: AirflowUI) -> None:
    emulator = ui.standalone.emulator
    pipeline_id = emulator.add_pipeline("broken-rnaseq", "https://github.com/nf-core/rnaseq")
    saved_launch = rf"^/pipelines/{pipeline_id}/launch$"
    launches = len(emulator.launches)
    emulator.inject("status", method="GET", path=saved_launch, times=None, status=500)
    try:
        run_id = _trigger(ui, API_ERROR_DAG)
        assert _finished(ui, API_ERROR_DAG, run_id)["state"] == "failed"
        text = _task_log_text(ui, API_ERROR_DAG, run_id, "rnaseq", "Error ID")
    finally:
        emulator.clear_faults()
    # the status, the operation, the server's message and its Error ID; no launch was made
    assert "500 GET /pipelines/{pipelineId}/launch: Oops... Unable to process request" in text
    assert re.search(r"\(Error ID: [A-Za-z0-9]{22}\)", text), text
    assert len(emulator.launches) == launches
    assert emulator.token not in ui.driver.page_source
    save_screenshot(ui.driver, "airflow-api-error-task-log")
