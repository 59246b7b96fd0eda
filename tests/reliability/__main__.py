"""The long fault campaign: ``python -m tests.reliability --trials 100 [--seed 0] [--fault-rate 0.2] [--json FILE]``.

Runs seeded trials (see :mod:`tests.reliability.harness`), ``--workers`` at a time, against one AWS sandbox and
a fresh Alibaba emulator per trial, prints a line per trial and the figures docs/reliability.md records, and exits 1 if
any trial found a duplicate, an orphan, a missing or wrong flow log, an unexpected exception, or did not converge.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from multiflow_aws.sandbox import AwsSandbox

from .harness import TrialResult, run_campaign, summarize


def main(argv: list[str] | None = None) -> int:
    """Run the campaign; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m tests.reliability", description=__doc__)
    parser.add_argument("--trials", type=int, default=100, help="how many trials (100)")
    parser.add_argument("--seed", type=int, default=0, help="the first seed; trial n uses seed + n (0)")
    parser.add_argument("--fault-rate", type=float, default=0.2, help="share of calls that fail, per cloud (0.2)")
    parser.add_argument("--workers", type=int, default=4, help="trials run at once, each in its own AWS regions (4)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures and every problem as JSON")
    args = parser.parse_args(argv)
    # The Alibaba SDK sends through $HTTP_PROXY even to 127.0.0.1.
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        os.environ.pop(name, None)
    started = time.monotonic()
    done: list[TrialResult] = []

    def report(result: TrialResult) -> None:
        done.append(result)
        faults = sum(v for k, v in result.faults.items() if not k.endswith(":latency"))
        status = "ok" if result.ok else "FAILED"
        print(
            f"trial {len(done):>3}/{args.trials} seed {result.seed:>4}: {status}  rounds {result.rounds}  "
            f"failed calls injected {faults:>3}  {result.elapsed:5.1f}s",
            flush=True,
        )
        for problem in result.problems():
            print(f"    {problem}", flush=True)

    with AwsSandbox() as aws:
        seeds = list(range(args.seed, args.seed + args.trials))
        results = run_campaign(seeds, aws, workers=args.workers, fault_rate=args.fault_rate, on_result=report)
    figures = summarize(results)
    figures["wall_seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(figures, indent=2))
    if args.json:
        problems = {r.seed: r.problems() for r in results if not r.ok}
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({"figures": figures, "problems": problems}, out, indent=2)
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
