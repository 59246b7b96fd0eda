"""Create, describe and delete AWS flow logs through the neutral spec, against the embedded sandbox.

Run: .venv/bin/python docs/examples/quickstart.py
"""

from __future__ import annotations

import multiflow
from multiflow_aws.sandbox import AwsSandbox

with AwsSandbox() as sandbox:  # moto's server on 127.0.0.1, a free port
    vpcs = sandbox.seed_vpcs("us-east-1", 3, tags={"env": "prod"})
    bucket = sandbox.create_bucket("central-flowlogs")

    with multiflow.connect("aws", region="us-east-1", **sandbox.connect_options()) as aws:
        spec = multiflow.FlowLogSpec(
            resources={"kind": "vpc", "ids": vpcs},
            destination={"kind": "s3", "bucket": bucket, "prefix": "prod/", "file_format": "parquet"},
            traffic="all",
            interval=60,
            fields=[
                "version",
                "account_id",
                "interface_id",
                "src_addr",
                "dst_addr",
                "src_port",
                "dst_port",
                "protocol",
                "packets",
                "bytes",
                "start",
                "end",
                "action",
                "log_status",
                "vpc_id",
            ],
            name="prod-vpcs",
            tags={"team": "netops"},
        )
        created = aws.create(spec)
        print(f"created {len(created)} flow logs:")
        for flow_log in aws.describe(tags={"team": "netops"}):
            print(
                f"  {flow_log.id}  {flow_log.resource.kind.value} {flow_log.resource.id}  "
                f"{flow_log.status.value}  every {flow_log.interval}s  -> {flow_log.destination.bucket}/"
                f"{flow_log.destination.prefix}"
            )
        deleted = aws.delete([f.id for f in created])
        print(f"deleted {len(deleted)}; left: {len(aws.describe())}")
