"""Benchmark A: enabling flow logs on N AWS VPCs and N Alibaba vSwitches, three ways, against the sandboxes.

Each call pays ``latency`` seconds (a loopback proxy in front of moto; the emulator's own latency knob), the
emulator admits ``qps`` CreateFlowLog calls a second (more are throttled, as the cloud does) and activates a flow
log ``activation`` seconds after its creation.

- multiflow: ``multiflow.apply(multiflow.plan(fleet, connections), connections)`` over both clouds at once.
- sequential: a hand-written SDK loop, one resource at a time: create, then poll that id until active.
- parallel-10: Terraform's pattern: 10 workers, each creating one resource and polling its id until active.

The floor is what the clouds allow at best. Alibaba: a burst of one second's worth of creates, the rest at
``qps`` a second, then the last one's activation and a round trip to see it. AWS: CreateFlowLogs with 300
resources a call, measured in the same run as the time of exactly those raw boto3 calls ("one-call"). Both
clouds run side by side, so the floor of a run is the larger of the two.

The two hand-written loops are linear in the resources they do (sequential: one activation each; parallel-10:
one activation per round of ten), so the long ones run on a sample and are scaled; the report says where.
"""

from __future__ import annotations

import http.client
import http.server
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import multiflow

REGION_AWS = "us-east-1"
REGION_ALIBABA = "cn-hangzhou"
BUCKET = "central-flowlogs"
PROJECT, LOGSTORE = "central-flowlogs", "prod"


