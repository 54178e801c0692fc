"""Models of datasets and their versions (``DatasetDto``, ``DatasetVersionDto``), and
:class:`DatasetUpload`, the ``dataset=`` argument of ``launch()`` that uploads (or reuses) a
samplesheet. Same conventions as :mod:`nftower._models`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, ClassVar

from ._models import Timestamp, TowerModel

__all__ = ["Dataset", "DatasetUpload", "DatasetVersion", "default_file_name"]


class Dataset(TowerModel):
    """A dataset of a workspace (a samplesheet with versions).

    Example:
        >>> ds = Dataset.model_validate({"dataset": {"id": "3nTGvuhq1FnBfSBtYYzmdh",
        ...                                           "name": "samplesheet", "version": 2}})
        >>> ds.name, ds.version
        ('samplesheet', 2)
    """

    id: str | None = None
    name: str | None = None
    description: str | None = None
    media_type: str | None = None
    version: int | None = None
    workspace_id: int | None = None
    hidden: bool | None = None
    deleted: bool | None = None
    source_type: str | None = None
    date_created: Timestamp | None = None
    last_updated: Timestamp | None = None

    _envelope: ClassVar[str | None] = "dataset"


class DatasetVersion(TowerModel):
    """One uploaded version of a dataset; ``url`` is what a pipeline's ``input`` takes.

    Example:
        >>> v = DatasetVersion.model_validate({"version": {"datasetId": "3nT", "version": 1,
        ...     "fileName": "samplesheet.csv", "url": "https://api.example/x.csv"}})
        >>> v.version, v.file_name, v.url
        (1, 'samplesheet.csv', 'https://api.example/x.csv')
    """

    dataset_id: str | None = None
    dataset_name: str | None = None
    version: int | None = None
    file_name: str | None = None
    file_size: int | None = None
    media_type: str | None = None
    has_header: bool | None = None
    url: str | None = None
    disabled: bool | None = None
    workspace_id: int | None = None
    date_created: Timestamp | None = None

    _envelope: ClassVar[str | None] = "version"


@dataclass(frozen=True)
class DatasetUpload:
    """Content to upload as a version of dataset ``name`` (created when missing), or to reuse
    when the dataset already has a version with the same content.

    ``data`` is a path, ``bytes``, a text or binary stream, or anything with ``to_csv()``
    (a pandas DataFrame); ``file_name`` (default: the path's name, else ``samplesheet.csv``)
    decides CSV or TSV.

    Example:
        >>> DatasetUpload("nightly", b"sample,fastq_1\\n").file_name
        'samplesheet.csv'
    """

    name: str
    data: Any
    header: bool = True
    file_name: str | None = None
    description: str | None = None

    def __post_init__(self) -> None:
        if self.file_name is None:
            object.__setattr__(self, "file_name", default_file_name(self.data))


def default_file_name(data: Any) -> str:
    """The upload's file name: a path's own name, else ``samplesheet.csv``.

    >>> default_file_name("/data/sheet.tsv"), default_file_name(b"a,b")
    ('sheet.tsv', 'samplesheet.csv')
    """
    if isinstance(data, (str, os.PathLike)):
        return os.path.basename(os.fspath(data))
    return "samplesheet.csv"
