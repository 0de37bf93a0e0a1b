"""Sample the resident memory of a process tree until its root exits (the scale run's memory).

Usage: sample_rss.py ROOT_PID OUT.jsonl [--every SECONDS]

One JSON line per sample: the time, the tree's total RSS and each process's RSS under a kind that
says what it is (`cli` for the Node process that runs plan, workers and reconcile in-process,
`spark <job>` for a Glue job's Python driver and its JVM, `other`). The local servers (PostgreSQL,
FerretDB, moto) are not in the tree; their memory is sampled too, under `server <name>`, from the pid
files of the stack. Reads /proc only: nothing to install.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
STATE_DIR = Path(os.environ.get("LAKEHOUSE_STATE_DIR", ".local"))
PID_FILES = {
    "postgres": STATE_DIR / "data/pg/postmaster.pid",
    "ferretdb": STATE_DIR / "run/ferretdb.pid",
    "moto": STATE_DIR / "run/moto.pid",
}


def rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def pss_bytes(pid: int) -> int:
    """Proportional set size: shared pages divided among the processes that map them."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


def cmdline(pid: int) -> list[str]:
    try:
        return (
            Path(f"/proc/{pid}/cmdline")
            .read_bytes()
            .decode(errors="replace")
            .split("\0")
        )
    except OSError:
        return []


def children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: the ppid follows the last ')'.
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def kind_of(argv: list[str], inherited: str | None) -> str:
    if inherited:
        return inherited
    if "-m" in argv:
        # `python -m lakehouse_glue <job> ...` (local/orchestration/spark-job.ts): named by its job.
        after = argv[argv.index("-m") + 1 :]
        return f"spark {after[1] if len(after) > 1 and not after[1].startswith('-') else after[0] if after else '?'}"
    exe = Path(argv[0]).name if argv and argv[0] else ""
    return "cli" if exe == "node" else "other"


def tree_sample(root: int) -> dict[str, int]:
    tree = children()
    kinds: dict[str, int] = {}
    stack: list[tuple[int, str | None]] = [(root, None)]
    while stack:
        pid, inherited = stack.pop()
        argv = cmdline(pid)
        # A Spark job's JVM and workers count as the job that started them.
        kind = kind_of(argv, inherited)
        kinds[kind] = kinds.get(kind, 0) + rss_bytes(pid)
        passed = kind if kind.startswith("spark ") else None
        stack.extend((child, passed) for child in tree.get(pid, []))
    return kinds


def servers() -> dict[str, int]:
    found: dict[str, int] = {}
    for name, pid_file in PID_FILES.items():
        try:
            pid = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        # PostgreSQL is one process per connection, sharing its buffers: the postmaster's
        # children count too, each with its share of the shared pages (PSS), not all of them.
        if name == "postgres":
            found[f"server {name}"] = sum(
                pss_bytes(p) for p in [pid, *children().get(pid, [])]
            )
        else:
            found[f"server {name}"] = rss_bytes(pid)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--every", type=float, default=0.5)
    args = parser.parse_args()
    with args.out.open("w") as out:
        while Path(f"/proc/{args.root}").exists():
            kinds = tree_sample(args.root)
            line = {
                "t": round(time.time(), 2),
                "tree": sum(kinds.values()),
                "kinds": kinds,
                **servers(),
            }
            out.write(json.dumps(line) + "\n")
            out.flush()
            time.sleep(args.every)


if __name__ == "__main__":
    main()