class LatencyProxy:
    """Forwards HTTP to ``target`` on loopback after ``latency`` seconds, counting EC2 actions."""

    def __init__(self, target_port: int, latency: float) -> None:
        self.latency = latency
        self.calls: Counter[str] = Counter()
        lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                action = parse_qs(body.decode(errors="replace")).get("Action", ["?"])[0]
                with lock:
                    proxy.calls[action] += 1
                time.sleep(proxy.latency)
                upstream = http.client.HTTPConnection("127.0.0.1", target_port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in {"host", "connection"}}
                upstream.request("POST", self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                payload = answer.read()
                upstream.close()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in {"transfer-encoding", "connection", "content-length"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@dataclass
class Outcome:
    """One way of enabling, measured."""

    method: str
    cloud: str
    resources: int
    seconds: float
    calls: dict[str, int] = field(default_factory=dict)
    extrapolated_from: int | None = None


@dataclass
class Setting:
    """The cloud conditions of a run."""

    size: int
    latency: float = 0.03
    qps: float = 20.0
    activation: float = 2.0

    def alibaba_floor(self) -> float:
        """The least time Alibaba allows for ``size`` resources (AWS's is measured: see run_one_call)."""
        return max(0.0, self.size - self.qps) / self.qps + self.activation + 2 * self.latency


class Environment:
    """Both sandboxes, seeded with ``size`` VPCs and vSwitches, for one run; ``close()`` stops them."""

    def __init__(self, aws_sandbox: Any, setting: Setting) -> None:
        from multiflow_alibaba.sandbox_support import connect_options
        from multiflow_alibaba_emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, AlibabaEmulator

        self.setting = setting
        aws_sandbox.reset()
        self.aws_sandbox = aws_sandbox
        self.vpcs = aws_sandbox.seed_vpcs(REGION_AWS, setting.size)
        aws_sandbox.create_bucket(BUCKET)
        port = aws_sandbox.endpoint_url.rsplit(":", 1)[1]
        self.proxy = LatencyProxy(int(port), setting.latency)
        self.emulator = AlibabaEmulator(activation_delay=setting.activation, deletion_delay=0.0)
        self.emulator.add_account(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
        vpc = self.emulator.add_vpc(REGION_ALIBABA)
        self.vswitches = [self.emulator.add_vswitch(REGION_ALIBABA, vpc) for _ in range(setting.size)]
        self.emulator.add_logstore(REGION_ALIBABA, PROJECT, LOGSTORE)
        self.emulator.start()
        self.emulator.faults.latency = setting.latency
        self.emulator.faults.qps_limits = {"CreateFlowLog": setting.qps}
        self.alibaba_options = connect_options(self.emulator, DEMO_ACCESS_KEY_ID)
        self.aws_options = {**aws_sandbox.connect_options(), "endpoint_url": self.proxy.endpoint_url}

    def reset_counts(self) -> None:
        self.proxy.calls.clear()
        self.emulator.reset_calls()

    def close(self) -> None:
        self.proxy.stop()
        self.emulator.stop()

    # -- the SDKs, directly, for the hand-written baselines ----------------------------------------------------

    def ec2(self) -> Any:
        import boto3
        from botocore.config import Config

        options = dict(self.aws_options)
        return boto3.client(
            "ec2",
            region_name=REGION_AWS,
            endpoint_url=options.pop("endpoint_url"),
            config=Config(max_pool_connections=20, retries={"mode": "standard"}),
            **options,
        )

    def vpc_client(self) -> Any:
        from alibabacloud_tea_openapi.models import Config
        from alibabacloud_vpc20160428.client import Client

        options = self.alibaba_options
        return Client(
            Config(
                access_key_id=options["access_key_id"],
                access_key_secret=options["access_key_secret"],
                endpoint=options["endpoint"],
                protocol=options["protocol"],
                region_id=REGION_ALIBABA,
            )
        )


# -- the three ways ----------------------------------------------------------------------------------------------


def run_multiflow(env: Environment) -> tuple[list[Outcome], float]:
    """``multiflow.plan`` then ``multiflow.apply`` for both clouds at once: each cloud's time and the whole wall."""
    from multiflow.client import Connections

    text = (
        "name: bench\nflow_logs:\n"
        f"  - {{name: vpcs, provider: aws, regions: [{REGION_AWS}],"
        f" resources: {{kind: vpc, ids: [{', '.join(env.vpcs)}]}}, destination: {{kind: s3, bucket: {BUCKET}}}}}\n"
        f"  - {{name: vswitches, provider: alibaba, regions: [{REGION_ALIBABA}],"
        f" resources: {{kind: subnet, ids: [{', '.join(env.vswitches)}]}},"
        f" destination: {{kind: sls, project: {PROJECT}, logstore: {LOGSTORE}}}}}\n"
    )
    fleet = multiflow.loads(text)
    options = {"aws": env.aws_options, "alibaba": {**env.alibaba_options, "rate_limit": env.setting.qps}}
    finished: dict[str, float] = {}
    with Connections(lambda provider, region: options[provider]) as connections:
        plan = multiflow.plan(fleet, connections)
        env.reset_counts()
        started = time.monotonic()

        def progress(event: Any) -> None:
            if event.phase == "create" and event.done >= event.total:
                finished[event.provider] = time.monotonic() - started

        result = multiflow.apply(plan, connections, progress=progress)
        total = time.monotonic() - started
    assert result.ok, [f.as_dict() for f in result.failed[:3]]
    return [
        Outcome("multiflow", "aws", env.setting.size, finished.get("aws", total), dict(env.proxy.calls)),
        Outcome("multiflow", "alibaba", env.setting.size, finished.get("alibaba", total), dict(env.emulator.calls)),
    ], total


def run_one_call(env: Environment) -> Outcome:
    """AWS's floor: the raw boto3 CreateFlowLogs calls a perfect batched script makes (300 resources a call, as
    many as EC2 takes)."""
    ec2 = env.ec2()
    env.reset_counts()
    started = time.monotonic()
    for start in range(0, len(env.vpcs), 300):
        ec2.create_flow_logs(
            ResourceType="VPC",
            ResourceIds=env.vpcs[start : start + 300],
            TrafficType="ALL",
            LogDestinationType="s3",
            LogDestination=f"arn:aws:s3:::{BUCKET}",
        )
    return Outcome("one-call", "aws", env.setting.size, time.monotonic() - started, dict(env.proxy.calls))


def _aws_one(ec2: Any, vpc: str) -> None:
    made = ec2.create_flow_logs(
        ResourceType="VPC",
        ResourceIds=[vpc],
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination=f"arn:aws:s3:::{BUCKET}",
    )
    for flow_log_id in made["FlowLogIds"]:
        ec2.describe_flow_logs(FlowLogIds=[flow_log_id])  # AWS flow logs are ACTIVE at once: one look


def _alibaba_one(client: Any, vswitch: str, deadline: float) -> None:
    from alibabacloud_tea_openapi.exceptions import ThrottlingException
    from alibabacloud_vpc20160428 import models

    request = models.CreateFlowLogRequest(
        region_id=REGION_ALIBABA,
        resource_type="VSwitch",
        resource_id=vswitch,
        traffic_type="All",
        project_name=PROJECT,
        log_store_name=LOGSTORE,
    )
    while True:  # the usual hand-written retry: sleep a little on throttling
        try:
            flow_log_id = client.create_flow_log(request).body.flow_log_id
            break
        except ThrottlingException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    describe = models.DescribeFlowLogsRequest(region_id=REGION_ALIBABA, flow_log_id=flow_log_id)
    while time.monotonic() < deadline:  # poll that id until active, once a second
        [record] = client.describe_flow_logs(describe).body.flow_logs.flow_log
        if record.status == "Active":
            return
        time.sleep(1.0)
    raise TimeoutError(flow_log_id)


def run_each(env: Environment, workers: int, sample: int | None = None) -> list[Outcome]:
    """Per-resource creates and per-id polls, with ``workers`` threads; the first ``sample`` resources only."""
    count = sample or env.setting.size
    ec2, vpc_client = env.ec2(), env.vpc_client()
    deadline = time.monotonic() + 3600
    outcomes = []
    for cloud, items, one in (
        ("aws", env.vpcs[:count], lambda item: _aws_one(ec2, item)),
        ("alibaba", env.vswitches[:count], lambda item: _alibaba_one(vpc_client, item, deadline)),
    ):
        env.reset_counts()
        started = time.monotonic()
        _run(one, items, workers)
        seconds = time.monotonic() - started
        calls = dict(env.proxy.calls) if cloud == "aws" else dict(env.emulator.calls)
        scale = env.setting.size / count
        outcomes.append(
            Outcome(
                "sequential" if workers == 1 else f"parallel-{workers}",
                cloud,
                env.setting.size,
                seconds * scale,
                {k: round(v * scale) for k, v in calls.items()},
                count if scale != 1 else None,
            )
        )
    return outcomes


def _run(one: Callable[[str], None], items: list[str], workers: int) -> None:
    if workers == 1:
        for item in items:
            one(item)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, items))
