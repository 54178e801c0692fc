"""Dataset operations as flows: create, find (exact name or id over every page), list, upload
a version (or reuse one with the same content), the version URL, and ``launch(dataset=...)``.

How a version with the same content is recognised: Tower keeps no content hash, but it keeps
every version's ``fileSize`` and serves its content (``GET /datasets/{id}/v/{version}/n/{file}``).
Before uploading, the versions of the same size (and header setting) are downloaded, newest
first, into a SHA-256 and compared with the content's; an equal one is reused. Only same-sized
versions cost a download (datasets are at most 10 MB on Tower). The upload itself is never
retried once it may have reached Tower: when its outcome is unknown, the versions are checked
again and a version that arrived is returned; otherwise the error is raised (a retry of the
whole task then reuses or uploads, never duplicates).

Example (a flow driven by hand):
    >>> from nftower import TowerConfig
    >>> from nftower._flows import FlowContext
    >>> cfg = TowerConfig(token="tower-access-token", workspace=7)
    >>> flow = create_dataset(FlowContext(cfg), "nightly")
    >>> call = next(flow)
    >>> call.operation, call.json, call.idempotent
    ('POST /datasets', {'name': 'nightly'}, False)
"""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Any

from . import _endpoints as ep
from ._dataset_models import Dataset, DatasetUpload, DatasetVersion, default_file_name
from ._dataset_source import DatasetSource
from ._exceptions import (
    ConflictError,
    NotFoundError,
    ServerError,
    TowerAPIError,
    TowerConfigError,
    TowerConnectionError,
)
from ._flows import Flow, FlowContext, Listing
from ._launch_options import LaunchOptions
from ._lookups import collect, listing, workspace_id
from ._sinks import HashSink

__all__ = [
    "create_dataset",
    "dataset_url",
    "get_dataset",
    "get_or_create_dataset",
    "list_dataset_versions",
    "list_datasets",
    "upload_dataset_version",
    "with_dataset",
]

logger = logging.getLogger("nftower")

DatasetRef = Dataset | str
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
_MAX_COMPARED = 5  # same-sized versions downloaded to compare, newest first


def _name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name.strip()):
        raise TowerConfigError(
            f"Dataset name must be letters, digits, '-' or '_' (at most 100), got {name!r}"
        )
    return name.strip()


def _ref(dataset: object) -> DatasetRef:
    if isinstance(dataset, Dataset):
        if not dataset.id:
            raise TowerConfigError("dataset has no id: pass a Dataset returned by Tower")
        return dataset
    if not isinstance(dataset, str) or not dataset.strip():
        raise TowerConfigError(f"dataset must be a Dataset, a name or an id, got {dataset!r}")
    return dataset.strip()


def list_datasets(ctx: FlowContext, /, search: str | None = None) -> Listing[Dataset]:
    """Every dataset of the workspace (``search`` filters by name on Tower)."""
    yield from listing(ctx, ep.list_datasets, "datasets", Dataset.model_validate, search)


def get_dataset(ctx: FlowContext, /, name_or_id: DatasetRef) -> Flow[Dataset]:
    """A dataset by exact name, else by id (every page searched); ``NotFoundError``
    otherwise."""
    wanted = _ref(name_or_id)
    if isinstance(wanted, Dataset):
        return wanted
    ws = yield from workspace_id(ctx)
    found = yield from collect(
        lambda offset: ep.list_datasets(ws, search=wanted, offset=offset),
        "datasets",
        Dataset.model_validate,
        until=lambda ds: ds.name == wanted,
    )
    for ds in found:
        if ds.name == wanted:
            return ds
    every = yield from collect(
        lambda offset: ep.list_datasets(ws, search=None, offset=offset),
        "datasets",
        Dataset.model_validate,
        until=lambda ds: ds.id == wanted or ds.name == wanted,
    )
    for ds in every:
        if ds.id == wanted or ds.name == wanted:
            return ds
    similar = sorted({ds.name for ds in found if ds.name})[:10]
    hint = f" (similar: {', '.join(similar)})" if similar else ""
    raise NotFoundError(
        f"No dataset named exactly {wanted!r} or with that id in workspace "
        f"{ws or 'personal'}{hint}",
        status_code=404,
        operation="GET /datasets",
    )


def create_dataset(ctx: FlowContext, /, name: str, description: str | None = None) -> Flow[Dataset]:
    """Create a dataset; ``ConflictError`` (409) when the name is taken
    (:meth:`get_or_create_dataset` reuses it instead)."""
    name = _name(name)
    ws = yield from workspace_id(ctx)
    data = yield ep.create_dataset(ws, name, description)
    return Dataset.model_validate(data or {})


def get_or_create_dataset(
    ctx: FlowContext, /, name: str, description: str | None = None
) -> Flow[Dataset]:
    """The dataset named exactly ``name``, created when there is none."""
    name = _name(name)
    try:
        return (yield from get_dataset(ctx, name))
    except NotFoundError:
        pass
    try:
        return (yield from create_dataset(ctx, name, description))
    except ConflictError:  # created meanwhile by someone else
        return (yield from get_dataset(ctx, name))


def list_dataset_versions(ctx: FlowContext, /, dataset: DatasetRef) -> Flow[list[DatasetVersion]]:
    """Every version of a dataset (a ``Dataset``, name or id), newest first."""
    ds = yield from get_dataset(ctx, _ref(dataset))
    ws = yield from workspace_id(ctx)
    data = yield ep.list_dataset_versions(ws, ds.id or "")
    versions = [DatasetVersion.model_validate(v) for v in (data or {}).get("versions") or []]
    return sorted(versions, key=lambda v: v.version or 0, reverse=True)


