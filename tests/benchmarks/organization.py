"""The organization benchmark (issue #12): plan and apply one fleet over a Resource Directory of N members.

    .venv/bin/python tests/benchmarks/organization.py                      # 25, 100, 200 accounts, 3 runs each
    .venv/bin/python tests/benchmarks/organization.py --sizes 25 --runs 1  # a quick look

The emulator runs in a subprocess of its own (``serve``, below), so the client's CPU, threads, sockets and memory
are measured apart from the emulator's. Each run starts a fresh emulator with the management account and N members
(each entered by STS AssumeRole into ``ResourceDirectoryAccountAccessRole``), ``--vpcs`` tagged VPCs in each of
four regions of every account, ``--latency`` seconds added to every call and flow logs that take
``--activation`` seconds to become active. Then, in this process, with the library's public API:

1. ``plan`` (accounts listed, roles assumed, regions listed, every place read), timed;
2. ``apply`` of that plan (every create, then every activation waited on), timed.

Rate limits are the cloud's: the emulator's ``qps_limits``, ``--rate`` calls a second of each VPC API action **per
account** (a token bucket per account and action, a second's burst), shared by every region of an account, as
Alibaba counts them. multiflow starts its per-account limiters at the same rate (``rate_limit``, with
``rate_limit_known``: no slow start above it) and follows the ``Throttling.Api`` answers; a limit the client
alone kept would not be one (the adaptive limiter probes above its starting rate until the cloud throttles).

The floor of apply is what the clouds' limits allow at best: the slowest account's creates through its
CreateFlowLog bucket (``max(0, creates - burst) / rate`` seconds), plus one activation, plus the round trips that
cannot overlap (the lookup before the creates, the last create, the poll that sees it active: 3 x latency).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
ROOT = HERE.parents[2]
REGIONS = ("cn-hangzhou", "cn-shanghai", "cn-beijing", "cn-shenzhen")
MANAGEMENT = "1000000000000000"
KEY_ID = "LTAI5tOrgBenchManagement"
SECRET = "org-bench-secret-not-a-real-one"  # the emulator's own key, valid only there
PROJECT, LOGSTORE = "org-flowlogs", "vpc"
MEASURED = ("plan_wall", "apply_wall", "creates_ended", "threads", "sockets", "rss_mib", "client_cpu", "emulator_cpu")
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


# --- the emulator's side (a subprocess) -------------------------------------------------------------------------


def serve(accounts: int, vpcs: int, latency: float, activation: float, rate: float) -> None:
    """Start an emulator with the organization, print its endpoint as one JSON line, then answer ``cpu`` lines
    with the CPU seconds used so far, until ``stop`` or end of input."""
    from multiflow_alibaba_emulator import AlibabaEmulator

    emu = AlibabaEmulator(activation_delay=activation, deletion_delay=activation)
    emu.add_account(KEY_ID, SECRET, account_id=MANAGEMENT)
    emu.create_directory(MANAGEMENT)
    members = [str(int(MANAGEMENT) + n) for n in range(1, accounts + 1)]
    for member in members:
        emu.add_member(member, f"member-{member[-4:]}")
    for account in (MANAGEMENT, *members):
        for region in REGIONS:
            emu.add_logstore(region, PROJECT, LOGSTORE, account_id=account)
            for n in range(vpcs):
                emu.add_vpc(region, name=f"app-{n}", tags={"flowlogs": "on"}, account_id=account)
    emu.faults.latency = latency
    from multiflow_alibaba.transport import _ACTIONS

    emu.faults.qps_limits = dict.fromkeys(_ACTIONS, rate)  # per account and action (faults.Faults)
    emu.start()
    try:
        print(json.dumps({"endpoint": emu.endpoint}), flush=True)
        for line in sys.stdin:
            if line.strip() == "cpu":
                usage = resource.getrusage(resource.RUSAGE_SELF)
                print(json.dumps({"cpu": usage.ru_utime + usage.ru_stime}), flush=True)
            elif line.strip() == "calls":
                print(json.dumps(dict(emu.calls)), flush=True)
            elif line.strip() == "errors":
                print(json.dumps({f"{a} {c}": n for (a, c), n in emu.errors.items()}), flush=True)
            elif line.strip() == "stop":
                break
    finally:
        emu.stop()


class Emulator:
    """The ``serve`` subprocess: started, asked for its CPU, stopped (always, also on errors)."""

    def __init__(self, accounts: int, vpcs: int, latency: float, activation: float, rate: float) -> None:
        command = [sys.executable, str(HERE), "serve", str(accounts), str(vpcs), str(latency), str(activation)]
        command.append(str(rate))
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self._read(timeout=120.0)
        self.endpoint: str = json.loads(line)["endpoint"]

    def _read(self, timeout: float) -> str:
        assert self.process.stdout is not None
        box: list[str] = []
        reader = threading.Thread(target=lambda: box.append(self.process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout)
        if not box or not box[0]:
            self.stop()
            raise RuntimeError("the emulator did not answer")
        return box[0]

    def cpu(self) -> float:
        assert self.process.stdin is not None
        self.process.stdin.write("cpu\n")
        self.process.stdin.flush()
        return float(json.loads(self._read(timeout=30.0))["cpu"])

    def calls(self) -> dict[str, int]:
        assert self.process.stdin is not None
        self.process.stdin.write("calls\n")
        self.process.stdin.flush()
        return dict(json.loads(self._read(timeout=30.0)))

    def errors(self) -> dict[str, int]:
        """The emulator's error answers so far, by ``"<action> <code>"``."""
        assert self.process.stdin is not None
        self.process.stdin.write("errors\n")
        self.process.stdin.flush()
        return dict(json.loads(self._read(timeout=30.0)))

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                assert self.process.stdin is not None
                self.process.stdin.write("stop\n")
                self.process.stdin.close()
                self.process.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait(timeout=30)


