"""Datasets and run files from Airflow: upload tonight's samplesheet as a dataset version, and
save a run's files (its Nextflow log first) to a path or object storage.

Both are safe on a task retry: an upload whose content Tower already has returns that version
(no second upload), and saving a file again overwrites it.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperator

from nftower_airflow._runs import TowerHookMixin

if TYPE_CHECKING:
    from nftower import TowerClient

__all__ = ["TowerDatasetUploadOperator", "TowerRunLogsOperator"]

#: What ``TowerRunLogsOperator(files=...)`` names: a run file kind -> its file name.
RUN_FILES = {"log": "nf-{id}.log", "txt": "nf-{id}.txt", "timeline": "timeline-{id}.html"}


def _is_remote(location: str) -> bool:
    return "://" in location and not location.startswith("file://")


def _open_for_reading(location: str) -> Any:
    """A local path as is; an object-storage URL (``s3://...``) opened with ObjectStoragePath."""
    if _is_remote(location):
        from airflow.sdk import ObjectStoragePath

        return ObjectStoragePath(location).open("rb")  # type: ignore[no-untyped-call]
    return location.removeprefix("file://")


def _open_for_writing(location: Any) -> IO[bytes]:
    """A file object for a path, a URL (through ObjectStoragePath) or an ObjectStoragePath."""
    if hasattr(location, "open") and not isinstance(location, (str, os.PathLike)):
        handle: IO[bytes] = location.open("wb")
        return handle
    text = os.fspath(location)
    if "://" in text:
        from airflow.sdk import ObjectStoragePath

        path = ObjectStoragePath(text)
        path.parent.mkdir(parents=True, exist_ok=True)
        opened: IO[bytes] = path.open("wb")  # type: ignore[no-untyped-call]
        return opened
    os.makedirs(os.path.dirname(os.path.abspath(text)), exist_ok=True)
    return open(text, "wb")  # closed by the caller


class TowerDatasetUploadOperator(TowerHookMixin, BaseOperator):
    """Upload a samplesheet as a new version of a Tower dataset; return the version URL.

    The dataset is created when missing. ``path`` (templated: a local path or an object
    storage URL such as ``s3://bucket/{{ ds }}/samplesheet.csv``) or ``content`` (a callable
    taking the task context and returning ``bytes``, ``str`` text or a DataFrame) gives the
    content. If the dataset already has a version with the same content (a task retry), that
    version is returned and nothing is uploaded. The URL is the task's return value (XCom),
    and ``dataset_id`` / ``version`` are pushed too.

    Example:
        >>> from nftower_airflow.data_operators import TowerDatasetUploadOperator
        >>> upload = TowerDatasetUploadOperator(
        ...     task_id="samplesheet",
        ...     dataset="nightly-samplesheet",
        ...     path="/data/{{ ds }}/samplesheet.csv",
        ... )

    :param dataset: dataset name (created when missing); templated.
    :param path: the file to upload (local path or object-storage URL); templated.
    :param content: instead of ``path``, a callable ``content(context)`` returning the data.
    :param file_name: the version's file name (``.csv`` or ``.tsv``); default: the path's
        name, else ``samplesheet.csv``; templated.
    :param header: the first row is a header.
    :param description: description of a dataset created here.
    """

    template_fields: Sequence[str] = ("dataset", "path", "file_name", "description", "workspace")
    ui_color = "#0dc09d"

    def __init__(
        self,
        *,
        dataset: str,
        path: str | None = None,
        content: Callable[[Any], Any] | None = None,
        file_name: str | None = None,
        header: bool = True,
        description: str | None = None,
        tower_conn_id: str = "tower_default",
        workspace: str | int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (path is None) == (content is None):
            raise ValueError("give exactly one of path= (a file) or content= (a callable)")
        if content is not None and not callable(content):
            raise ValueError("content must be a callable taking the task context")
        self.dataset = dataset
        self.path = path
        self.content = content
        self.file_name = file_name
        self.header = header
        self.description = description
        self.tower_conn_id = tower_conn_id
        self.workspace = workspace

    def _data(self, context: Any) -> tuple[Any, str | None]:
        if self.content is not None:
            data = self.content(context)
            return (io.StringIO(data) if isinstance(data, str) else data), self.file_name
        assert self.path is not None
        name = self.file_name or os.path.basename(self.path.rstrip("/"))
        return _open_for_reading(self.path), name

    def execute(self, context: Any) -> str:
        data, file_name = self._data(context)
        client: TowerClient
        with self.hook.get_conn() as client:
            dataset = client.get_or_create_dataset(self.dataset, self.description)
            version = client.upload_dataset_version(
                dataset, data, header=self.header, file_name=file_name
            )
        if hasattr(data, "close"):
            data.close()
        self.log.info(
            "Dataset %s version %s (%s): %s",
            dataset.name,
            version.version,
            version.file_name,
            version.url,
        )
        context["ti"].xcom_push(key="dataset_id", value=dataset.id)
        context["ti"].xcom_push(key="version", value=version.version)
        return str(version.url)


class TowerRunLogsOperator(TowerHookMixin, BaseOperator):
    """Save a run's files to a path or object storage, streamed in chunks.

    ``destination`` (templated) is a directory: a local path, a URL such as
    ``s3://bucket/logs/{{ ds }}`` (written through Airflow's ``ObjectStoragePath``) or an
    ``ObjectStoragePath``. ``files`` picks ``log`` (``nf-<id>.log``), ``txt`` and ``timeline``.
    Give it ``trigger_rule="all_done"`` to keep the log of a failed run too. Files Tower does
    not have (gone, or a run launched from the Nextflow CLI) are logged and skipped. Returns
    the locations written.

    Example:
        >>> from nftower_airflow.data_operators import TowerRunLogsOperator
        >>> logs = TowerRunLogsOperator(
        ...     task_id="save_log",
        ...     workflow_id="{{ ti.xcom_pull(task_ids='rnaseq', key='workflow_id') }}",
        ...     destination="s3://bucket/logs/{{ ds }}",
        ...     trigger_rule="all_done",
        ... )
    """

    template_fields: Sequence[str] = ("workflow_id", "destination", "workspace")
    ui_color = "#0dc09d"

    def __init__(
        self,
        *,
        workflow_id: str,
        destination: Any,
        files: Sequence[str] = ("log",),
        tower_conn_id: str = "tower_default",
        workspace: str | int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        unknown = sorted(set(files) - set(RUN_FILES))
        if unknown or not files:
            raise ValueError(f"files must be some of {sorted(RUN_FILES)}, got {list(files)}")
        self.workflow_id = workflow_id
        self.destination = destination
        self.files = list(files)
        self.tower_conn_id = tower_conn_id
        self.workspace = workspace

    def _target(self, name: str) -> Any:
        if isinstance(self.destination, (str, os.PathLike)):
            return os.fspath(self.destination).rstrip("/") + "/" + name
        return self.destination / name

    def execute(self, context: Any) -> list[str]:
        from nftower import BadRequestError, NotFoundError

        workflow_id = str(self.workflow_id).strip()
        if not workflow_id or workflow_id == "None":
            raise ValueError("workflow_id is empty: the launch task pushed no workflow id")
        written = []
        with self.hook.get_conn() as client:
            for kind in self.files:
                name = RUN_FILES[kind].format(id=workflow_id)
                target = self._target(name)
                handle = _open_for_writing(target)
                try:
                    size = client.download_run_file(workflow_id, name, handle)
                except (NotFoundError, BadRequestError) as err:
                    self.log.warning("Skipped %s: %s", name, err)
                    continue
                finally:
                    handle.close()
                self.log.info("Saved %s (%d bytes) to %s", name, size, target)
                written.append(str(target))
        return written
