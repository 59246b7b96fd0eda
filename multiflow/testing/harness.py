"""The conformance suite's working parts: :class:`Harness` (a connected client, fresh specs, cleanup) and helpers.

Nothing here is a test; the checks are in the ``checks_*`` modules and :mod:`multiflow.testing.conformance`.
"""

from __future__ import annotations

import contextlib
import pickle
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from multiflow.client import Client
from multiflow.errors import MultiflowError, PartialFailure, ProviderError, WaitTimeout
from multiflow.model import Capabilities, FlowLog
from multiflow.plugins import destination_models
from multiflow.provider import Provider, ProviderSession
from multiflow.spec import FlowLogSpec, ResourceKind, Resources
from multiflow.testing.target import ConformanceTarget

__all__ = [
    "MODIFIABLE",
    "NEUTRAL_ERROR_ATTRIBUTES",
    "ODD_INTERVALS",
    "Harness",
    "check_error",
    "destination_kinds",
    "destination_sample",
    "expect",
    "only",
    "other_settings",
    "secret_shown",
]


#: A valid destination of every kind the spec knows, for specs a provider must refuse (never sent anywhere).
def destination_sample(kind: str) -> dict[str, Any] | None:
    """A valid destination of ``kind``: the first of the ``examples`` its model declares (in its JSON Schema, through
    ``json_schema_extra``); ``None`` where it declares none."""
    examples = destination_models()[kind].model_json_schema().get("examples") or [None]
    return dict(examples[0]) if examples[0] is not None else None


#: What every ProviderError keeps, and must keep through pickling (to cross process boundaries).
NEUTRAL_ERROR_ATTRIBUTES = (
    "provider",
    "code",
    "message",
    "request_id",
    "operation",
    "http_status",
    "resource_id",
    "retryable",
)

#: Intervals (seconds) tried on every kind that does not declare them: each must be refused.
ODD_INTERVALS = (1, 5, 10, 30, 59, 61, 120, 299, 301, 599, 601, 900, 3600, 86400)
#: What a provider may declare ``modifiable``: the attributes ``Client.modify`` changes (and ``options.FIELD``
#: for an option field in ``readable_options``).
MODIFIABLE = ("name", "description", "interval", "tags")


def destination_kinds() -> tuple[str, ...]:
    """Every destination ``kind`` the loaded providers declare."""
    return tuple(sorted(destination_models()))


