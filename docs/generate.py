"""Regenerate the generated regions of the docs from the code: ``python docs/generate.py`` (``--check``: only say
which pages differ, exit 1 if any). tests/test_docs.py runs the check, so a page that drifts fails the tests.

Each page's regions are rendered by the ``generator`` package beside this file (docs/generator: it is no part of
the installed ``multiflow``) from the code's own data: the providers' capabilities
and code tables, the hook specifications and protocols, the conformance suite, the fleet JSON Schema, the CLI.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

# `python docs/generate.py` has docs/ on the path already; a test that loads this file by its path does not.
if str(DOCS) not in sys.path:
    sys.path.insert(0, str(DOCS))

Renderer = Callable[[], str]


def _aws() -> dict[str, Renderer]:
    from generator import markdown, reference
    from multiflow_aws import capabilities, errors, fields

    def mapping() -> str:
        rows = [(f"resources.kind: {k.value}", f"ResourceType: {v}") for k, v in capabilities.RESOURCE_TYPES.items()]
        rows += [(f"traffic: {k.value}", f"TrafficType: {v}") for k, v in capabilities.TRAFFIC_TYPES.items()]
        destinations = capabilities.DESTINATION_TYPES.items()
        rows += [(f"destination.kind: {k}", f"LogDestinationType: {v}") for k, v in destinations]
        rows += [("interval: 60 / 600 (seconds)", "MaxAggregationInterval: 60 / 600")]
        return reference.value_map(rows, ("neutral", "CreateFlowLogs / DescribeFlowLogs"))

    def record_fields() -> str:
        rows = [
            (markdown.code(name), markdown.code("${" + fields.to_aws(name) + "}"), fields.FIELD_VERSIONS[name])
            for name in fields.VPC_FIELDS
        ]
        vpc = markdown.table(["neutral field", "AWS field", "since version"], rows)
        tgw = ", ".join(f"{markdown.code(n)} (`${{{fields.to_aws(n)}}}`)" for n in fields.TGW_FIELDS)
        return f"{vpc}\n\nTransit gateway and attachment flow logs have their own fields: {tgw}."

    return {
        "aws-capabilities": lambda: reference.capabilities(capabilities.CAPABILITIES),
        "aws-mapping": mapping,
        "aws-fields": record_fields,
        "aws-errors": lambda: reference.error_table(
            errors.EXACT_CODES, errors.PATTERN_CODES, retryable=errors.ERROR_TABLE.is_retryable
        ),
    }


#: A few words after some Alibaba codes, where the code's name misleads or the code is multiflow's own.
ALIBABA_NOTES = {
    "InvalidResourceId.NotFound": 'despite its name: "this resource already has a flow log"',
    "InvalidInstanceId": "the VPC, vSwitch or ENI",
    "IncorrectBusinessStatus.FlowLog": "the account's business state",
    "OptInRequired.FlowLog": "the flow-log service is not opened",
    "OperationFailed.InternalError": 'HTTP 400, but "unknown error, please retry"',
    "ConnectionError": "ours: no answer",
    "UnexpectedResponse": "ours: an unreadable answer",
    "NoCredentials": "ours: no credentials in the chain",
    "FlowLogExists": "ours: found before creating, with other settings",
    "FlowLogDeleting": "ours: the resource's flow log is still being deleted",
    "InvalidFlowLogId.NotFound": "an unknown flow log",
}


def _alibaba() -> dict[str, Renderer]:
    from generator import reference
    from multiflow_alibaba import capabilities, errors

    unknown = set(ALIBABA_NOTES) - set(errors.EXACT_CODES)
    if unknown:
        raise ValueError(f"notes for codes no longer in multiflow_alibaba.errors.EXACT_CODES: {sorted(unknown)}")

    def mapping() -> str:
        rows = [(f"resources.kind: {k.value}", f"ResourceType: {v}") for k, v in capabilities.RESOURCE_TYPES.items()]
        rows += [(f"traffic: {k.value}", f"TrafficType: {v}") for k, v in capabilities.TRAFFIC_TYPES.items()]
        rows += [(f"interval: {s}", f"AggregationInterval: {s // 60}") for s in capabilities.INTERVALS]
        rows += [(f"status: {v.value}", f"Status: {k}") for k, v in capabilities.STATUSES.items()]
        return reference.value_map(rows, ("neutral", "CreateFlowLog / DescribeFlowLogs"))

    return {
        "alibaba-capabilities": lambda: reference.capabilities(capabilities.CAPABILITIES),
        "alibaba-mapping": mapping,
        "alibaba-errors": lambda: reference.error_table(
            errors.EXACT_CODES, errors.PATTERN_CODES, retryable=errors.ERROR_TABLE.is_retryable, notes=ALIBABA_NOTES
        ),
    }


def _example() -> dict[str, Renderer]:
    from generator import reference
    from multiflow_example import capabilities, errors

    return {
        "example-capabilities": lambda: reference.capabilities(capabilities.CAPABILITIES),
        "example-errors": lambda: reference.error_table(errors.CODES, retryable=errors.ERROR_TABLE.is_retryable),
    }


#: Meanings of fleet-file keys the JSON Schema carries no description for.
FLEET_NOTES = {
    "name": "the fleet's (or entry's) name: scopes what plan may delete; an entry's also names its flow logs",
    "defaults": "settings merged under every entry (tags key by key)",
    "flow_logs": "the entries",
    "provider": "a provider's name (`aws`, `alibaba`, or a plugin's)",
    "regions": "the regions to have these flow logs in (unique)",
    "resources": "which resources: `ids`, or a `where` selector",
    "ids": "exactly these resources",
    "where": '`"tag:KEY": VALUE` pairs (`"*"`: any value) every selected resource matches',
    "kind": "the kind of resource, or of destination",
    "traffic": "`all`, `accept` or `reject`; unset takes the provider's default",
    "interval": "the aggregation interval in seconds; unset takes the provider's default",
    "interval_policy": "`exact` refuses an interval the provider lacks; `finer` takes the nearest finer one",
    "fields": "record fields by neutral name; unset is the provider's default format",
    "description": "a description (where the provider keeps one)",
    "tags": "tags on each flow log",
    "destination": "where records go",
    "aws": "options only AWS reads",
    "alibaba": "options only Alibaba Cloud reads",
    "options": "option blocks by provider name (`aws:` above is `options: {aws: ...}`)",
    "ip_version": "`IpVersion`",
    "resource_group_id": "`ResourceGroupId`: the resource group the flow log joins",
    "tag_fields": "resource tags AWS writes into each record (`TagFieldSpecifications`)",
    "resource_type": "whose tags",
    "keys": "the tag keys",
    "prefix": "a key prefix for the objects",
    "file_format": "`plain_text` or `parquet`",
    "hive_compatible_partitions": "Hive-compatible S3 prefixes",
    "per_hour_partition": "partition by hour (not by day)",
    "project": "the SLS project",
    "logstore": "the SLS logstore",
}


def _schema() -> dict[str, Renderer]:
    from generator.schema import schema_reference
    from multiflow.schema import fleet_schema

    def render() -> str:
        schema = fleet_schema(["aws", "alibaba"])  # the built-in providers: the reference is multiflow's own
        titles = {"_Settings": "defaults", "FleetEntry": "an entry of flow_logs", "ResourceSelector": "resources"}
        return schema_reference(schema, root_title="the file", titles=titles, notes=FLEET_NOTES)

    return {"fleet-schema": render}


def _plugins() -> dict[str, Renderer]:
    import inspect

    from generator import markdown, python_api
    from multiflow import hookspecs, model, provider
    from multiflow.testing.conformance import ProviderConformance
    from multiflow.testing.target import ConformanceTarget

    def protocols() -> str:
        classes: list[type] = [provider.Provider, provider.ProviderSession]
        classes += [provider.StartStop, provider.Modifiable, provider.ServiceOptIn]
        classes += [provider.ResourceLister, provider.ResourceChecker, provider.ResourceInventory, provider.TagWriter]
        classes += [provider.Sandbox, provider.CreateOutcome, provider.DeleteOutcome, provider.SwitchOutcome]
        classes += [provider.DescribeQuery, provider.ModifyChanges, model.CloudResource]
        return "\n\n".join(python_api.class_reference(cls) for cls in classes)

    def target() -> str:
        return python_api.class_reference(
            ConformanceTarget, required=lambda name, member: getattr(member, "__isabstractmethod__", False)
        )

    def checks() -> str:
        rows = []
        for owner in ProviderConformance.__mro__[1:]:
            for name, member in vars(owner).items():
                if name.startswith("test_") and inspect.isfunction(member):
                    doc = " ".join(python_api.docstring(member).split())
                    rows.append((owner.__name__, markdown.code(name), doc))
        return markdown.table(["group", "test", "what it checks"], rows)

    return {
        "hooks": lambda: python_api.hook_reference(hookspecs),
        "protocols": protocols,
        "conformance-target": target,
        "conformance-checks": checks,
    }


def _cli() -> dict[str, Renderer]:
    from generator.cli import cli_reference
    from multiflow.cli.parsing import build_parser

    return {"cli-commands": lambda: cli_reference(build_parser())}


def pages() -> dict[Path, dict[str, Renderer]]:
    """Every page with generated regions, and the renderer of each region."""
    return {
        ROOT / "docs" / "providers" / "aws.md": _aws(),
        ROOT / "docs" / "providers" / "alibaba.md": _alibaba(),
        ROOT / "docs" / "examples" / "multiflow-example-provider" / "README.md": _example(),
        ROOT / "docs" / "yaml-reference.md": _schema(),
        ROOT / "docs" / "plugins.md": _plugins(),
        ROOT / "docs" / "cli.md": _cli(),
    }


def render() -> dict[Path, tuple[str, str]]:
    """Each page as it is and as the code says it should be."""
    from generator.regions import RegionError, fill

    rendered = {}
    for path, renderers in pages().items():
        current = path.read_text()
        try:
            rendered[path] = (current, fill(current, renderers))
        except RegionError as exc:
            raise RegionError(f"{path.relative_to(ROOT)}: {exc}") from None
    return rendered


def main(argv: list[str] | None = None) -> int:
    """Rewrite the pages (or, with ``--check``, list those that differ and exit 1)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a page differs")
    args = parser.parse_args(argv)
    drifted = []
    for path, (current, wanted) in render().items():
        if current != wanted:
            drifted.append(path.relative_to(ROOT))
            if not args.check:
                path.write_text(wanted)
    for path in drifted:
        print(f"{'differs' if args.check else 'rewrote'}: {path}")
    return 1 if drifted and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
