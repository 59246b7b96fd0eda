"""How ``multiflow.loads`` + ``validate_fleet`` scale with the number of entries (issue #13: it was quadratic).

    .venv/bin/python tests/benchmarks/validate_scaling.py            # 1,000, 10,000 and 100,000 entries
    .venv/bin/python tests/benchmarks/validate_scaling.py 10000 100000

Each size is a fleet of that many explicit-id entries written one a line (the densest form), parsed once and
validated once; the script prints the seconds per phase and the time per entry. Linear work keeps the time per
entry flat as the size grows by ten; quadratic work multiplies it by ten. A measurement, not a test.
"""

from __future__ import annotations

import sys
import time

import multiflow
from multiflow.validate import validate_fleet


def fleet_text(entries: int) -> str:
    """A fleet of ``entries`` AWS entries, one a line, with defaults shared by all."""
    lines = [
        "name: scale",
        "defaults:",
        "  interval: 60",
        "  destination: {kind: s3, bucket: 'arn:aws:s3:::central'}",
        "flow_logs:",
    ]
    lines += [
        f"  - {{name: e{n:06d}, provider: aws, regions: [us-east-1], resources: {{kind: vpc, ids: [vpc-{n:08x}]}}}}"
        for n in range(entries)
    ]
    return "\n".join(lines) + "\n"


def measure(entries: int) -> dict[str, float]:
    """Seconds to parse and to validate a fleet of ``entries`` entries."""
    text = fleet_text(entries)
    started = time.perf_counter()
    fleet = multiflow.loads(text)
    parsed = time.perf_counter()
    validate_fleet(fleet)
    validated = time.perf_counter()
    return {"bytes": len(text), "parse": parsed - started, "validate": validated - parsed}


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [1_000, 10_000, 100_000]
    multiflow.loads(fleet_text(10))  # load the plugins first: not part of any size's time
    print(f"{'entries':>8} {'MB':>6} {'parse s':>8} {'validate s':>10} {'us/entry':>9}")
    for size in sizes:
        got = measure(size)
        total = got["parse"] + got["validate"]
        print(
            f"{size:>8} {got['bytes'] / 1e6:>6.1f} {got['parse']:>8.2f} {got['validate']:>10.2f} "
            f"{total / size * 1e6:>9.0f}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
