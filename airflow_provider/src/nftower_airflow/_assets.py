"""Asset events of a successful run: the run's id and URL in the extra of every declared
outlet's event, and the pipeline's output locations as assets through an asset alias."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nftower import TowerClient

#: The asset alias name ``tower_outputs_as_assets`` adds to a task's outlets.
OUTPUTS_ALIAS = "tower-outputs-{task_id}"


def outputs_alias(task_id: str) -> Any:
    """The ``AssetAlias`` receiving a task's output locations."""
    from airflow.sdk import AssetAlias

    return AssetAlias(OUTPUTS_ALIAS.format(task_id=task_id))


def emit_run_assets(
    context: Any,
    outlets: list[Any],
    client: TowerClient,
    workflow_id: str,
    run_url: str | None,
    *,
    outputs_as_assets: bool,
    log: Any,
) -> None:
    """Fill the asset events Airflow emits when the task succeeds."""
    from airflow.sdk import Asset, AssetAlias

    events = context.get("outlet_events")
    if events is None:
        return
    extra = {"tower_workflow_id": workflow_id, "tower_run_url": run_url}
    for outlet in outlets:
        if isinstance(outlet, Asset):
            events[outlet].extra.update(extra)
    if not outputs_as_assets:
        return
    outputs = client.run_outputs(workflow_id)
    alias = next((o for o in outlets if isinstance(o, AssetAlias)), None)
    if alias is None:
        return
    for location in outputs.locations:
        if "://" not in location:
            log.warning("Output %s is not a URI; no asset event for it", location)
            continue
        events[alias].add(Asset(location), extra={**extra, "tower_work_dir": outputs.work_dir})
        log.info("Asset event for output %s", location)
