"""Benchmarks B and C: start-up cost, and spec / plan throughput. Run through ``bench.py``."""

from __future__ import annotations

import datetime
import json
import statistics
import subprocess
import sys
import time
import tracemalloc
from typing import Any

IMPORT_PROBE = """
import sys, time
t = time.perf_counter()
import {module}
elapsed = time.perf_counter() - t
sdk = sorted({{m.split('.')[0] for m in sys.modules}} & {{'boto3', 'botocore', 'alibabacloud_vpc20160428',
      'alibabacloud_tea_openapi', 'multiflow_aws', 'multiflow_alibaba', 'pydantic', 'pluggy', 'yaml'}})
import json
print(json.dumps({{"seconds": elapsed, "modules": len(sys.modules), "heavy": sdk}}))
"""


def import_cost(module: str, runs: int) -> dict[str, Any]:
    """Median wall time of ``import module`` in fresh interpreters, and what it pulled in."""
    samples = []
    last: dict[str, Any] = {}
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", IMPORT_PROBE.format(module=module)], capture_output=True, text=True, timeout=120
        )
        last = json.loads(done.stdout)
        samples.append(last["seconds"])
    return {
        "module": module,
        "median_ms": statistics.median(samples) * 1000,
        "modules": last["modules"],
        "heavy_imported": last["heavy"],
    }


def spec_throughput(count: int) -> dict[str, Any]:
    """Specs built from dicts, checked against AWS's capabilities and rules, and translated to API parameters."""
    from multiflow.spec import FlowLogSpec
    from multiflow.validate import check_spec
    from multiflow_aws.capabilities import CAPABILITIES
    from multiflow_aws.mapping import create_params
    from multiflow_aws.provider import AwsProvider

    provider = AwsProvider()
    data = {
        "resources": {"kind": "vpc", "ids": ["vpc-0abc"]},
        "destination": {"kind": "s3", "bucket": "arn:aws:s3:::central-flowlogs", "prefix": "prod/"},
        "traffic": "all",
        "interval": 60,
        "fields": ["version", "src_addr", "dst_addr", "action"],
        "tags": {"team": "netops"},
    }
    started = time.perf_counter()
    for n in range(count):
        spec = FlowLogSpec(**{**data, "resources": {"kind": "vpc", "ids": [f"vpc-{n:017x}"]}})
        check_spec(spec, CAPABILITIES)
        provider.validate(spec)
        create_params(spec, spec.resources.ids, "us-east-1", {})
    elapsed = time.perf_counter() - started
    return {"specs": count, "seconds": elapsed, "per_second": count / elapsed}


def plan_throughput(count: int) -> dict[str, Any]:
    """``multiflow.plan`` of a fleet against ``count`` existing flow logs, reading AWS-shaped records (the parsing
    of DescribeFlowLogs pages is included; the network is not). Time in one run, peak memory in another (the
    tracer slows allocation)."""
    from multiflow.client import Client, Connections
    from multiflow.fleet import loads
    from multiflow.ownership import managed_tags
    from multiflow.planning import plan
    from multiflow_aws.mapping import flow_log_from_record
    from multiflow_aws.provider import AwsProvider

    ids = [f"vpc-{n:017x}" for n in range(count)]
    text = (
        "name: big\nflow_logs:\n  - name: all-vpcs\n    provider: aws\n    regions: [us-east-1]\n"
        f"    resources: {{kind: vpc, ids: [{', '.join(ids)}]}}\n"
        "    destination: {kind: s3, bucket: 'arn:aws:s3:::central-flowlogs', prefix: prod/}\n"
        "    interval: 60\n    tags: {team: netops}\n"
    )
    load_started = time.perf_counter()
    fleet = loads(text)
    load_seconds = time.perf_counter() - load_started
    entry = fleet.flow_logs[0]
    tags = managed_tags(fleet.name, entry.name, fleet.spec_for(entry, ids[:1]), entry.provider)
    now = datetime.datetime.now(datetime.timezone.utc)
    log_format = " ".join(f"${{{f}}}" for f in ("version", "account-id", "interface-id", "srcaddr", "dstaddr"))

    class Records:
        """A session whose describe parses ``count`` AWS records, made page by page as boto3 would."""

        provider = "aws"
        region = "us-east-1"

        def describe(self, query: Any) -> list[Any]:
            return [flow_log_from_record(self._record(n), "us-east-1", query.include_raw) for n in range(count)]

        def _record(self, n: int) -> dict[str, Any]:
            return {
                "CreationTime": now,
                "DeliverLogsStatus": "SUCCESS",
                "FlowLogId": f"fl-{n:017x}",
                "FlowLogStatus": "ACTIVE",
                "ResourceId": ids[n],
                "TrafficType": "ALL",
                "LogDestinationType": "s3",
                "LogDestination": "arn:aws:s3:::central-flowlogs/prod/",
                "LogFormat": log_format,
                "Tags": [
                    {"Key": "Name", "Value": "all-vpcs"},
                    {"Key": "team", "Value": "netops"},
                    *({"Key": k, "Value": v} for k, v in tags.items()),
                ],
                "MaxAggregationInterval": 60,
                "DestinationOptions": {
                    "FileFormat": "plain-text",
                    "HiveCompatiblePartitions": False,
                    "PerHourPartition": False,
                },
            }

        def list_resources(self, kind: Any, tags: Any) -> list[str]:
            """Every VPC the fleet names exists (plan lists them once to warn of ids that do not)."""
            return ids

        def modify(self, flow_log_id: str, changes: Any) -> None:
            """Plan never changes anything; AWS sessions are Modifiable (tags in place)."""
            raise AssertionError("plan made a change")

        def close(self) -> None:
            """Nothing to release."""

    def run() -> Any:
        connections = Connections()
        connections.use(Client(AwsProvider(), Records()))  # type: ignore[arg-type]
        return plan(fleet, connections)

    started = time.perf_counter()
    made = run()
    seconds = time.perf_counter() - started
    kept = sum(1 for c in made.changes if c.action.value == "keep")
    del made
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"flow_logs": count, "seconds": seconds, "load_seconds": load_seconds, "peak_mb": peak / 1e6, "kept": kept}


if __name__ == "__main__":  # pragma: no cover - a quick look without bench.py
    print(json.dumps({"import": import_cost("multiflow", 3), "specs": spec_throughput(20000)}, indent=2))
