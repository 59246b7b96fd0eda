"""The destination kinds the AWS provider adds: CloudWatch Logs, S3 and Kinesis Data Firehose.

Registered with the provider (:attr:`AwsProvider.destinations`), so a spec or fleet file may name them by kind
(``cloudwatch_logs``, ``s3``, ``firehose``) once the ``aws`` plugin is loaded.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from multiflow.spec import Destination

__all__ = ["CloudWatchLogsDestination", "FirehoseDestination", "S3Destination"]


class CloudWatchLogsDestination(Destination):
    """An AWS CloudWatch Logs group, written to by an IAM role the flow log service assumes."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "cloudwatch_logs",
                    "log_group": "flow-logs",
                    "role_arn": "arn:aws:iam::123456789012:role/flow-logs",
                }
            ]
        }
    )

    kind: Literal["cloudwatch_logs"] = "cloudwatch_logs"
    log_group: str = Field(min_length=1, max_length=512, description="Log group name or ARN")
    role_arn: str | None = Field(default=None, description="IAM role that lets the service publish")

    def label(self) -> str:
        """``logs:GROUP``, the log group's name or ARN."""
        return f"logs:{self.log_group}"


class S3Destination(Destination):
    """An S3 bucket (ARN or name), with an optional prefix and the delivery options AWS offers."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"kind": "s3", "bucket": "arn:aws:s3:::central-flowlogs", "prefix": "prod/"}]}
    )

    kind: Literal["s3"] = "s3"
    bucket: str = Field(min_length=3, max_length=1024, description="Bucket ARN (arn:aws:s3:::name) or name")
    prefix: str | None = Field(default=None, min_length=1, max_length=512)
    file_format: Literal["plain_text", "parquet"] = "plain_text"
    hive_compatible_partitions: bool = False
    per_hour_partition: bool = False

    def label(self) -> str:
        """``s3://bucket/prefix``, whether the bucket is given by name or by ARN."""
        return f"s3://{self.bucket.split(':::', 1)[-1]}/{self.prefix or ''}"


class FirehoseDestination(Destination):
    """A Kinesis Data Firehose delivery stream, by ARN."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"kind": "firehose", "stream_arn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/flow-logs"}
            ]
        }
    )

    kind: Literal["firehose"] = "firehose"
    stream_arn: str = Field(min_length=1, max_length=1024)
    role_arn: str | None = Field(default=None, description="Role to deliver across accounts")
