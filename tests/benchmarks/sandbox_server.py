"""One sandbox in a process of its own, for the benchmarks: ``python sandbox_server.py CONFIG_JSON``.

``CONFIG_JSON`` says which cloud and what to seed (see :func:`alibaba` and :func:`aws`). The process prints one JSON
line when it serves (``{"options": connect options, "ids": resource ids, ...}``), then answers commands read one a
line on stdin, each with one JSON line:

- ``reset``: forget the call counts and start counting CPU again (AWS with ``clear_between``: delete every flow
  log first, uncounted);
- ``stats``: ``{"calls": {action: n}, "errors": {"action code": n}, "cpu": seconds since reset}``;
- ``quit`` (or stdin closing): stop serving and exit.

CPU is the process's own (``resource.getrusage``), so the client's CPU and the sandbox's are measured apart. Only
127.0.0.1 is served.
"""

from __future__ import annotations

import json
import resource
import sys
from collections.abc import Callable
from typing import Any

REGION_AWS = "us-east-1"
REGION_ALIBABA = "cn-hangzhou"
BUCKET = "central-flowlogs"
PROJECT, LOGSTORE = "central-flowlogs", "prod"


def cpu() -> float:
    """This process's CPU seconds (user + system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def alibaba(config: dict[str, Any]) -> tuple[dict[str, Any], Callable[[], dict[str, Any]], Callable[[], None], Any]:
    """The emulator with ``size`` vSwitches (and ``existing`` flow logs on other vSwitches, owned by nobody)."""
    from multiflow_alibaba.sandbox_support import connect_options
    from multiflow_alibaba_emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, AlibabaEmulator

    size, existing = int(config.get("size", 0)), int(config.get("existing", 0))
    emu = AlibabaEmulator(
        activation_delay=float(config.get("activation", 2.0)),
        deletion_delay=0.0,
        flow_log_quota=int(config.get("quota", size + existing + 1000)),
    )
    emu.add_account(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
    vpc = emu.add_vpc(REGION_ALIBABA)
    vswitches = [emu.add_vswitch(REGION_ALIBABA, vpc) for _ in range(size)]
    emu.add_logstore(REGION_ALIBABA, PROJECT, LOGSTORE)
    if existing:
        _seed_flow_logs(emu, DEMO_ACCESS_KEY_ID, [emu.add_vswitch(REGION_ALIBABA, vpc) for _ in range(existing)])
    emu.start()
    options = connect_options(emu, DEMO_ACCESS_KEY_ID)
    emu.faults.latency = float(config.get("latency", 0.03))
    emu.faults.qps_limits = {k: float(v) for k, v in dict(config.get("qps", {})).items()}
    emu.page_size_max = int(config.get("page_size_max", 50))

    def stats() -> dict[str, Any]:
        return {"calls": dict(emu.calls), "errors": {f"{a} {c}": n for (a, c), n in emu.errors.items()}}

    ready = {"options": options, "ids": vswitches, "region": REGION_ALIBABA, "vpc": vpc}
    return ready, stats, emu.reset_calls, emu


def _seed_flow_logs(emu: Any, key_id: str, vswitches: list[str]) -> None:
    """Flow logs nobody in the benchmark owns, made by the emulator's own CreateFlowLog handler (no HTTP: 20,000
    calls over the wire would take minutes and measure nothing of interest)."""
    from multiflow_alibaba_emulator.actions import ACTIONS, VPC_VERSION, Context

    cloud = emu._cloud
    create = ACTIONS[(VPC_VERSION, "CreateFlowLog")]
    with cloud.lock:
        account = cloud.account(cloud.keys[key_id].account_id)
        for vswitch in vswitches:
            params = {
                "RegionId": REGION_ALIBABA,
                "ResourceType": "VSwitch",
                "ResourceId": vswitch,
                "TrafficType": "All",
                "ProjectName": PROJECT,
                "LogStoreName": LOGSTORE,
                "FlowLogName": "someone-else",
            }
            create(Context(cloud, account, params))


def aws(config: dict[str, Any]) -> tuple[dict[str, Any], Callable[[], dict[str, Any]], Callable[[], None], Any]:
    """moto with ``size`` VPCs and a bucket, behind the fault proxy: ``latency`` a call, and EC2's token buckets
    when ``rate_limits`` is true."""
    from multiflow_aws.request_tokens import RequestTokens
    from multiflow_aws.sandbox import AwsSandbox

    size = int(config.get("size", 0))
    sandbox = AwsSandbox().start()
    vpcs = _seed_vpcs(sandbox, size)
    sandbox.create_bucket(BUCKET)
    latency = float(config.get("latency", 0.03))
    proxy = sandbox.fault_proxy(
        latency_rate=1.0 if latency else 0.0,
        latency=latency,
        rate_limits=RequestTokens() if config.get("rate_limits") else None,
    )

    def stats() -> dict[str, Any]:
        return {"calls": dict(proxy.calls), "errors": {f"{a} {k}": n for (a, k), n in proxy.faults_by_action.items()}}

    def reset() -> None:
        """Counts forgotten, and with ``clear_between`` every flow log deleted (straight to moto, not counted), so
        the next run finds the VPCs without flow logs."""
        if config.get("clear_between"):
            from multiflow_aws import moto_fidelity

            ec2 = sandbox.client("ec2", REGION_AWS)
            pages = ec2.get_paginator("describe_flow_logs").paginate()
            ids = [f["FlowLogId"] for page in pages for f in page["FlowLogs"]]
            for start in range(0, len(ids), 1000):
                ec2.delete_flow_logs(FlowLogIds=ids[start : start + 1000])
            moto_fidelity.forget_tokens()
        proxy.reset_counters()

    ready = {"options": sandbox.connect_options(proxy=proxy), "ids": vpcs, "region": REGION_AWS}
    return ready, stats, reset, sandbox


def _seed_vpcs(sandbox: Any, size: int) -> list[str]:
    """``size`` VPCs made in moto's backend directly (about 0.3 ms each, against 25 over HTTP: 20,000 VPCs in 6 s).
    Linear only with ``multiflow_aws.moto_fidelity`` applied (:class:`AwsSandbox` does it): moto's own CreateVpc
    scans every security group of the region for each new VPC's ``default`` group, and 20,000 did not finish in 7
    minutes."""
    if not size:
        return []
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ec2.models import ec2_backends

    sandbox.client("ec2", REGION_AWS).describe_vpcs()  # the backend of the sandbox's account exists from here
    backend = ec2_backends[DEFAULT_ACCOUNT_ID][REGION_AWS]
    return [backend.create_vpc("10.0.0.0/16").id for _ in range(size)]


def main(argv: list[str]) -> int:
    config = json.loads(argv[0])
    ready, stats, reset, server = (alibaba if config["cloud"] == "alibaba" else aws)(config)
    since = cpu()
    print(json.dumps(ready), flush=True)
    try:
        for line in sys.stdin:
            command = line.strip()
            if command == "reset":
                reset()
                since = cpu()
                print(json.dumps({"ok": True}), flush=True)
            elif command == "stats":
                print(json.dumps({**stats(), "cpu": cpu() - since}), flush=True)
            elif command == "quit":
                break
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
