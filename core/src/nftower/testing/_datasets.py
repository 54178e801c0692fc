"""Emulated datasets: created by name, versions uploaded as multipart ``file`` parts and kept
in memory, listed, downloaded, and the version URL Tower hands out
(``<api>/workspaces/<ws>/datasets/<id>/v/<n>/n/<file name>``).

Evidence: the official schema (``CreateDatasetV2`` 409 on a duplicate name, ``UploadDatasetV2``
multipart ``file`` + ``header``, ``DatasetDto``, ``DatasetVersionDto``), tw's ``datasets add``
(name rules, ``--header`` off by default) and the URLs printed by ``tw datasets url``.
"""

from __future__ import annotations

import email.parser
import email.policy
import re
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ._errors import ApiError, bad_request, iso, not_found, random_id
from ._world import Context, World

#: Media types accepted for a version, by file suffix.
MEDIA_TYPES = {".csv": "text/csv", ".tsv": "text/tab-separated-values"}
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
DEFAULT_PAGE_SIZE = 50


@dataclass
class DatasetVersion:
    version: int
    file_name: str
    media_type: str
    has_header: bool
    content: bytes
    created: float


@dataclass
class Dataset:
    id: str
    name: str
    description: str | None
    workspace_id: Context
    created: float
    updated: float
    versions: list[DatasetVersion] = field(default_factory=list)

    @property
    def latest(self) -> DatasetVersion | None:
        return self.versions[-1] if self.versions else None


@dataclass
class DatasetStore:
    """Every dataset of one emulator, by id (guarded by the world lock)."""

    datasets: dict[str, Dataset] = field(default_factory=dict)

    def in_context(self, ctx: Context) -> list[Dataset]:
        return sorted(
            (d for d in self.datasets.values() if d.workspace_id == ctx), key=lambda d: d.name
        )

    def get(self, ctx: Context, dataset_id: str) -> Dataset:
        found = self.datasets.get(dataset_id)
        if found is None or found.workspace_id != ctx:
            raise not_found(f"Dataset '{dataset_id}' not found")
        return found

    def create(self, ctx: Context, body: Any, now: float) -> Dataset:
        if not isinstance(body, dict):
            raise bad_request("Missing request body")
        name, description = body.get("name"), body.get("description")
        if not isinstance(name, str) or not _NAME.match(name):
            raise bad_request(f"Invalid dataset name {name!r}: letters, digits, '-' and '_' only")
        if description is not None and not isinstance(description, str):
            raise bad_request("Dataset description must be a string")
        if any(d.name == name for d in self.in_context(ctx)):
            raise ApiError(409, f"A dataset with name '{name}' already exists")
        dataset = Dataset(random_id(22), name, description, ctx, now, now)
        self.datasets[dataset.id] = dataset
        return dataset

    def upload(
        self, dataset: Dataset, file_name: str, content: bytes, header: bool, now: float
    ) -> DatasetVersion:
        suffix = file_name[file_name.rfind(".") :].lower() if "." in file_name else ""
        media = MEDIA_TYPES.get(suffix)
        if media is None:
            raise bad_request(f"Invalid dataset file '{file_name}': only CSV and TSV are allowed")
        version = DatasetVersion(len(dataset.versions) + 1, file_name, media, header, content, now)
        dataset.versions.append(version)
        dataset.updated = now
        return version


def _parts(content_type: str, body: bytes) -> list[Any]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    return list(message.iter_parts())  # type: ignore[attr-defined]


def form_summary(content_type: str, body: bytes) -> dict[str, Any]:
    """Part name -> file name, media type and size of a multipart body (for the record)."""
    summary = {}
    for part in _parts(content_type, body):
        payload = part.get_payload(decode=True)
        name = part.get_param("name", header="content-disposition")
        summary[str(name)] = {
            "filename": part.get_filename(),
            "content_type": part.get_content_type(),
            "size": len(payload) if isinstance(payload, bytes) else 0,
        }
    return summary


