"""An :class:`~multiflow.auditing.AuditReport` in the formats CI reads: SARIF 2.1.0, JUnit XML and CSV.

- SARIF (code scanning): one result per uncovered resource, rule ``multiflow/uncovered-resource``, a logical
  location ``provider/region/kind/id`` and a stable fingerprint, so a gap keeps its identity between runs.
- JUnit XML (test dashboards): a test suite per provider, region and kind, a test case per resource, a
  ``<failure>`` for each uncovered one with why.
- CSV: a header, then a row per resource.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

from multiflow import __version__

if TYPE_CHECKING:
    from multiflow.auditing import AuditReport, ResourceCoverage

__all__ = ["CSV_COLUMNS", "FORMATS", "FORMAT_VERSION", "SARIF_RULE", "render", "to_csv", "to_junit", "to_sarif"]

#: The version of ``audit -o json``'s layout (its ``format_version``).
FORMAT_VERSION = "1.0"
#: The rule every SARIF result refers to.
SARIF_RULE = "multiflow/uncovered-resource"
#: The CSV header.
CSV_COLUMNS = ("provider", "region", "kind", "id", "vpc_id", "subnet_id", "covered", "level", "covered_by", "reasons")
_SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_INFO_URI = "https://github.com/multiflow/multiflow/blob/main/docs/audit.md"


def _address(r: ResourceCoverage) -> str:
    return f"{r.provider}/{r.region}/{r.kind.value}/{r.id}"


def to_sarif(report: AuditReport) -> dict[str, Any]:
    """A SARIF 2.1.0 log: one run, one rule, one ``error`` result per uncovered resource."""
    criteria = report.criteria.model_dump(mode="json", exclude_none=True)
    results = [
        {
            "ruleId": SARIF_RULE,
            "ruleIndex": 0,
            "level": "error",
            "message": {
                "text": f"{r.kind.value} {r.id} ({r.provider} {r.region}) has no flow log that counts: "
                + "; ".join(r.reasons)
            },
            "locations": [
                {
                    "logicalLocations": [
                        {"name": r.id, "fullyQualifiedName": _address(r), "kind": "resource"},
                    ]
                }
            ],
            "partialFingerprints": {"multiflowResource/v1": _address(r)},
            "properties": {
                "provider": r.provider,
                "region": r.region,
                "kind": r.kind.value,
                "vpc_id": r.resource.vpc_id,
                "subnet_id": r.resource.subnet_id,
                "reasons": list(r.reasons),
            },
        }
        for r in report.uncovered
    ]
    total = report.total()
    return {
        "$schema": _SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "multiflow",
                        "version": __version__,
                        "informationUri": _INFO_URI,
                        "rules": [
                            {
                                "id": SARIF_RULE,
                                "name": "UncoveredResource",
                                "shortDescription": {"text": "A network resource has no flow log that counts"},
                                "fullDescription": {
                                    "text": "No flow log meeting the audit's criteria watches the resource, its "
                                    "subnet or its VPC, so its traffic is not recorded."
                                },
                                "defaultConfiguration": {"level": "error"},
                                "helpUri": _INFO_URI,
                            }
                        ],
                    }
                },
                "results": results,
                "properties": {"criteria": criteria, "covered": total.covered, "total": total.total},
            }
        ],
    }


def to_junit(report: AuditReport) -> str:
    """JUnit XML: a ``<testsuite>`` per provider, region and kind, a ``<testcase>`` per resource."""
    suites: dict[tuple[str, str, str], list[ResourceCoverage]] = {}
    for r in report.resources:
        suites.setdefault((r.provider, r.region, r.kind.value), []).append(r)
    root = ET.Element(
        "testsuites",
        name="multiflow audit",
        tests=str(len(report.resources)),
        failures=str(len(report.uncovered)),
    )
    for (provider, region, kind), members in sorted(suites.items()):
        failures = sum(not r.covered for r in members)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=f"{provider} {region} {kind}",
            tests=str(len(members)),
            failures=str(failures),
            errors="0",
            skipped="0",
        )
        for r in members:
            case = ET.SubElement(suite, "testcase", classname=f"{provider}.{region}.{kind}", name=r.id)
            if not r.covered:
                failure = ET.SubElement(case, "failure", message="; ".join(r.reasons), type="uncovered")
                failure.text = "\n".join(r.reasons)
            else:
                out = ET.SubElement(case, "system-out")
                out.text = "covered by " + ", ".join(f"{c.flow_log_id} ({c.level.value})" for c in r.covering)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def to_csv(report: AuditReport) -> str:
    """CSV with a header (:data:`CSV_COLUMNS`) and a row per resource; lists joined with ``; ``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in report.resources:
        writer.writerow(
            (
                r.provider,
                r.region,
                r.kind.value,
                r.id,
                r.resource.vpc_id or "",
                r.resource.subnet_id or "",
                "true" if r.covered else "false",
                r.level.value if r.level else "",
                "; ".join(c.flow_log_id for c in r.covering),
                "; ".join(r.reasons),
            )
        )
    return buffer.getvalue()


#: The machine formats of ``multiflow audit -o``, beside ``table`` and ``json``.
FORMATS = ("sarif", "junit", "csv")


def render(report: AuditReport, output: str) -> str:
    """The report in ``output`` (one of :data:`FORMATS`), as text ending in a newline."""
    if output == "sarif":
        return json.dumps(to_sarif(report), indent=2) + "\n"
    if output == "junit":
        return to_junit(report)
    if output == "csv":
        return to_csv(report)
    raise ValueError(f"unknown audit format {output!r}; one of {', '.join(FORMATS)}")
