"""Dataset content made ready to upload: a path, bytes, a text or binary stream, or anything
with ``to_csv()`` (pandas is never imported), read once in chunks to learn its SHA-256 and
size, then streamed from disk (or memory for ``bytes``) by the multipart upload.

Example:
    >>> import io
    >>> with DatasetSource.prepare(io.StringIO("sample,fastq\\nA,a.fq\\n"), "sheet.tsv") as src:
    ...     src.content_type, src.size, src.sha256[:12]
    ('text/tab-separated-values', 20, '70c9375c36a5')
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from ._endpoints import Upload
from ._exceptions import TowerConfigError

__all__ = ["CONTENT_TYPES", "DatasetSource"]

#: Media types Tower accepts for datasets, by file suffix.
CONTENT_TYPES = {".csv": "text/csv", ".tsv": "text/tab-separated-values"}
_CHUNK = 64 * 1024
_MEMORY_LIMIT = 1024 * 1024  # larger generated content spills to a temporary file


def content_type(file_name: str) -> str:
    """``text/csv`` or ``text/tab-separated-values`` by suffix; anything else is bad input."""
    media = CONTENT_TYPES.get(Path(file_name).suffix.lower())
    if media is None:
        raise TowerConfigError(
            f"Dataset file name {file_name!r} must end in .csv or .tsv: Tower datasets are "
            "CSV or TSV files"
        )
    return media


@dataclass
class DatasetSource:
    """Prepared content: file name, media type, SHA-256, size and an open binary handle."""

    file_name: str
    content_type: str
    sha256: str
    size: int
    handle: IO[bytes]

    @classmethod
    def prepare(cls, data: Any, file_name: str) -> DatasetSource:
        """Read ``data`` once (hashing it); raises :class:`TowerConfigError` on bad input."""
        if not isinstance(file_name, str) or not file_name.strip() or "/" in file_name:
            raise TowerConfigError(f"file_name must be a file name (no '/'), got {file_name!r}")
        media = content_type(file_name)
        handle = _open(data, file_name)
        digest = hashlib.sha256()
        size = 0
        handle.seek(0)
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
        handle.seek(0)
        return cls(file_name.strip(), media, digest.hexdigest(), size, handle)

    def upload(self) -> Upload:
        """The multipart part ``file`` of ``POST /datasets/{datasetId}/upload``."""
        return Upload("file", self.file_name, self.content_type, self._rewound)

    def _rewound(self) -> IO[bytes]:
        self.handle.seek(0)
        return self.handle

    def close(self) -> None:
        self.handle.close()

    def __enter__(self) -> DatasetSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _open(data: Any, file_name: str) -> IO[bytes]:
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if not path.is_file():
            raise TowerConfigError(f"Dataset file {str(path)!r} does not exist")
        return path.open("rb")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(data))
    spool = tempfile.SpooledTemporaryFile(max_size=_MEMORY_LIMIT)  # noqa: SIM115 (returned)
    if callable(getattr(data, "read", None)):
        while chunk := data.read(_CHUNK):
            spool.write(chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk))
        return spool  # type: ignore[return-value]
    if callable(getattr(data, "to_csv", None)):
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")  # type: ignore[arg-type,type-var]
        sep = "\t" if file_name.lower().endswith(".tsv") else ","
        data.to_csv(text, index=False, sep=sep)
        text.flush()
        text.detach()
        return spool  # type: ignore[return-value]
    spool.close()
    raise TowerConfigError(
        "Dataset data must be a path, bytes, a text or binary stream, or have to_csv() "
        f"(a DataFrame); got {type(data).__name__}"
    )
