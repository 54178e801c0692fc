"""``nftower-emulator``: serve a Tower emulator until interrupted.

Example::

    $ nftower-emulator --port 8800 --speed 10
    Tower emulator listening on http://127.0.0.1:8800 (speed 10.0)
    ...
    export TOWER_API_ENDPOINT=http://127.0.0.1:8800
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve a local Nextflow Tower (Seqera Platform) API emulator.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=8800, help="port, 0 = any free (default: %(default)s)"
    )
    parser.add_argument("--token", help="access token to accept (default: a random one)")
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="emulated seconds per real second (default: %(default)s)",
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=20,
        help="calls allowed per token per window, 0 = unlimited (default: %(default)s)",
    )
    parser.add_argument(
        "--rate-limit-window",
        type=float,
        default=1.0,
        help="window in seconds (default: %(default)s)",
    )
    parser.add_argument("--no-seed", action="store_true", help="start with an empty world")
    parser.add_argument(
        "--no-retry-after", action="store_true", help="send 429s without a Retry-After header"
    )
    parser.add_argument(
        "--bad-token-status",
        type=int,
        choices=(401, 403),
        default=403,
        help="status answered to a bad token; 401 has an empty body (default: %(default)s)",
    )
    parser.add_argument(
        "--unknown-run-status",
        type=int,
        choices=(403, 404),
        default=403,
        help="status answered for an unknown, deleted or hidden run id; 403 is Tower's "
        "(default: %(default)s)",
    )
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "nftower-emulator") -> int:
    """Entry point of the ``nftower-emulator`` script (and of ``nftower emulator``)."""
    args = _parser(prog).parse_args(argv)
    try:
        from nftower.testing import TowerEmulator
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        print(
            f"nftower-emulator needs the 'emulator' extra: pip install 'nftower[emulator]' ({exc})"
        )
        return 2
    if args.speed <= 0:
        print("--speed must be positive", file=sys.stderr)
        return 2
    emulator = TowerEmulator(
        speed=args.speed,
        token=args.token,
        rate_limit=args.rate_limit or None,
        rate_limit_window=args.rate_limit_window,
        host=args.host,
        port=args.port,
        seed=not args.no_seed,
        retry_after=not args.no_retry_after,
        bad_token_status=args.bad_token_status,
        unknown_run_status=args.unknown_run_status,
    )
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        emulator.start()
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    try:
        print(f"Tower emulator listening on {emulator.url} (speed {args.speed})")
        print(f"  access token : {emulator.token}")
        workspace = f"{emulator.org_name}/{emulator.workspace_name}"
        print(f"  workspace    : {workspace} (id {emulator.workspace_id})")
        print(f"export TOWER_API_ENDPOINT={shlex.quote(emulator.url)}")
        print(f"export TOWER_ACCESS_TOKEN={shlex.quote(emulator.token)}")
        if emulator.workspace_id is not None:
            print(f"export TOWER_WORKSPACE_ID={emulator.workspace_id}")
        print("Press Ctrl-C to stop.", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
