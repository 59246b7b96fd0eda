"""The neutral error hierarchy.

Every error multiflow raises is a :class:`MultiflowError`. Bad input is a :class:`SpecError` raised before any
API call; a cloud's refusal is a :class:`ProviderError` subclass that keeps the provider's own code, message and
request id, so nothing the cloud said is lost in translation::

    MultiflowError
    ├── SpecError                 bad input: names the field, the value and what is allowed
    ├── UnsupportedFeature        valid input a provider cannot do
    ├── WaitTimeout               a deadline passed while waiting on a state
    ├── PartialFailure            some resources succeeded, some failed (both listed)
    ├── FlowLogFailed             a flow log settled in another state than the one waited for
    └── ProviderError             the cloud refused: provider, code, message, request id, retryable
        ├── AuthError             credentials missing, wrong or not allowed
        ├── AccountStateError     the account's state (billing, overdue payment) refuses the call
        ├── NotFound              a resource or flow log that does not exist
        ├── AlreadyExists         a flow log the cloud considers a duplicate
        ├── QuotaExceeded         an account limit was reached
        ├── InvalidRequest        the cloud rejected a parameter
        ├── Conflict              the resource is busy or in the wrong state
        ├── Throttled             the cloud's rate limit
        ├── ServiceError          the cloud failed (5xx and the like)
        └── DryRunSucceeded       a dry run found that the call would have succeeded
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

# The flow logs some errors carry are typed Any here, not FlowLog: errors is the bottom layer of the core, which
# every other module imports, so it imports none of them (not even for type checking).

__all__ = [
    "Abbreviated",
    "AccountStateError",
    "AlreadyExists",
    "AuthError",
    "CodeTable",
    "Conflict",
    "DryRunSucceeded",
    "FlowLogFailed",
    "InvalidRequest",
    "MultiflowError",
    "NotFound",
    "PartialFailure",
    "ProviderError",
    "QuotaExceeded",
    "ResourceFailure",
    "ServiceError",
    "SpecError",
    "Throttled",
    "UnsupportedFeature",
    "WaitTimeout",
]


class MultiflowError(Exception):
    """Base class of every error multiflow raises."""


#: The most characters of a value an error message echoes: a 20 MB description is not put on stderr.
SHOWN_VALUE_LIMIT = 200


def shown(value: object, limit: int = SHOWN_VALUE_LIMIT) -> str:
    """``repr(value)``, cut to ``limit`` characters (saying how long it was); a huge value is never formatted whole."""
    if isinstance(value, str | bytes) and len(value) > limit:
        return repr(value[:limit]) + f"... ({len(value)} characters)"
    if isinstance(value, dict | list | tuple | set | frozenset) and len(value) > limit:
        return f"<{type(value).__name__} of {len(value)} items>"
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


class Abbreviated(tuple[object, ...]):
    """Allowed values that a message names only the first :attr:`SHOWN` of, then how many more there are (every
    region of a cloud is a line no terminal or CI log shows whole); ``allowed`` itself keeps them all. Values a
    user must pick the exact one of (record field names) stay a plain list, named in full."""

    SHOWN = 6

    def described(self) -> str:
        """``'a', 'b', ... and 29 more``."""
        items = [repr(item) for item in self]
        if len(items) <= self.SHOWN + 2:
            return ", ".join(items)
        return ", ".join(items[: self.SHOWN]) + f" ... and {len(items) - self.SHOWN} more"


def _describe_allowed(allowed: object) -> str:
    if isinstance(allowed, str):
        return allowed
    if isinstance(allowed, Abbreviated):
        return allowed.described()
    if isinstance(allowed, Iterable):
        return ", ".join(repr(item) for item in allowed)
    return repr(allowed)


class SpecError(MultiflowError, ValueError):
    """Bad input, found before any API call.

    :param field: dotted path of the offending field, e.g. ``destination.logstore``.
    :param value: the value given.
    :param allowed: what would have been accepted (a description or an iterable of values).
    :param provider: the provider whose rule refused it, where the rule is a provider's.
    :param reason: one sentence on why, where ``allowed`` alone does not say it.
    :param errors: every complaint, where a validator had several (pydantic's ``ValidationError.errors()``);
        the message names the first.
    """

    def __init__(
        self,
        field: str,
        value: Any,
        allowed: object,
        *,
        provider: str | None = None,
        reason: str | None = None,
        errors: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        self.provider = provider
        self.reason = reason
        self.errors: list[Mapping[str, Any]] = list(errors)
        super().__init__(self._message())

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {"provider": self.provider, "reason": self.reason, "errors": self.errors}
        return (_rebuild, (type(self), (self.field, self.value, self.allowed), kwargs))

    def _message(self) -> str:
        where = f"{self.provider}: " if self.provider else ""
        why = f" ({self.reason})" if self.reason else ""
        return (
            f"{where}{self.field}={shown(self.value)} is not allowed{why}; allowed: {_describe_allowed(self.allowed)}"
        )


class UnsupportedFeature(SpecError):
    """Valid input that the chosen provider cannot do (e.g. an SLS destination on AWS).

    A subclass of :class:`SpecError` so that one ``except SpecError`` catches every refusal made before an API
    call; it names the provider, the field, the value and what that provider offers instead.
    """

    def _message(self) -> str:
        why = f" ({self.reason})" if self.reason else ""
        return (
            f"{self.provider or 'provider'} does not support {self.field}={shown(self.value)}{why}; "
            f"it offers: {_describe_allowed(self.allowed)}"
        )


class WaitTimeout(MultiflowError, TimeoutError):
    """A deadline passed before the flow logs reached the wanted state.

    :param ids: the flow log ids still not in the wanted state.
    :param wanted: the state waited for.
    :param last_seen: the last status seen for each id (``None`` where the id was not seen at all).
    :param timeout: the deadline, in seconds.
    :param created: the flow logs a create had made before its wait timed out (none for other waits): they
        exist, so nothing made is lost.
    """

    def __init__(
        self,
        ids: Sequence[str],
        wanted: str,
        last_seen: Mapping[str, str | None],
        timeout: float,
        *,
        created: Sequence[Any] = (),
    ) -> None:
        self.ids = list(ids)
        self.wanted = wanted
        self.last_seen = dict(last_seen)
        self.timeout = timeout
        self.created = list(created)
        shown = ", ".join(f"{i} ({last_seen.get(i) or 'not seen'})" for i in self.ids[:10])
        more = f" and {len(self.ids) - 10} more" if len(self.ids) > 10 else ""
        super().__init__(f"{len(self.ids)} flow log(s) not {wanted} after {timeout:g}s: {shown}{more}")

    def with_created(self, created: Sequence[Any]) -> WaitTimeout:
        """The same timeout, naming the flow logs the create had made (raise it ``from`` this one's cause)."""
        return type(self)(self.ids, self.wanted, self.last_seen, self.timeout, created=created)

    def __reduce__(self) -> tuple[Any, ...]:
        args = (self.ids, self.wanted, self.last_seen, self.timeout)
        return (_rebuild, (type(self), args, {"created": self.created}))


class ProviderError(MultiflowError):
    """The cloud refused a call. Keeps what the cloud said.

    :param provider: the provider's name (``aws``, ``alibaba``...).
    :param code: the provider's error code, unchanged (``FlowLogAlreadyExists``, ``Throttling.User``...).
    :param message: the provider's message, unchanged.
    :param request_id: the provider's request id, for support tickets.
    :param operation: the API operation that failed (``CreateFlowLogs``...).
    :param http_status: the HTTP status, where there was one.
    :param resource_id: the resource the error is about, where the cloud said.
    :param retryable: whether a later identical call may succeed.
    :param retry_after: how long the cloud asked to wait before trying again (a ``retry-after`` header), in
        seconds, where it said.
    """

    #: Whether errors of this class are worth retrying, unless the instance says otherwise.
    default_retryable = False

    def __init__(
        self,
        provider: str,
        code: str,
        message: str,
        *,
        request_id: str | None = None,
        operation: str | None = None,
        http_status: int | None = None,
        resource_id: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.provider = provider
        self.code = code
        self.message = message
        self.request_id = request_id
        self.operation = operation
        self.http_status = http_status
        self.resource_id = resource_id
        self.retryable = self.default_retryable if retryable is None else retryable
        self.retry_after = retry_after
        super().__init__(self._text())

    def _text(self) -> str:
        parts = [f"{self.provider}"]
        if self.operation:
            parts.append(f" {self.operation}")
        if self.resource_id:
            parts.append(f" [{self.resource_id}]")
        parts.append(f": {self.code}: {self.message}")
        if self.request_id:
            parts.append(f" (request id {self.request_id})")
        return "".join(parts)

    def about(self, resource_id: str) -> ProviderError:
        """The same error (class, code, message, request id...), about one resource of a batch call."""
        return type(self)(
            self.provider,
            self.code,
            self.message,
            request_id=self.request_id,
            operation=self.operation,
            http_status=self.http_status,
            resource_id=resource_id,
            retryable=self.retryable,
            retry_after=self.retry_after,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {
            "request_id": self.request_id,
            "operation": self.operation,
            "http_status": self.http_status,
            "resource_id": self.resource_id,
            "retryable": self.retryable,
            "retry_after": self.retry_after,
        }
        return (_rebuild, (type(self), (self.provider, self.code, self.message), kwargs))


def _rebuild(cls: type[MultiflowError], args: tuple[Any, ...], kwargs: dict[str, Any]) -> MultiflowError:
    """Unpickle an error by calling its class as it was called (exceptions pickle only ``args`` by default)."""
    return cls(*args, **kwargs)


class AuthError(ProviderError):
    """Credentials are missing, wrong, expired, or not allowed to make the call. Never retried."""


class AccountStateError(ProviderError):
    """The account's state refuses the call (an overdue payment, a suspension): not the credentials, and not
    passing with time; put the account right with the cloud. Never retried."""


class NotFound(ProviderError):
    """The resource or flow log does not exist."""


class AlreadyExists(ProviderError):
    """The cloud already has a flow log it considers the same."""


class QuotaExceeded(ProviderError):
    """An account or region limit was reached."""


class InvalidRequest(ProviderError):
    """The cloud rejected a parameter that passed multiflow's own checks."""


class Conflict(ProviderError):
    """The resource is busy or in a state that does not allow the call; often passes with time."""

    default_retryable = True


class Throttled(ProviderError):
    """The cloud's rate limit; retried with backoff."""

    default_retryable = True


class ServiceError(ProviderError):
    """The cloud failed on its side (5xx, internal errors); retried with backoff."""

    default_retryable = True


class DryRunSucceeded(ProviderError):
    """A dry run found that the call would have succeeded (AWS ``DryRunOperation``)."""


class FlowLogFailed(MultiflowError):
    """A flow log left its transitional state for one other than the wanted one (e.g. ``inactive``), or reached
    it with its delivery suspended by the cloud."""

    def __init__(self, flow_log_id: str, wanted: str, status: str) -> None:
        self.flow_log_id = flow_log_id
        self.wanted = wanted
        self.status = status
        super().__init__(f"flow log {flow_log_id} became {status} while waiting for {wanted}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), (self.flow_log_id, self.wanted, self.status), {}))


@dataclass(frozen=True)
class ResourceFailure:
    """One resource that could not be acted on, and why.

    :param resource_id: the resource (or flow log) id.
    :param error: the neutral error, with the provider's code, message and request id.
    """

    resource_id: str
    error: ProviderError | MultiflowError


class PartialFailure(MultiflowError):
    """Some resources succeeded and some failed.

    :param succeeded: the flow logs created (or ids acted on) successfully; nothing succeeded is lost.
    :param failed: each failed resource with its error.
    """

    def __init__(self, operation: str, succeeded: Sequence[Any], failed: Sequence[ResourceFailure]) -> None:
        self.operation = operation
        self.succeeded = list(succeeded)
        self.failed = list(failed)
        lines = [f"{operation}: {len(self.succeeded)} succeeded, {len(self.failed)} failed"]
        lines += [f"  {f.resource_id}: {f.error}" for f in self.failed[:20]]
        if len(self.failed) > 20:
            lines.append(f"  ... and {len(self.failed) - 20} more")
        super().__init__("\n".join(lines))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), (self.operation, self.succeeded, self.failed), {}))


StatusKey = int | range
"""An HTTP status (``404``) or a range of them (``range(500, 600)``), as a :class:`CodeTable` status rule's key."""


class CodeTable:
    """A provider's error codes → neutral :class:`ProviderError` classes: one table, the most specific rule wins.

    A code is classified by the first tier that has a rule for it:

    1. ``overrides``, in order: the few rules that decide whatever the exact code says, each a code pattern or an
       HTTP status (``("Throttling", Throttled)``, then ``(range(500, 600), ServiceError)``: a 5xx is the server's
       failure, whatever it called it);
    2. ``exact``: the code itself (``"FlowLogAlreadyExists"`` → :class:`AlreadyExists`);
    3. ``patterns``, in order, more specific first: regular expressions searched in the code
       (``"^Invalid.*\\.NotFound$"`` before ``"^Invalid"``; a prefix is ``"^Prefix"``, a substring ``"Throttling"``);
    4. ``statuses``: the HTTP status, for codes no rule knows (``401`` → :class:`AuthError`, ``range(400, 500)`` →
       :class:`InvalidRequest`); an exact status is tried before the ranges;
    5. ``default`` (:class:`ProviderError` itself).

    Whether an error is retryable is its class's :attr:`ProviderError.default_retryable`, unless ``retryable``
    (``retryable(code, http_status) -> bool``) is given to decide per code. A provider fills one in at import::

        ERROR_TABLE = CodeTable(
            "mycloud",
            exact={"RateLimited": Throttled, "NoSuchFlowLog": NotFound},
            patterns=[(r"^Invalid", InvalidRequest)],
            statuses={401: AuthError, range(400, 500): InvalidRequest},
            overrides=[(range(500, 600), ServiceError)],
        )

        try:
            answer = sdk.call(...)
        except SdkError as exc:
            raise ERROR_TABLE.error(exc.code, exc.message, request_id=exc.request_id, operation="Create") from exc
    """

    def __init__(
        self,
        provider: str,
        exact: Mapping[str, type[ProviderError]],
        patterns: Iterable[tuple[str | re.Pattern[str], type[ProviderError]]] = (),
        *,
        statuses: Mapping[StatusKey, type[ProviderError]] | None = None,
        overrides: Iterable[tuple[str | re.Pattern[str] | StatusKey, type[ProviderError]]] = (),
        default: type[ProviderError] = ProviderError,
        retryable: Callable[[str, int | None], bool] | None = None,
    ) -> None:
        self.provider = provider
        self.exact: Mapping[str, type[ProviderError]] = MappingProxyType(dict(exact))
        self.patterns: tuple[tuple[re.Pattern[str], type[ProviderError]], ...] = tuple(
            (re.compile(p) if isinstance(p, str) else p, cls) for p, cls in patterns
        )
        self.statuses = _status_rules(statuses or {})
        self.overrides: tuple[tuple[re.Pattern[str] | range, type[ProviderError]], ...] = tuple(
            (_rule_key(key), cls) for key, cls in overrides
        )
        self.default = default
        self._retryable = retryable
        classes = [*self.exact.values(), *(c for _, c in self.patterns), default]
        classes += [c for _, c in (*self.statuses, *self.overrides)]
        wrong = sorted({repr(c) for c in classes if not (isinstance(c, type) and issubclass(c, ProviderError))})
        if wrong:
            raise TypeError(f"{provider} error table: not ProviderError classes: {', '.join(wrong)}")

    def __repr__(self) -> str:
        return f"<CodeTable {self.provider}: {len(self.exact)} codes, {len(self.patterns)} patterns>"

    def classify(self, code: str, http_status: int | None = None) -> type[ProviderError]:
        """The one neutral class ``code`` (with its HTTP status, where there was one) lands on."""
        for key, cls in self.overrides:
            if (http_status is not None and http_status in key) if isinstance(key, range) else key.search(code):
                return cls
        if code in self.exact:
            return self.exact[code]
        for pattern, cls in self.patterns:
            if pattern.search(code):
                return cls
        return _by_status(self.statuses, http_status) or self.default

    def is_retryable(self, code: str, http_status: int | None = None) -> bool:
        """Whether an error with ``code`` (and ``http_status``) is worth retrying, by this table's rules."""
        if self._retryable is not None:
            return self._retryable(code, http_status)
        return self.classify(code, http_status).default_retryable

    def error(
        self,
        code: str,
        message: str,
        *,
        request_id: str | None = None,
        operation: str | None = None,
        http_status: int | None = None,
        resource_id: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> ProviderError:
        """The neutral error for ``code``: its class by :meth:`classify`, keeping everything the cloud said.

        ``retryable`` overrides the table's rule for this one error; ``retry_after`` is the cloud's own wait.
        """
        return self.classify(code, http_status)(
            self.provider,
            code,
            message,
            request_id=request_id,
            operation=operation,
            http_status=http_status,
            resource_id=resource_id,
            retryable=self.is_retryable(code, http_status) if retryable is None else retryable,
            retry_after=retry_after,
        )


def _rule_key(key: str | re.Pattern[str] | StatusKey) -> re.Pattern[str] | range:
    if isinstance(key, int):
        return range(key, key + 1)
    return re.compile(key) if isinstance(key, str) else key


def _status_rules(rules: Mapping[StatusKey, type[ProviderError]]) -> tuple[tuple[range, type[ProviderError]], ...]:
    """Status rules as ranges, exact statuses first so that ``404`` beats ``range(400, 500)``."""
    as_ranges = [(range(k, k + 1) if isinstance(k, int) else k, cls) for k, cls in rules.items()]
    return tuple(sorted(as_ranges, key=lambda rule: len(rule[0])))


def _by_status(
    rules: tuple[tuple[range, type[ProviderError]], ...], http_status: int | None
) -> type[ProviderError] | None:
    if http_status is None:
        return None
    return next((cls for statuses, cls in rules if http_status in statuses), None)