def dataset_url(ctx: FlowContext, /, dataset: DatasetRef, version: int | None = None) -> Flow[str]:
    """The URL of a dataset version (the latest enabled one by default): what a pipeline's
    ``input`` parameter takes."""
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise TowerConfigError(f"version must be a version number, got {version!r}")
    versions = yield from list_dataset_versions(ctx, dataset)
    for item in versions:
        if item.url and (item.version == version or (version is None and not item.disabled)):
            return item.url
    label = dataset.name if isinstance(dataset, Dataset) else dataset
    which = f"version {version}" if version is not None else "an enabled version"
    raise NotFoundError(
        f"Dataset {label!r} has no {which} with a URL",
        status_code=404,
        operation="GET /datasets/{datasetId}/versions",
    )


def upload_dataset_version(
    ctx: FlowContext,
    /,
    dataset: DatasetRef,
    data: Any,
    *,
    header: bool = True,
    file_name: str | None = None,
) -> Flow[DatasetVersion]:
    """Upload ``data`` as a new version of ``dataset``, or return the existing version with
    the same content (compared by SHA-256 through Tower's download endpoint).

    ``data``: a path, ``bytes``, a text or binary stream, or anything with ``to_csv()``.
    ``file_name`` (default: the path's name, else ``samplesheet.csv``) decides ``text/csv``
    or ``text/tab-separated-values``. The upload is never retried once it may have reached
    Tower."""
    ref = _ref(dataset)
    name = file_name or default_file_name(data)
    with DatasetSource.prepare(data, name) as source:
        ds = yield from get_dataset(ctx, ref)
        ws = yield from workspace_id(ctx)
        same = yield from _same_content(ctx, ws, ds, source, header)
        if same is not None:
            logger.info(
                "Dataset %r: version %s has the same content, reused", ds.name, same.version
            )
            return same
        try:
            answer = yield ep.upload_dataset(ws, ds.id or "", source.upload(), header=header)
        except (TowerConnectionError, ServerError) as exc:
            landed = yield from _same_content(ctx, ws, ds, source, header)
            if landed is not None:
                return landed
            raise exc from None
    return DatasetVersion.model_validate(answer or {})


def _same_content(
    ctx: FlowContext, ws: int | None, ds: Dataset, source: DatasetSource, header: bool
) -> Flow[DatasetVersion | None]:
    versions = yield from list_dataset_versions(ctx, ds)
    candidates = [
        v
        for v in versions
        if v.file_size == source.size
        and not v.disabled
        and v.version is not None
        and v.file_name
        and v.has_header in (None, header)
    ]
    for version in candidates[:_MAX_COMPARED]:
        sink = HashSink()
        try:
            yield ep.download_dataset(
                ws, ds.id or "", version.version or 0, version.file_name or "", sink
            )
        except TowerAPIError as exc:
            logger.debug("Cannot compare dataset version %s: %s", version.version, exc)
            continue
        if sink.size == source.size and sink.hexdigest() == source.sha256:
            return version
    return None


def resolve(ctx: FlowContext, dataset: object) -> Flow[str]:
    """The version URL for ``launch(dataset=...)``: a URL as is, a ``DatasetVersion``'s
    ``url``, a :class:`DatasetUpload` uploaded or reused, a dataset (name, id) at its latest
    version."""
    if isinstance(dataset, DatasetVersion):
        if not dataset.url:
            raise TowerConfigError("dataset version has no url")
        return dataset.url
    if isinstance(dataset, str) and dataset.startswith(("https://", "http://")):
        return dataset
    if isinstance(dataset, DatasetUpload):
        ds = yield from get_or_create_dataset(ctx, dataset.name, dataset.description)
        version = yield from upload_dataset_version(
            ctx, ds, dataset.data, header=dataset.header, file_name=dataset.file_name
        )
        if not version.url:
            raise TowerConfigError(f"Tower returned no url for dataset {dataset.name!r}")
        return version.url
    return (yield from dataset_url(ctx, _ref(dataset)))


def check_dataset_arguments(dataset: object, dataset_param: object) -> None:
    """Bad ``dataset=`` / ``dataset_param=`` raise :class:`TowerConfigError` before any call."""
    if dataset is None:
        return
    if not isinstance(dataset_param, str) or not dataset_param.strip():
        raise TowerConfigError(f"dataset_param must be a parameter name, got {dataset_param!r}")
    if isinstance(dataset, DatasetUpload):
        _name(dataset.name)
    elif not isinstance(dataset, (DatasetVersion, Dataset, str)):
        raise TowerConfigError(
            "dataset must be a DatasetUpload, a DatasetVersion, a Dataset, a dataset name or "
            f"id, or a dataset URL; got {type(dataset).__name__}"
        )


def with_dataset(
    ctx: FlowContext, opts: LaunchOptions, dataset: object, dataset_param: str
) -> Flow[LaunchOptions]:
    """``opts`` with ``params[dataset_param]`` set to the dataset's version URL."""
    if dataset is None:
        return opts
    url = yield from resolve(ctx, dataset)
    return dataclasses.replace(opts, params={**(opts.params or {}), dataset_param: url})
