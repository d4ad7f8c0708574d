#!/usr/bin/env python3
"""Medians (with their 95 % confidence intervals) of every benchmark criterion has results for,
optionally beside a saved baseline (`cargo bench ... -- --save-baseline NAME`).

    tools/bench/medians.py                   # target/criterion/*/new
    tools/bench/medians.py L0                # new vs the baseline L0: ratio of medians
    tools/bench/medians.py L0 L1 forward     # baseline L1 vs baseline L0, ids containing "forward"
"""
import json
import os
import sys
from pathlib import Path


def criterion_dir() -> Path:
    if "CRITERION_HOME" in os.environ:
        return Path(os.environ["CRITERION_HOME"])
    target = os.environ.get("CARGO_TARGET_DIR", Path(__file__).resolve().parents[2] / "target")
    return Path(target) / "criterion"


def median(bench: Path, which: str):
    path = bench / which / "estimates.json"
    if not path.exists():
        return None
    m = json.loads(path.read_text())["median"]
    ci = m["confidence_interval"]
    return m["point_estimate"], ci["lower_bound"], ci["upper_bound"]


def fmt(ns: float) -> str:
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3f} {unit}"
    return f"{ns:.1f} ns"


def main() -> None:
    args = sys.argv[1:]
    old = args[0] if args else None
    new = args[1] if len(args) > 1 else "new"
    needle = args[2] if len(args) > 2 else ""
    root = criterion_dir()
    rows = []
    for est in sorted(root.glob(f"**/{new}/estimates.json")):
        bench = est.parent.parent
        ident = str(bench.relative_to(root))
        if needle not in ident:
            continue
        now = median(bench, new)
        before = median(bench, old) if old else None
        rows.append((ident, now, before))
    width = max((len(r[0]) for r in rows), default=10)
    for ident, now, before in rows:
        line = f"{ident:<{width}}  {fmt(now[0]):>12}  [{fmt(now[1])} – {fmt(now[2])}]"
        if before:
            line += f"   {old}: {fmt(before[0]):>12}  ratio {now[0] / before[0]:.3f}"
        print(line)


if __name__ == "__main__":
    main()