class _RecordingSession:
    """A session that records every method called on it, to prove a refusal came before any call."""

    def __init__(self, session: ProviderSession) -> None:
        self._session = session
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._session, name)
        if not callable(value):
            return value

        def recorded(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return value(*args, **kwargs)

        return recorded


class Harness:
    """One conformance test's view of the provider: a connected client, fresh specs, and cleanup.

    Every flow log made through :meth:`create` is deleted at the end of the test, whatever happens.
    """

    def __init__(self, target: ConformanceTarget, provider: Provider, client: Client) -> None:
        self.target = target
        self.provider = provider
        self.client = client
        self.caps: Capabilities = provider.capabilities
        self.token = uuid.uuid4().hex[:8]
        self._destinations: dict[str, Any] = {}
        self._live: dict[str, FlowLog] = {}

    @property
    def timeout(self) -> float:
        """The deadline for waits, from the target."""
        return self.target.wait_timeout

    def destination(self, kind: str | None = None) -> Any:
        """The target's destination of ``kind`` (the provider's first declared kind by default), asked once."""
        kind = kind or self.caps.destinations[0]
        if kind not in self._destinations:
            self._destinations[kind] = self.target.destination(kind)
        return self._destinations[kind]

    def spec(
        self,
        kind: ResourceKind | None = None,
        *,
        ids: Sequence[str] | None = None,
        destination: Any = None,
        tags: Mapping[str, str] | None = None,
        **fields: Any,
    ) -> FlowLogSpec:
        """A spec on one fresh resource of ``kind`` (the first declared kind) to ``destination`` (the default)."""
        kind = kind or self.caps.resource_kinds[0]
        resource_ids = list(ids) if ids is not None else self.target.resources(kind, 1)
        return FlowLogSpec(
            resources=Resources(kind=kind, ids=resource_ids),
            destination=destination if destination is not None else self.destination(),
            tags=dict(tags or {}),
            **fields,
        )

    def normalized(self, spec: FlowLogSpec) -> FlowLogSpec:
        """``spec`` as the cloud will report it (the provider's ``normalize``)."""
        return self.provider.normalize(spec, self.target.region)

    def create(self, specs: FlowLogSpec | Sequence[FlowLogSpec], **options: Any) -> list[FlowLog]:
        """``client.create`` (waiting, under the target's deadline); everything created is cleaned up later."""
        options.setdefault("timeout", self.timeout)
        try:
            created = self.client.create(specs, **options)
        except PartialFailure as exc:
            self._remember(f for f in exc.succeeded if isinstance(f, FlowLog))
            raise
        except WaitTimeout as exc:
            self._remember(exc.created)
            raise
        self._remember(created)
        return created

    def _remember(self, flow_logs: Any) -> None:
        for flow_log in flow_logs:
            self._live[flow_log.id] = flow_log

    def delete(self, ids: Sequence[str]) -> list[str]:
        """``client.delete`` (waiting until gone) of flow logs made here."""
        deleted = self.client.delete(list(ids), wait=True, timeout=self.timeout)
        for flow_log_id in deleted:
            self._live.pop(flow_log_id, None)
        return deleted

    def cleanup(self) -> None:
        """Delete what is left, best effort (a failing test must not leave the sandbox full)."""
        if not self._live:
            return
        with contextlib.suppress(MultiflowError):
            self.client.delete(list(self._live), wait=True, timeout=self.timeout)
        self._live.clear()

    def refused_before_any_call(self, action: Callable[[Client], object]) -> tuple[BaseException | None, list[str]]:
        """Run ``action`` on a client whose session records calls: (what it raised, the session calls made)."""
        recorder = _RecordingSession(self.client.session)
        client = Client(self.provider, recorder)  # type: ignore[arg-type]
        try:
            action(client)
        except Exception as exc:
            return exc, recorder.calls
        return None, recorder.calls

    def create_cases(
        self, cases: Sequence[tuple[str, FlowLogSpec]], **options: Any
    ) -> tuple[dict[str, FlowLog], list[str]]:
        """Create every case's spec in one call; return each label's flow log as described back, and problems."""
        problems: list[str] = []
        label_of = {spec.resources.ids[0]: label for label, spec in cases}
        try:
            created = self.create([spec for _, spec in cases], **options)
        except PartialFailure as exc:
            created = [f for f in exc.succeeded if isinstance(f, FlowLog)]
            problems += [f"{label_of.get(f.resource_id, f.resource_id)}: refused: {f.error}" for f in exc.failed]
        except ProviderError as exc:
            created = []
            problems.append(f"{label_of.get(exc.resource_id or '', 'a case')}: refused: {exc}")
        described = {f.id: f for f in self.client.describe(ids=[f.id for f in created])} if created else {}
        found: dict[str, FlowLog] = {}
        for flow_log in created:
            label = label_of.get(flow_log.resource.id, flow_log.resource.id)
            if flow_log.id not in described:
                problems.append(f"{label}: created as {flow_log.id} but describe does not list it")
                continue
            found[label] = described[flow_log.id]
        missing = [label for label, _ in cases if label not in found and not any(p.startswith(label) for p in problems)]
        problems += [f"{label}: create reported nothing for it" for label in missing]
        return found, problems


def secret_shown(text: str, secrets: Sequence[str]) -> list[str]:
    """A problem line for each of ``secrets`` found in ``text``."""
    return [f"secret {s[:2]}… shows in: {text[:200]!r}" for s in secrets if s and s in text]


def expect(label: str, field: str, got: object, wanted: object) -> list[str]:
    """No problem if ``got == wanted``, else one line saying what differs."""
    return [] if got == wanted else [f"{label}: {field} is {got!r}, expected {wanted!r}"]


def only(flow_logs: list[FlowLog]) -> FlowLog:
    """The one flow log of a list, or an assertion naming what is there."""
    assert len(flow_logs) == 1, f"expected one flow log, got {[f.id for f in flow_logs]}"
    return flow_logs[0]


def other_settings(h: Harness, kind: ResourceKind) -> dict[str, Any]:
    """Settings that differ from the defaults of ``kind`` (another traffic type or interval), if any."""
    traffic = [t for t in h.caps.traffic[kind] if t != h.caps.default_traffic[kind]]
    if traffic:
        return {"traffic": traffic[0]}
    intervals = [i for i in h.caps.intervals[kind] if i != h.caps.default_interval[kind]]
    return {"interval": intervals[0]} if intervals else {}


def check_error(error: ProviderError, provider: str, *, request_id: bool) -> None:
    """The neutral error keeps what the cloud said and survives pickling."""
    assert error.provider == provider, f"provider is {error.provider!r}"
    assert error.code, "no code"
    assert error.message, "no message"
    if request_id:
        assert error.request_id, f"{error.code}: no request id"
    assert isinstance(error.retryable, bool)
    again = pickle.loads(pickle.dumps(error))
    kept = [name for name in NEUTRAL_ERROR_ATTRIBUTES if getattr(again, name) == getattr(error, name)]
    assert type(again) is type(error) and len(kept) == len(NEUTRAL_ERROR_ATTRIBUTES), "pickling loses what it said"
