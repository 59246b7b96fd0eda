"""CreateFlowLogs parameters multiflow does not model, passed through (``aws: {extra: {...}}``) once botocore's
own service model accepts them, as Cloud Custodian's ``shape_validate`` does.

Only parameters multiflow does not set itself are passed: one it models (``TrafficType``, ``LogDestination``...)
is set through the spec, never through ``extra``, so the two can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from multiflow.errors import SpecError

__all__ = ["MODELLED", "check_extra"]

#: The CreateFlowLogs members multiflow sets from the spec (or for itself): never taken from ``extra``.
MODELLED = frozenset(
    {
        "DryRun",
        "ClientToken",
        "DeliverLogsPermissionArn",
        "DeliverCrossAccountRole",
        "LogGroupName",
        "ResourceIds",
        "ResourceType",
        "TrafficType",
        "LogDestinationType",
        "LogDestination",
        "LogFormat",
        "TagSpecifications",
        "MaxAggregationInterval",
        "DestinationOptions",
        "TagFieldSpecifications",
    }
)


def check_extra(extra: Mapping[str, Any]) -> None:
    """Refuse, as a SpecError naming the parameter, what botocore's CreateFlowLogs shape or multiflow refuses."""
    import botocore.session
    from botocore.validate import ParamValidator

    shape = botocore.session.get_session().get_service_model("ec2").operation_model("CreateFlowLogs").input_shape
    passable = sorted(set(shape.members) - MODELLED)
    for key in extra:
        if key in MODELLED:
            raise SpecError(
                f"options.aws.extra.{key}",
                key,
                f"a CreateFlowLogs parameter multiflow does not set itself ({', '.join(passable) or 'none yet'})",
                provider="aws",
                reason="multiflow sets it from the spec",
            )
        if key not in shape.members:
            raise SpecError(
                f"options.aws.extra.{key}",
                key,
                f"a CreateFlowLogs parameter of the installed botocore model ({', '.join(passable) or 'none yet'})",
                provider="aws",
            )
    # The required members are given placeholders so that only what `extra` says is judged.
    report = ParamValidator().validate({"ResourceIds": ["x"], "ResourceType": "VPC", **extra}, shape)
    if report.has_errors():
        raise SpecError("options.aws.extra", dict(extra), report.generate_report()[:500], provider="aws")