def read_file_part(content_type: str, body: bytes) -> tuple[str, bytes]:
    """The ``file`` part of a ``multipart/form-data`` body: its file name and bytes."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise bad_request("Expected a multipart/form-data body with a 'file' part")
    for part in _parts(content_type, body):
        if part.get_param("name", header="content-disposition") == "file":
            payload = part.get_payload(decode=True)
            name = part.get_filename() or ""
            if not name:
                raise bad_request("The 'file' part has no file name")
            return name, payload if isinstance(payload, bytes) else b""
    raise bad_request("Missing the 'file' part of the multipart body")


# -- views -----------------------------------------------------------------------------------
def dataset_view(item: Dataset, labels: bool) -> dict[str, Any]:
    """``DatasetDto``."""
    latest = item.latest
    return {
        "id": item.id,
        "name": item.name,
        "description": item.description,
        "mediaType": latest.media_type if latest else None,
        "version": latest.version if latest else 0,
        "workspaceId": item.workspace_id,
        "hidden": False,
        "deleted": False,
        "sourceType": "UPLOADED",
        "labels": [] if labels else None,
        "dateCreated": iso(item.created),
        "lastUpdated": iso(item.updated),
    }


def version_url(base: str, item: Dataset, version: DatasetVersion) -> str:
    """The version URL (``tw datasets url`` prints this form)."""
    scope = f"/workspaces/{item.workspace_id}" if item.workspace_id is not None else ""
    return f"{base}{scope}/datasets/{item.id}/v/{version.version}/n/{version.file_name}"


def version_view(base: str, item: Dataset, version: DatasetVersion) -> dict[str, Any]:
    """``DatasetVersionDto``."""
    return {
        "datasetId": item.id,
        "datasetName": item.name,
        "datasetDescription": item.description,
        "version": version.version,
        "fileName": version.file_name,
        "fileSize": len(version.content),
        "mediaType": version.media_type,
        "hasHeader": version.has_header,
        "url": version_url(base, item, version),
        "disabled": False,
        "workspaceId": item.workspace_id,
        "dateCreated": iso(version.created),
        "lastUpdated": iso(version.created),
    }


# -- routes ----------------------------------------------------------------------------------
def _int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"Invalid value for query parameter '{name}': {raw!r}") from None
    if value < 0:
        raise bad_request(f"Query parameter '{name}' must not be negative")
    return value


def _header(request: Request) -> bool:
    raw = (request.query_params.get("header") or "false").lower()
    if raw not in ("true", "false"):
        raise bad_request(f"Invalid value for query parameter 'header': {raw!r}")
    return raw == "true"


class DatasetApi:
    """The ``/datasets`` operations, bound to a world (lock, contexts, clock) and a store."""

    def __init__(self, world: World, store: DatasetStore) -> None:
        self.world, self.store = world, store

    def routes(self) -> list[Route]:
        one = "/datasets/{datasetId}"
        return [
            Route("/datasets", self.list, methods=["GET"]),
            Route("/datasets", self.create, methods=["POST"]),
            Route("/datasets/versions", self.latest_versions, methods=["GET"]),
            Route(one + "/versions", self.versions, methods=["GET"]),
            Route(one + "/upload", self.upload, methods=["POST"]),
            Route(one + "/v/{version}/n/{fileName}", self.download, methods=["GET"]),
        ]

    def _ctx(self, request: Request) -> Context:
        raw = request.query_params.get("workspaceId")
        return self.world.context(_int(request, "workspaceId", 0) if raw else None)

    @staticmethod
    def _base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    async def list(self, request: Request) -> Response:
        size, offset = _int(request, "max", DEFAULT_PAGE_SIZE), _int(request, "offset", 0)
        search = (request.query_params.get("search") or "").lower()
        labels = "labels" in (request.query_params.get("attributes") or "")
        descending = (request.query_params.get("sortDir") or "asc").lower() == "desc"
        by_modified = (request.query_params.get("sortBy") or "name") == "modified"
        with self.world.lock:
            found = [
                d for d in self.store.in_context(self._ctx(request)) if search in d.name.lower()
            ]
            if by_modified:
                found.sort(key=lambda d: d.updated)
            if descending:
                found.reverse()
            items = [dataset_view(d, labels) for d in found[offset : offset + size]]
        return JSONResponse({"datasets": items, "totalSize": len(found)})

    async def create(self, request: Request) -> Response:
        body = request.scope.get("state", {}).get("json")
        with self.world.lock:
            item = self.store.create(self._ctx(request), body, self.world.clock())
            return JSONResponse({"dataset": dataset_view(item, False)})

    async def latest_versions(self, request: Request) -> Response:
        mime = request.query_params.get("mimeType")
        search = (request.query_params.get("search") or "").lower()
        size, offset = _int(request, "max", DEFAULT_PAGE_SIZE), _int(request, "offset", 0)
        base = self._base(request)
        with self.world.lock:
            latest = [
                version_view(base, d, d.latest)
                for d in self.store.in_context(self._ctx(request))
                if d.latest is not None
                and search in d.name.lower()
                and (not mime or d.latest.media_type == mime)
            ]
        return JSONResponse({"versions": latest[offset : offset + size], "totalSize": len(latest)})

    async def versions(self, request: Request) -> Response:
        mime = request.query_params.get("mimeType")
        base = self._base(request)
        with self.world.lock:
            item = self.store.get(self._ctx(request), request.path_params["datasetId"])
            found = [
                version_view(base, item, v)
                for v in item.versions
                if not mime or v.media_type == mime
            ]
        return JSONResponse({"versions": found, "totalSize": len(found)})

    async def upload(self, request: Request) -> Response:
        header = _header(request)
        file_name, content = read_file_part(
            request.headers.get("content-type", ""), await request.body()
        )
        with self.world.lock:
            item = self.store.get(self._ctx(request), request.path_params["datasetId"])
            version = self.store.upload(item, file_name, content, header, self.world.clock())
            return JSONResponse({"version": version_view(self._base(request), item, version)})

    async def download(self, request: Request) -> Response:
        number, name = request.path_params["version"], request.path_params["fileName"]
        with self.world.lock:
            item = self.store.get(self._ctx(request), request.path_params["datasetId"])
            found = next(
                (v for v in item.versions if str(v.version) == number and v.file_name == name),
                None,
            )
        if found is None:
            raise not_found(f"Dataset '{item.id}' has no version {number} named '{name}'")
        return Response(found.content, media_type="application/octet-stream")
