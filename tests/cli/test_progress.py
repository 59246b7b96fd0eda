"""Apply's progress on stderr in a CI log: a line per tenth of a phase, and, past a dozen places of one provider
(an organization), lines summed per provider and phase, so that the log stays short whatever the estate."""

from __future__ import annotations

import io

from multiflow.applying import ProgressEvent
from multiflow.cli.progress import MANY_PLACES, ProgressPrinter


def run(events: list[ProgressEvent]) -> list[str]:
    stream = io.StringIO()  # not a terminal: plain lines
    with ProgressPrinter(stream) as printer:
        for event in events:
            printer(event)
    return stream.getvalue().splitlines()


def test_a_few_places_get_a_line_per_tenth_each() -> None:
    events = [ProgressEvent("aws", "us-east-1", "create", done, 10, account="111111111111") for done in range(0, 11)]
    lines = run(events)
    assert len(lines) == 11
    assert lines[-1].split()[:4] == ["aws", "111111111111", "us-east-1", "create"]
    assert "10/10" in lines[-1]


def test_an_organization_is_summed_per_provider_and_phase() -> None:
    places = [(f"{n:012d}", region) for n in range(100) for region in ("us-east-1", "eu-west-1")]
    events = [
        ProgressEvent("aws", region, "create", done, 5, account=account)
        for done in range(0, 6)
        for account, region in places
    ]
    lines = run(events)
    summed = [line for line in lines if "(all places)" in line]
    # The first dozen places print their own lines; then one line per tenth of the whole phase, never per place.
    assert len(lines) <= MANY_PLACES * 6 + 12
    assert summed[-1].split()[1:6] == ["(all", "places)", "of", "200", "create"]
    assert "1000/1000" in summed[-1]
