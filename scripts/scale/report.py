"""The scale run's report: per stage its time and peak memory, per collection its documents and
raw bytes, per table its curated rows, bytes and files before and after compaction.

Usage: report.py RUN_DIR   (what scripts/scale-run.sh wrote); prints Markdown, writes report.json.

A run stopped before its end still reports what it measured: a stage that started and never
ended is "stopped" after the time it ran, and the parts never reached (an advance, compaction,
a reading of the lake) are left out or shown as "–".
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

STARTED = re.compile(r"^(?P<name>[\w-]+): started")
ENDED = re.compile(
    r"^(?P<name>[\w-]+): (?P<verdict>succeeded|FAILED) in (?P<seconds>[\d.]+) s"
)
READ = re.compile(
    r"^\s+(?P<collection>\w+): [\d,]+ batch(es)?, (?P<documents>[\d,]+) documents? read"
)
MIB = 1024 * 1024


def stamped(path: Path) -> list[tuple[float, str]]:
    lines = []
    for line in path.read_text(errors="replace").splitlines():
        t, _, text = line.partition(" ")
        try:
            lines.append((float(t), text))
        except ValueError:
            continue
    return lines


def samples(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def peaks(rss: list[dict[str, Any]], start: float, end: float) -> dict[str, float]:
    """Peak MiB within [start, end]: the process tree, each kind of process, each server."""
    found: dict[str, float] = {}
    for s in rss:
        if not start - 0.5 <= s["t"] <= end + 0.5:
            continue
        values = {
            "tree": s["tree"],
            **s["kinds"],
            **{k: v for k, v in s.items() if k.startswith("server ")},
        }
        for key, value in values.items():
            found[key] = max(found.get(key, 0.0), value / MIB)
    return found


def stages(
    log: list[tuple[float, str]], rss: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    open_: dict[str, float] = {}
    result = []
    for t, text in log:
        if m := STARTED.match(text):
            open_[m["name"]] = t
        elif m := ENDED.match(text):
            start = open_.pop(m["name"], t - float(m["seconds"]))
            result.append(
                {
                    "stage": m["name"],
                    "verdict": m["verdict"],
                    "seconds": float(m["seconds"]),
                    "peak_mib": peaks(rss, start, t),
                }
            )
    last = log[-1][0] if log else 0.0
    for name, start in open_.items():
        result.append(
            {
                "stage": name,
                "verdict": "stopped",
                "seconds": round(last - start, 1),
                "peak_mib": peaks(rss, start, last),
            }
        )
    return result


def documents_read(log: list[tuple[float, str]]) -> dict[str, int]:
    """Documents the workers read per collection, from their end lines (the last one counts)."""
    read: dict[str, int] = {}
    for _, text in log:
        if m := READ.match(text):
            read[m["collection"]] = int(m["documents"].replace(",", ""))
    return read


def whole_run(
    log: list[tuple[float, str]],
    rss: list[dict[str, Any]],
    name: str,
    verdict: str = "done",
) -> dict[str, Any]:
    start, end = log[0][0], log[-1][0]
    return {
        "stage": name,
        "verdict": verdict,
        "seconds": round(end - start, 1),
        "peak_mib": peaks(rss, start, end),
    }


def mib(value: float) -> str:
    return f"{value:,.0f}"


def advance_rows(run: Path) -> list[dict[str, Any]]:
    """Each advance's run: its whole time and peak, and its stages' seconds."""
    rows = []
    n = 1
    while (run / f"advance-{n}.log").exists():
        log = stamped(run / f"advance-{n}.log")
        rss = samples(run / f"advance-{n}-rss.jsonl")
        rows.append(
            {
                **whole_run(log, rss, f"advance {n}, whole"),
                "documents_read": sum(documents_read(log).values()),
                "stages": {st["stage"]: st["seconds"] for st in stages(log, rss)},
            }
        )
        n += 1
    return rows


def stage_line(row: dict[str, Any]) -> str:
    p = row["peak_mib"]
    parts = {k: v for k, v in p.items() if k != "tree" and not k.startswith("server ")}
    largest = max(parts.items(), key=lambda kv: kv[1], default=("–", 0.0))
    return (
        f"| {row['stage']} | {row['verdict']} | {row['seconds']:,.1f} | {mib(p.get('tree', 0))} | "
        f"{largest[0]} {mib(largest[1])} | {mib(p.get('cli', 0))} | {mib(p.get('server ferretdb', 0))} | "
        f"{mib(p.get('server postgres', 0))} |"
    )


def main() -> None:
    run = Path(sys.argv[1])
    load = json.loads((run / "load.json").read_text())
    pipeline = stamped(run / "pipeline.log")
    rss = samples(run / "rss.jsonl")
    load_row = whole_run(
        stamped(run / "load.log"), samples(run / "load-rss.jsonl"), "snapshot load"
    )
    pipeline_stages = stages(pipeline, rss)
    stopped = any(st["verdict"] == "stopped" for st in pipeline_stages)
    stage_rows = [
        {**load_row, "seconds": round(load["durationMs"] / 1000, 1)},
        *pipeline_stages,
        whole_run(pipeline, rss, "pipeline, whole", "stopped" if stopped else "done"),
    ]
    advances = advance_rows(run)
    compaction = (
        [
            whole_run(
                stamped(run / "compact.log"),
                samples(run / "compact-rss.jsonl"),
                "compaction",
            )
        ]
        if (run / "compact.log").exists()
        else []
    )
    # The lake as read after the initial pipeline, before compaction and after it; a stopped run
    # has what was read (scripts/scale/lake_figures.py may be run by hand into lake.json).
    lakes = {
        name: json.loads((run / name).read_text()) if (run / name).exists() else None
        for name in ("lake-initial.json", "lake-before.json", "lake.json")
    }
    after = next(
        (lk for lk in reversed(lakes.values()) if lk is not None),
        {"raw": {}, "tables": {}},
    )
    initial = lakes["lake-initial.json"]
    before = lakes["lake-before.json"]
    report = {
        "machine": (run / "machine.txt").read_text().strip(),
        "config": load["config"],
        "documents": load["documents"],
        "documents_read": documents_read(pipeline),
        "ddc_rows": load["rows"],
        "stages": stage_rows,
        "advances": advances,
        "compaction": compaction[0] if compaction else None,
        "raw": after["raw"],
        "tables_initial": initial["tables"] if initial else None,
        "tables_before_compaction": before["tables"] if before else None,
        "tables": after["tables"] if lakes["lake.json"] else None,
    }
    (run / "report.json").write_text(json.dumps(report, indent=2) + "\n")

    print(
        f"# Scale run: {load['config']['devices']} devices × {load['config']['days']} days\n"
    )
    print(report["machine"] + "\n")
    print(
        "| stage | result | seconds | peak MiB, process tree | largest part | the CLI (plan, workers, "
        "reconcile) | FerretDB | PostgreSQL (PSS) |"
    )
    print("| --- | --- | ---: | ---: | --- | ---: | ---: | ---: |")
    for row in [*stage_rows, *advances, *compaction]:
        print(stage_line(row))
    for a in advances:
        detail = ", ".join(f"{k} {v:,.1f} s" for k, v in a["stages"].items() if v >= 1)
        print(f"\n{a['stage']}: {a['documents_read']:,} documents read; {detail}")

    print(
        "\n| collection | documents | read by the workers | raw objects | raw MiB | curated rows | curated MiB "
        "| data files: initial → after the advances → after compaction |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")

    def files(lake: dict[str, Any] | None, name: str) -> str:
        if lake is None:
            return "–"
        return f"{int(lake['tables'].get(name, {}).get('data_files', 0)):,}"

    for collection, count in load["documents"].items():
        raw = after["raw"].get(collection, {"objects": 0, "bytes": 0})
        name = f"mongodb.{collection}"
        table = after["tables"].get(name, {})
        print(
            f"| {collection} | {count:,} | {report['documents_read'].get(collection, 0):,} | "
            f"{raw['objects']:,} | {raw['bytes'] / MIB:,.1f} | "
            f"{table.get('rows', 0):,} | {table.get('bytes', 0) / MIB:,.1f} | "
            f"{files(initial, name)} → {files(before, name)} → {files(lakes['lake.json'], name)} |"
        )
    for namespace in ("postgres", "analytics"):
        names = [k for k in after["tables"] if k.startswith(f"{namespace}.")]

        def total(lake: dict[str, Any] | None, names: list[str] = names) -> str:
            if lake is None:
                return "–"
            return (
                f"{sum(int(lake['tables'][n].get('data_files', 0)) for n in names):,}"
            )

        print(
            f"| {namespace} ({len(names)} tables) | | | | | "
            f"{sum(after['tables'][n]['rows'] for n in names):,} | "
            f"{sum(after['tables'][n]['bytes'] for n in names) / MIB:,.1f} | "
            f"{total(initial)} → {total(before)} → {total(lakes['lake.json'])} |"
        )


if __name__ == "__main__":
    main()
