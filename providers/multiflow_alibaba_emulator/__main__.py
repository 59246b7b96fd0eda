"""``python -m multiflow_alibaba_emulator``: serve the emulator with the demo inventory until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Sequence

from .demo import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, seed_demo, seed_organization
from .faults import Faults
from .server import AlibabaEmulator


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, serve, print how to connect, and stop cleanly on Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m multiflow_alibaba_emulator",
        description="Serve the Alibaba Cloud VPC flow-log emulator on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    parser.add_argument("--activation-delay", type=float, default=2.0, help="seconds in Activating (default 2)")
    parser.add_argument("--deletion-delay", type=float, default=2.0, help="seconds in Deleting (default 2)")
    parser.add_argument("--throttle-rate", type=float, default=0.0, help="share of calls throttled (0..1)")
    parser.add_argument("--server-error-rate", type=float, default=0.0, help="share of calls failing 5xx")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every call")
    parser.add_argument("--no-demo", action="store_true", help="start empty, without the demo account")
    args = parser.parse_args(argv)

    faults = Faults(throttle_rate=args.throttle_rate, server_error_rate=args.server_error_rate, latency=args.latency)
    emu = AlibabaEmulator(
        activation_delay=args.activation_delay, deletion_delay=args.deletion_delay, faults=faults, port=args.port
    )
    stop = threading.Event()
    # Both end the serve loop the same way; no KeyboardInterrupt landing in the middle of something else.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with emu:
        print(f"Alibaba Cloud VPC emulator on http://{emu.endpoint}  (Ctrl-C to stop)")
        if not args.no_demo:
            inventory = seed_demo(emu)
            print(f"  access key id:     {DEMO_ACCESS_KEY_ID}")
            print(f"  access key secret: {DEMO_ACCESS_KEY_SECRET}   (a fake demo key, valid only here)")
            print(f"  region:            {inventory.region}")
            print(f"  SLS:               project {inventory.project}, logstore {inventory.logstore}")
            print(f"  VPCs:              {', '.join(inventory.vpc_ids)}")
            print(f"  vSwitches:         {', '.join(inventory.vswitch_ids)}")
            print(f"  ENIs:              {', '.join(inventory.eni_ids)}")
            members = seed_organization(emu)["members"]
            listed = ", ".join(f"{m['name']} {account}" for account, m in members.items())
            print(f"  Resource Directory: {listed} (STS AssumeRole into ResourceDirectoryAccountAccessRole)")
        print(
            f'  SDK: Config(access_key_id=..., access_key_secret=..., endpoint="{emu.endpoint}", '
            'protocol="http", region_id="cn-hangzhou")',
            flush=True,
        )
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    print("stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
