"""nftower benchmarks, run against an out-of-process Tower emulator on loopback.

``python -m bench`` runs all of them and writes ``docs/performance.md``;
``python -m bench limit|monitor|overhead`` runs one. Every benchmark is bounded in calls and
time; server-side figures come from the emulator's admin API.
"""