# --- the client's side (this process) ---------------------------------------------------------------------------


def _sockets() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                count += 1
        except OSError:
            pass
    return count


def _status(field_name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


class Sampler:
    """Peak threads, sockets and RSS of this process, sampled every ``interval`` seconds in a thread."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.threads = self.sockets = self.rss_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="org-bench-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.threads = max(self.threads, _status("Threads"))
            self.sockets = max(self.sockets, _sockets())
            self.rss_kib = max(self.rss_kib, _status("VmRSS"))
            self._stop.wait(self.interval)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(5)


def fleet_text(sweep: str) -> str:
    regions = ", ".join(REGIONS)
    return f"""\
name: org-bench
sweep: {sweep}
accounts:
  alibaba:
    - organization: {{}}
flow_logs:
  - name: every-vpc
    provider: alibaba
    regions: [{regions}]
    resources: {{kind: vpc, where: {{"tag:flowlogs": "on"}}}}
    destination: {{kind: sls, project: {PROJECT}, logstore: {LOGSTORE}}}
"""


@dataclass
class Settings:
    """One scenario's knobs."""

    accounts: int
    vpcs: int = 5
    latency: float = 0.03
    activation: float = 3.0
    rate: float = 2.0
    sweep: str = "named"

    @property
    def creates_per_account(self) -> int:
        return self.vpcs * len(REGIONS)

    def floor(self) -> float:
        """The apply floor: the slowest account's creates through its bucket, one activation, 3 round trips."""
        burst = max(1.0, self.rate)
        return max(0.0, self.creates_per_account - burst) / self.rate + self.activation + 3 * self.latency


@dataclass
class Run:
    """What one run measured."""

    settings: Settings
    plan_wall: float = 0.0
    apply_wall: float = 0.0
    #: when the last group's creates were done (its first activation poll), from the start of apply
    creates_ended: float = 0.0
    places: int = 0
    creates: int = 0
    done: int = 0
    failed: int = 0
    threads: int = 0
    sockets: int = 0
    rss_mib: float = 0.0
    client_cpu: float = 0.0
    emulator_cpu: float = 0.0
    errors: list[str] = field(default_factory=list)
    #: the calls apply made, by action (what the rate limits counted)
    apply_calls: dict[str, int] = field(default_factory=dict)
    #: the calls of plan and apply the cloud throttled, by action and code
    throttled: dict[str, int] = field(default_factory=dict)


def run_once(settings: Settings) -> Run:
    """One fresh emulator, one plan, one apply."""
    import multiflow
    from multiflow.applying import ProgressEvent
    from multiflow.client import Connections
    from multiflow.scope import resolve

    emulator = Emulator(settings.accounts, settings.vpcs, settings.latency, settings.activation, settings.rate)
    try:
        options = {
            "access_key_id": KEY_ID,
            "access_key_secret": SECRET,
            "endpoint": emulator.endpoint,
            "protocol": "http",
            "rate_limit": settings.rate,
            "rate_limit_known": True,  # the account's limits are known: no fast probing above them
        }
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "org.yaml"
            path.write_text(fleet_text(settings.sweep))
            fleet = multiflow.load(path)
        run = Run(settings)
        emulator_before, client_before = emulator.cpu(), time.process_time()
        with Sampler() as sampler, Connections(lambda provider, region: options) as connections:
            start = time.perf_counter()
            scope = resolve(fleet, connections)
            plan = multiflow.plan(fleet, connections, scope=scope)
            run.plan_wall = time.perf_counter() - start
            run.places = len(scope.places())
            run.creates = len(plan.pending)
            run.errors += [f"{t.as_dict()}" for t in plan.failed_targets][:3]
            calls_before = emulator.calls()
            start = time.perf_counter()
            first_poll: dict[tuple[str, str], float] = {}

            def progress(event: ProgressEvent) -> None:
                if event.phase == "activating":
                    first_poll.setdefault((event.account, event.region), time.perf_counter() - start)

            result = multiflow.apply(plan, connections, timeout=600, progress=progress)
            run.apply_wall = time.perf_counter() - start
            run.done, run.failed = len(result.done), len(result.failed)
            run.creates_ended = max(first_poll.values(), default=0.0)
            after = emulator.calls()
            run.apply_calls = {k: v - calls_before.get(k, 0) for k, v in after.items() if v - calls_before.get(k, 0)}
            run.errors += [str(f.error) for f in result.failed][:3]
        run.throttled = {k: v for k, v in emulator.errors().items() if "Throttling" in k}
        run.client_cpu = time.process_time() - client_before
        run.emulator_cpu = emulator.cpu() - emulator_before
        run.threads, run.sockets, run.rss_mib = sampler.threads, sampler.sockets, sampler.rss_kib / 1024
        return run
    finally:
        emulator.stop()


def _median(runs: list[Run], name: str) -> float:
    return float(statistics.median(getattr(r, name) for r in runs))


def summary(runs: list[Run]) -> dict[str, Any]:
    """Medians of the runs of one size and sweep."""
    settings = runs[0].settings
    row: dict[str, Any] = {"accounts": settings.accounts, "sweep": settings.sweep, "runs": len(runs)}
    for name in MEASURED:
        row[name] = round(_median(runs, name), 2)
    row["places"], row["creates"] = runs[0].places, runs[0].creates
    row["done"], row["failed"] = min(r.done for r in runs), max(r.failed for r in runs)
    row["floor"] = round(settings.floor(), 2)
    row["ratio"] = round(row["apply_wall"] / row["floor"], 2)
    row["errors"] = sorted({e for r in runs for e in r.errors})[:3]
    row["apply_calls"] = runs[0].apply_calls
    row["throttled"] = runs[0].throttled
    return row


def exponent(rows: list[dict[str, Any]], name: str) -> float | None:
    """The growth exponent of ``name`` in the number of accounts: the slope of log(value) on log(accounts)."""
    points = [(math.log(r["accounts"]), math.log(r[name])) for r in rows if r[name] > 0]
    if len(points) < 2:
        return None
    mx = statistics.fmean(x for x, _ in points)
    my = statistics.fmean(y for _, y in points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return round(sum((x - mx) * (y - my) for x, y in points) / sxx, 2) if sxx else None


def projection(rows: list[dict[str, Any]], cores: int, memory_mib: float) -> dict[str, Any]:
    """Accounts at which one machine stops being enough, from the marginal cost of one account (the slope between
    the smallest and the largest size; the largest size's average with one size): threads (half the kernel's
    limit), sockets (the open-file limit), memory (80 % of RAM), or CPU (the client's CPU seconds exceeding what
    ``cores`` cores give in the floor's wall time, which does not grow with the organization)."""
    big = max(rows, key=lambda r: r["accounts"])
    small = min(rows, key=lambda r: r["accounts"])
    span = big["accounts"] - small["accounts"]

    def marginal(name: str) -> float:
        if span <= 0:
            return float(big[name]) / big["accounts"]
        return max(1e-9, (float(big[name]) - float(small[name])) / span)

    def at_limit(limit: float, name: str) -> int:
        # The line through the largest size with the marginal cost as slope, solved for the limit.
        fixed = float(big[name]) - marginal(name) * big["accounts"]
        return max(0, int((limit - fixed) / marginal(name)))

    soft_files, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    threads_max = int(Path("/proc/sys/kernel/threads-max").read_text()) // 2
    limits = {
        "threads": at_limit(threads_max, "threads"),
        "sockets": at_limit(soft_files, "sockets"),
        "memory": at_limit(memory_mib * 0.8, "rss_mib"),
        "cpu": at_limit(cores * big["floor"], "client_cpu"),
    }
    return {
        "per_account": {name: round(marginal(name), 4) for name in ("threads", "sockets", "rss_mib", "client_cpu")},
        "accounts_at_limit": limits,
        "binding": min(limits, key=lambda k: limits[k]),
        "limits": {"open_files": soft_files, "threads": threads_max, "memory_mib": round(memory_mib), "cores": cores},
    }


def analyse(rows: list[dict[str, Any]], memory_mib: float) -> dict[str, Any]:
    """The growth exponents and the projection of each sweep's rows."""
    found: dict[str, Any] = {}
    for sweep in dict.fromkeys(r["sweep"] for r in rows):
        mine = [r for r in rows if r["sweep"] == sweep]
        found[f"exponents_{sweep}"] = {name: exponent(mine, name) for name in MEASURED}
        found[f"projection_{sweep}"] = projection(mine, os.cpu_count() or 1, memory_mib)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="25,100,200", help="member accounts, comma-separated")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sweeps", default="named,all", help="the fleet's sweep: named, all, or both")
    parser.add_argument("--vpcs", type=int, default=5, help="VPCs per account and region")
    parser.add_argument("--latency", type=float, default=0.03)
    parser.add_argument("--activation", type=float, default=3.0)
    parser.add_argument("--rate", type=float, default=2.0, help="calls a second per action and account")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--report", type=Path, help="print the exponents and projection of a saved --json, no run")
    args = parser.parse_args(argv)
    memory_mib = int(Path("/proc/meminfo").read_text().split()[1]) / 1024
    if args.report:
        saved = json.loads(args.report.read_text())
        print(json.dumps(analyse(saved["rows"], memory_mib), indent=1))
        return 0
    for name in PROXY_VARIABLES:
        os.environ.pop(name, None)
    os.environ["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"
    rows: list[dict[str, Any]] = []
    for sweep in args.sweeps.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            settings = Settings(size, args.vpcs, args.latency, args.activation, args.rate, sweep)
            runs = [run_once(settings) for _ in range(args.runs)]
            row = summary(runs)
            rows.append(row)
            print(json.dumps(row), flush=True)
    report: dict[str, Any] = {"settings": asdict(Settings(0, args.vpcs, args.latency, args.activation, args.rate))}
    report["rows"] = rows
    report.update(analyse(rows, memory_mib))
    print(json.dumps({k: v for k, v in report.items() if k != "rows"}, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]))
    else:
        sys.exit(main())
