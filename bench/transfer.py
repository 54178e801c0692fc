"""Dataset transfer in bounded memory: a 100 MB samplesheet uploaded (multipart, streamed from
disk), then uploaded again, which downloads the stored version (streamed into a SHA-256) to
find it is the same and reuses it. Run in a fresh child process, so its peak RSS (``VmHWM``)
counts only this; the emulator runs in its own process.

``python -m bench.transfer`` prints the result as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ._emulator import EmulatorProcess

SIZE_MB = 100
ROW = b"SAMPLE_000000,s3://bucket/fastq/SAMPLE_000000_R1.fastq.gz,s3://bucket/R2.fastq.gz,auto\n"


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    """Make ``VmHWM`` start again from the current RSS (Linux: ``5`` to ``clear_refs``)."""
    Path("/proc/self/clear_refs").write_text("5")


def _write_sheet(path: Path, megabytes: int) -> int:
    rows = (megabytes * 1024 * 1024) // len(ROW)
    block = b"".join(ROW for _ in range(1024))
    with path.open("wb") as handle:
        handle.write(b"sample,fastq_1,fastq_2,strandedness\n")
        for _ in range(rows // 1024):
            handle.write(block)
    return path.stat().st_size


def child(url: str, token: str, workspace: int, path: str) -> dict[str, Any]:
    """Upload then reuse (a streamed download) in this process; RSS figures in MiB."""
    from nftower import TowerClient

    with TowerClient(url, token, workspace, timeout=300, rate_limit_backend="memory://") as tower:
        dataset = tower.get_or_create_dataset("bench-transfer")
        _reset_peak()
        base = _rss_kib("VmHWM")
        started = time.perf_counter()
        first = tower.upload_dataset_version(dataset, Path(path))
        upload_s = time.perf_counter() - started
        after_upload = _rss_kib("VmHWM")
        _reset_peak()
        base_download = _rss_kib("VmHWM")
        started = time.perf_counter()
        again = tower.upload_dataset_version(dataset, Path(path))
        reuse_s = time.perf_counter() - started
        after_download = _rss_kib("VmHWM")
    assert again.version == first.version, "the second upload should reuse the version"
    _reset_peak()
    base_whole = _rss_kib("VmHWM")
    whole = Path(path).read_bytes()  # the reference: the file held in memory at once
    whole_growth = _rss_kib("VmHWM") - base_whole
    del whole
    return {
        "bytes": first.file_size,
        "upload_s": round(upload_s, 2),
        "download_and_compare_s": round(reuse_s, 2),
        "peak_rss_growth_upload_mib": round((after_upload - base) / 1024, 2),
        "peak_rss_growth_download_mib": round((after_download - base_download) / 1024, 2),
        "peak_rss_growth_reading_whole_file_mib": round(whole_growth / 1024, 1),
    }


def run(megabytes: int = SIZE_MB) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, EmulatorProcess(rate_limit=None) as emu:
        path = Path(tmp) / "samplesheet.csv"
        _write_sheet(path, megabytes)
        args = [emu.url, emu.token, str(emu.workspace_id), str(path)]
        done = subprocess.run(
            [sys.executable, "-m", "bench.transfer", "--child", *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=900,
        )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        url, token, workspace, path = sys.argv[2:6]
        print(json.dumps(child(url, token, int(workspace), path)))
    else:
        print(json.dumps(run()))
