"""One measured client job in a process of its own: ``python client_run.py JOB.json``; prints one JSON line.

The orchestrator (:mod:`procs`) starts this process and reads its resource usage when it exits (``os.wait4``): CPU
and peak RSS are the whole client's, and nothing of the sandboxes (each runs in its own process).

Jobs (``kind``):

- ``apply``: ``multiflow.plan`` then ``multiflow.apply`` of ``fleet`` (YAML text) with ``options`` per provider;
- ``plan``: ``multiflow.plan`` only (``changes`` counted);
- ``one-call``: AWS's anchor, raw boto3 ``CreateFlowLogs`` of ``ids``, ``batch`` ids a call (300: EC2's most);
- ``validate``: ``multiflow.loads`` + ``validate_fleet`` of ``fleet``.
- ``yaml-load``: ``yaml.load(fleet, Loader=yaml.CSafeLoader)``, the same text read by PyYAML's C loader.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any


def _connections(options: dict[str, dict[str, Any]]) -> Any:
    from multiflow.client import Connections

    return Connections(lambda provider, region: dict(options.get(provider, {})))


def _load_sdks(options: dict[str, dict[str, Any]]) -> float:
    """Import each provider's session module (and so its SDK) before the clock starts, and say how long it took:
    the floors are the cloud's, and a second of SDK imports is not a cost of plan or apply (any client pays it
    once; it is reported apart as ``import_s``)."""
    import importlib

    started = time.monotonic()
    for provider in options:
        importlib.import_module(f"multiflow_{provider}.session")
    return time.monotonic() - started


def _limiters(connections: Any) -> dict[str, Any]:
    """The Alibaba sessions' limiter states, for the report (rates and throttles per action)."""
    seen: dict[str, Any] = {}
    for client in list(getattr(connections, "_clients", {}).values()):
        transport = getattr(getattr(client, "session", None), "_transport", None)
        limits = getattr(transport, "limits", None)
        if limits is None:
            continue
        for action, limiter in getattr(limits, "_limiters", {}).items():
            seen[action] = {"rate": round(limiter.rate, 2), "throttles": limiter.throttles}
    return seen


class CallTimes:
    """Wall seconds per EC2 action, summed over calls, from botocore's ``before-call``/``after-call`` events of the
    AWS sessions' clients (what apply's time is spent waiting on, action by action)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._started = threading.local()
        self._lock = threading.Lock()

    def watch(self, connections: Any) -> None:
        for client in list(getattr(connections, "_clients", {}).values()):
            ec2 = getattr(getattr(client, "session", None), "ec2", None)
            if ec2 is not None:
                ec2.meta.events.register("before-call.ec2", self._before)
                ec2.meta.events.register("after-call.ec2", self._after)

    def _before(self, model: Any, **_: Any) -> None:
        self._started.at = time.monotonic()

    def _after(self, model: Any, **_: Any) -> None:
        spent = time.monotonic() - getattr(self._started, "at", time.monotonic())
        with self._lock:
            self.seconds[model.name] = self.seconds.get(model.name, 0.0) + spent


def apply(job: dict[str, Any]) -> dict[str, Any]:
    import multiflow

    fleet = multiflow.loads(job["fleet"])
    imported = _load_sdks(job["options"])
    started, cpu_started = time.monotonic(), time.process_time()
    times = CallTimes()
    with _connections(job["options"]) as connections:
        plan = multiflow.plan(fleet, connections)
        planned, cpu_planned = time.monotonic(), time.process_time()
        times.watch(connections)
        result = multiflow.apply(plan, connections)
        limiters = _limiters(connections)
    done, cpu_done = time.monotonic(), time.process_time()
    failed = [f.as_dict() for f in result.failed[:3]]
    return {
        "ok": result.ok,
        "failed": failed,
        "plan_s": planned - started,
        "apply_s": done - planned,
        "wall": done - started,
        "plan_cpu_s": cpu_planned - cpu_started,
        "apply_cpu_s": cpu_done - cpu_planned,
        "limiters": limiters,
        "import_s": imported,
        "apply_call_s": {k: round(v, 3) for k, v in sorted(times.seconds.items())},
    }


def plan(job: dict[str, Any]) -> dict[str, Any]:
    import multiflow

    fleet = multiflow.loads(job["fleet"])
    imported = _load_sdks(job["options"])
    started = time.monotonic()
    with _connections(job["options"]) as connections:
        made = multiflow.plan(fleet, connections)
    done = time.monotonic()
    changes = len(getattr(made, "changes", ()))
    return {"ok": True, "wall": done - started, "changes": changes, "import_s": imported}


def one_call(job: dict[str, Any]) -> dict[str, Any]:
    import boto3
    from botocore.config import Config

    options = dict(job["options"]["aws"])
    ec2 = boto3.client(
        "ec2",
        region_name=job["region"],
        endpoint_url=options.pop("endpoint_url"),
        config=Config(retries={"mode": "standard"}),
        **options,
    )
    ids, batch = job["ids"], int(job.get("batch", 1000))
    started, cpu_started = time.monotonic(), time.process_time()
    for start in range(0, len(ids), batch):
        ec2.create_flow_logs(
            ResourceType="VPC",
            ResourceIds=ids[start : start + batch],
            TrafficType="ALL",
            LogDestinationType="s3",
            LogDestination=f"arn:aws:s3:::{job['bucket']}",
        )
    return {"ok": True, "wall": time.monotonic() - started, "apply_cpu_s": time.process_time() - cpu_started}


def validate(job: dict[str, Any]) -> dict[str, Any]:
    import multiflow
    from multiflow.validate import validate_fleet

    warm = "name: warm\nflow_logs:\n  - {name: w, provider: aws, regions: [us-east-1], resources: {kind: vpc,"
    multiflow.loads(warm + " ids: [vpc-1]}, destination: {kind: s3, bucket: 'arn:aws:s3:::b'}}\n")  # plugins first
    started = time.monotonic()
    fleet = multiflow.loads(job["fleet"])
    parsed = time.monotonic()
    validate_fleet(fleet)
    done = time.monotonic()
    return {"ok": True, "parse_s": parsed - started, "validate_s": done - parsed, "wall": done - started}


def yaml_load(job: dict[str, Any]) -> dict[str, Any]:
    """The shape reference: ``yaml.load`` of ``fleet`` with PyYAML's C loader (libyaml), as it comes: values only,
    no checks, no positions, no models."""
    import yaml

    started = time.monotonic()
    yaml.load(job["fleet"], Loader=yaml.CSafeLoader)
    return {"ok": True, "wall": time.monotonic() - started}


JOBS = {"apply": apply, "plan": plan, "one-call": one_call, "validate": validate, "yaml-load": yaml_load}


def main(argv: list[str]) -> int:
    job = json.loads(Path(argv[0]).read_text())
    import_started = time.monotonic()
    import multiflow  # noqa: F401  (import time is reported apart)

    imported = time.monotonic() - import_started
    result = JOBS[job["kind"]](job)
    print(json.dumps({**result, "import_s": imported}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
