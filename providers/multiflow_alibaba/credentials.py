"""Who calls, and entering other accounts: STS (alibabacloud-sts20150401) as the calling identity, and assumed roles.

- :class:`IdentityCalls`: the calling identity's STS and Resource Manager clients (credentials from the same
  options as a session: an AccessKey pair, a credentials client, a CLI profile, else the SDK's chain), each call
  retried by :mod:`multiflow_alibaba.retry` and every SDK failure turned into a neutral error with the cloud's
  code, message and request id.
- :class:`AssumedRole`: the temporary credentials of one RAM role (STS AssumeRole), cached and refreshed before they
  expire; an ``alibabacloud_credentials`` provider, so the VPC client asks it for the current keys at each call.
  :func:`assumed_role` hands out one per (calling identity, endpoint, role, session name, external id, duration):
  every region of an account shares ONE AssumeRole.

Secrets (the caller's AccessKey secret, the temporary secret and security token) appear in no repr, log or error.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypeVar

from alibabacloud_credentials.client import Client as CredentialClient
from alibabacloud_credentials.exceptions import CredentialException
from alibabacloud_credentials.provider.refreshable import Credentials
from alibabacloud_credentials_api import ICredentials, ICredentialsProvider
from alibabacloud_resourcemanager20200331 import models as rm_models
from alibabacloud_resourcemanager20200331.client import Client as ResourceManagerClient
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi import utils_models as open_api_models
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from darabonba.exceptions import RetryError, UnretryableException
from darabonba.policy.retry import RetryOptions
from darabonba.runtime import RuntimeOptions

from multiflow.errors import ProviderError, SpecError
from multiflow_alibaba.capabilities import REGION_PATTERN
from multiflow_alibaba.errors import CONNECTION_ERROR, ERROR_TABLE, NO_CREDENTIALS, UNEXPECTED_RESPONSE
from multiflow_alibaba.retry import RetryPolicy
from multiflow_alibaba.sandbox_support import ENDPOINT_VARIABLE, PROTOCOL_VARIABLE
from multiflow_alibaba.transport import Redactor, half_pair_hint

__all__ = [
    "DEFAULT_DURATION",
    "DIRECTORY_PAGE_SIZE",
    "REFRESH_MARGIN",
    "AssumedRole",
    "IdentityCalls",
    "TemporaryCredentials",
    "assumed_role",
    "caller_key",
]

log = logging.getLogger("multiflow.alibaba")
# Alibaba's credentials SDK logs each failed refresh (no credentials, a metadata endpoint out of reach) on its
# "credentials" logger with a traceback, through stderr handlers its provider modules attach to that logger when
# they are imported (above): twenty tracebacks for one plan without credentials, beside multiflow's own one-line
# error that already carries the cause. Those handlers are taken off and a NullHandler put on; the records still
# propagate, so a program that configures logging still gets them.
_sdk_log = logging.getLogger("credentials")
for _handler in list(_sdk_log.handlers):
    if type(_handler) is logging.StreamHandler:
        _sdk_log.removeHandler(_handler)
_sdk_log.addHandler(logging.NullHandler())

T = TypeVar("T")

#: Seconds the temporary credentials of AssumeRole last unless asked otherwise (STS's default and the usual most).
DEFAULT_DURATION = 3600
#: Seconds before their expiry that temporary credentials are renewed (at most half their life).
REFRESH_MARGIN = 300.0
#: Resource Manager's largest page (ListAccounts, ListFoldersForParent: 1 to 100).
DIRECTORY_PAGE_SIZE = 100
#: Pages of one listing read at most (100,000 accounts or folders): a bound, never reached by a real directory.
MAX_PAGES = 1000


def caller_key(options: Mapping[str, Any]) -> str:
    """A name of the calling identity's credentials that holds no secret: the AccessKey id, the profile, else the
    SDK's chain. Used to share what belongs to one identity (assumed roles, rate limiters)."""
    if options.get("access_key_id"):
        return f"key:{options['access_key_id']}"
    if options.get("credential") is not None:
        return f"credential:{id(options['credential'])}"
    if options.get("profile_name"):
        return f"profile:{options['profile_name']}"
    return "chain"


@dataclass(frozen=True)
class TemporaryCredentials:
    """What AssumeRole returned: an ``STS.`` key id, its secret and token (never shown), and when they expire."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str = field(repr=False)
    expiration: float
    request_id: str | None = None


def _expiration(text: str | None) -> float:
    """``2026-12-02T02:10:54Z`` as a POSIX time; an unreadable one counts as already expired."""
    try:
        return datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return 0.0


class IdentityCalls:
    """STS and Resource Manager as the calling identity.

    The options are a session's (see :class:`~multiflow_alibaba.session.AlibabaSession`); those that are not about
    credentials, endpoints or retries are ignored. ``sts_endpoint`` and ``resourcemanager_endpoint`` default to
    ``endpoint`` when that is given (the sandbox serves every API on one port), else to the SDKs' own
    (``sts.<region>.aliyuncs.com``, ``resourcemanager.aliyuncs.com``).
    """

    def __init__(
        self,
        region: str,
        *,
        access_key_id: str | None = None,
        access_key_secret: str | None = None,
        security_token: str | None = None,
        credential: Any = None,
        profile_name: str | None = None,
        endpoint: str | None = None,
        protocol: str | None = None,
        sts_endpoint: str | None = None,
        resourcemanager_endpoint: str | None = None,
        max_attempts: int = 8,
        retry_timeout: float = 60.0,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        **_session_options: Any,
    ) -> None:
        if not isinstance(region, str) or not re.fullmatch(REGION_PATTERN, region):
            # The SDKs make sts.<region>.aliyuncs.com by string replacement: only a region name may reach them.
            raise SpecError("region", region, f"an Alibaba region name matching {REGION_PATTERN}", provider="alibaba")
        endpoint = endpoint or os.environ.get(ENDPOINT_VARIABLE) or None
        self.region = region
        self.sts_endpoint = sts_endpoint or endpoint
        self.resourcemanager_endpoint = resourcemanager_endpoint or endpoint
        config = open_api_models.Config(
            region_id=region,
            protocol=protocol or os.environ.get(PROTOCOL_VARIABLE) or None,
            connect_timeout=int(connect_timeout * 1000),
            read_timeout=int(read_timeout * 1000),
            user_agent="multiflow",
            retry_options=RetryOptions({"retryable": False}),
        )
        if access_key_id is not None:
            config.access_key_id = access_key_id
            config.access_key_secret = access_key_secret
            config.security_token = security_token
            self._redact = Redactor(access_key_secret, security_token)
        else:
            if credential is None and profile_name is not None:
                from alibabacloud_credentials.provider.cli_profile import CLIProfileCredentialsProvider

                credential = CredentialClient(provider=CLIProfileCredentialsProvider(profile_name=profile_name))
            config.credential = credential if credential is not None else CredentialClient()
            self._redact = Redactor(credential=config.credential)
        self._config = config
        self._sts: StsClient | None = None
        self._directory: ResourceManagerClient | None = None
        self._lock = threading.Lock()
        self._runtime = RuntimeOptions()
        self._retry = RetryPolicy(max_attempts=max(1, max_attempts), timeout=retry_timeout)

    def __repr__(self) -> str:
        return f"<IdentityCalls {self.region} {self.sts_endpoint or 'default STS endpoint'}>"

    def _client(self, kind: str) -> Any:
        """The STS or Resource Manager client, made on first use (each SDK builds its URL from its endpoint)."""
        with self._lock:
            if kind == "sts":
                if self._sts is None:
                    self._config.endpoint = self.sts_endpoint
                    self._sts = StsClient(self._config)
                return self._sts
            if self._directory is None:
                self._config.endpoint = self.resourcemanager_endpoint
                self._directory = ResourceManagerClient(self._config)
            return self._directory

    def _call(self, action: str, send: Callable[[], Any]) -> dict[str, Any]:
        """One action, retried by the policy, its answer as the API's JSON, its failure a neutral error."""

        def attempt() -> dict[str, Any]:
            try:
                response = send()
            except AlibabaCloudException as exc:
                raise self._response_error(exc, action) from None
            except UnretryableException as exc:
                raise self._transport_error(exc.inner_exception, action) from None
            except (RetryError, CredentialException) as exc:
                raise self._transport_error(exc, action) from None
            body = response.body.to_map() if getattr(response, "body", None) is not None else None
            if not isinstance(body, dict):
                raise ERROR_TABLE.error(UNEXPECTED_RESPONSE, "unreadable answer: not the API's JSON", operation=action)
            log.debug("%s ok (request id %s)", action, body.get("RequestId"))
            return body

        return self._retry.call(attempt, describe=action)

    def _response_error(self, exc: Any, action: str) -> ProviderError:
        data = exc.data if isinstance(getattr(exc, "data", None), dict) else {}
        status = getattr(exc, "status_code", None) or data.get("statusCode")
        request_id = data.get("RequestId") or getattr(exc, "request_id", None)
        retry_after = getattr(exc, "retry_after", None)
        return ERROR_TABLE.error(
            str(exc.code or data.get("Code") or status or "Unknown"),
            self._redact(str(data.get("Message") or exc.message or "")),
            operation=action,
            request_id=str(request_id) if request_id not in (None, "None") else None,
            http_status=int(status) if status else None,
            retry_after=float(retry_after) / 1000 if retry_after else None,
        )

    def _transport_error(self, exc: BaseException | None, action: str) -> ProviderError:
        if isinstance(exc, AlibabaCloudException):
            return self._response_error(exc, action)
        if isinstance(exc, CredentialException):
            message = f"no Alibaba Cloud credentials found{half_pair_hint(os.environ)}: {exc.message}"
            return ERROR_TABLE.error(NO_CREDENTIALS, self._redact(message, ask_credential=False), operation=action)
        if isinstance(exc, RetryError):
            where = (
                self.sts_endpoint if action in ("AssumeRole", "GetCallerIdentity") else self.resourcemanager_endpoint
            )
            return ERROR_TABLE.error(
                CONNECTION_ERROR,
                self._redact(f"no answer from {where or 'the endpoint'}: {exc.message}"),
                operation=action,
            )
        return ERROR_TABLE.error(UNEXPECTED_RESPONSE, self._redact(f"unreadable answer: {exc!r}"), operation=action)

    # --- STS --------------------------------------------------------------------------------------------

    def caller_identity(self) -> dict[str, Any]:
        """STS GetCallerIdentity: ``AccountId``, ``Arn``, ``IdentityType``... of the calling identity."""
        sts = self._client("sts")
        return self._call("GetCallerIdentity", lambda: sts.get_caller_identity_with_options(self._runtime))

    def assume_role(
        self, role_arn: str, session_name: str, *, external_id: str | None = None, duration: int = DEFAULT_DURATION
    ) -> TemporaryCredentials:
        """STS AssumeRole: the role's temporary credentials; a refusal is the cloud's error (an AuthError for
        ``EntityNotExist.Role``, ``NoPermission``...), with its code, message and request id."""
        sts = self._client("sts")
        request = sts_models.AssumeRoleRequest(
            role_arn=role_arn, role_session_name=session_name, external_id=external_id, duration_seconds=duration
        )
        body = self._call("AssumeRole", lambda: sts.assume_role_with_options(request, self._runtime))
        given = body.get("Credentials") or {}
        if not all(given.get(k) for k in ("AccessKeyId", "AccessKeySecret", "SecurityToken")):
            raise ERROR_TABLE.error(
                UNEXPECTED_RESPONSE, "AssumeRole answered without credentials", operation="AssumeRole"
            )
        return TemporaryCredentials(
            given["AccessKeyId"],
            given["AccessKeySecret"],
            given["SecurityToken"],
            _expiration(given.get("Expiration")),
            body.get("RequestId"),
        )

    # --- Resource Directory -------------------------------------------------------------------------------

    def _pages(self, action: str, key: tuple[str, str], send: Callable[[int], Any]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for number in range(1, MAX_PAGES + 1):
            body = self._call(action, lambda number=number: send(number))  # type: ignore[misc]
            container = body.get(key[0]) or {}
            page = container.get(key[1]) if isinstance(container, dict) else None
            if not isinstance(page, list):
                page = []
            items.extend(i for i in page if isinstance(i, dict))
            total = body.get("TotalCount")
            if not page or (str(total).isdigit() and len(items) >= int(str(total))):
                break
        return items

    def directory_accounts(self) -> list[dict[str, Any]]:
        """Resource Manager ListAccounts, every page at the largest size, with each account's tags."""
        client = self._client("directory")
        return self._pages(
            "ListAccounts",
            ("Accounts", "Account"),
            lambda n: client.list_accounts_with_options(
                rm_models.ListAccountsRequest(include_tags=True, page_number=n, page_size=DIRECTORY_PAGE_SIZE),
                self._runtime,
            ),
        )

    def folders_in(self, parent: str) -> list[dict[str, Any]]:
        """Resource Manager ListFoldersForParent: the folders directly in ``parent``, every page."""
        client = self._client("directory")
        return self._pages(
            "ListFoldersForParent",
            ("Folders", "Folder"),
            lambda n: client.list_folders_for_parent_with_options(
                rm_models.ListFoldersForParentRequest(
                    parent_folder_id=parent, page_number=n, page_size=DIRECTORY_PAGE_SIZE
                ),
                self._runtime,
            ),
        )


class AssumedRole(ICredentialsProvider):
    """The temporary credentials of one role, assumed on first use, shared by every session of its account, and
    assumed again ``REFRESH_MARGIN`` seconds before they expire (or when the cloud says they have).

    Thread-safe: sessions of many regions asking at once wait for one AssumeRole.
    """

    def __init__(
        self,
        calls: IdentityCalls,
        role_arn: str,
        session_name: str,
        *,
        external_id: str | None = None,
        duration: int = DEFAULT_DURATION,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.role_arn = role_arn
        self.session_name = session_name
        self._calls = calls
        self._external_id = external_id
        self._duration = duration
        self._clock = clock
        self._current: TemporaryCredentials | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<AssumedRole {self.role_arn} session {self.session_name}>"

    def current(self) -> TemporaryCredentials:
        """The role's credentials, assumed again when they are near their expiry; raises the cloud's refusal."""
        with self._lock:
            held = self._current
            if held is not None:
                margin = min(REFRESH_MARGIN, self._duration / 2)
                if self._clock() < held.expiration - margin:
                    return held
            made = self._calls.assume_role(
                self.role_arn, self.session_name, external_id=self._external_id, duration=self._duration
            )
            log.debug("assumed %s (request id %s)", self.role_arn, made.request_id)
            self._current = made
            return made

    def expired(self, access_key_id: str) -> None:
        """The cloud refused ``access_key_id`` as expired: forget it (once, however many threads say so)."""
        with self._lock:
            if self._current is not None and self._current.access_key_id == access_key_id:
                self._current = None

    def secrets(self) -> tuple[str, ...]:
        """The secrets to keep out of messages (for a :class:`~multiflow_alibaba.transport.Redactor`)."""
        held = self._current
        return (held.access_key_secret, held.security_token) if held is not None else ()

    # alibabacloud_credentials' provider interface: the SDK asks at every request.

    def get_credentials(self) -> ICredentials:
        """The current keys, as the SDK's credentials client wants them."""
        held = self.current()
        return Credentials(
            access_key_id=held.access_key_id,
            access_key_secret=held.access_key_secret,
            security_token=held.security_token,
            expiration=int(held.expiration),
            provider_name=self.get_provider_name(),
        )

    async def get_credentials_async(self) -> ICredentials:  # pragma: no cover - multiflow calls synchronously
        """As :meth:`get_credentials` (the SDK's async path)."""
        return self.get_credentials()

    def get_provider_name(self) -> str:
        """What the SDK sends as ``x-acs-credentials-provider``."""
        return "multiflow_assume_role"


# Weak: an AssumedRole lives as long as a session of its account does (a long process entering many accounts in
# turn keeps none it no longer uses).
_roles: weakref.WeakValueDictionary[tuple[str, ...], AssumedRole] = weakref.WeakValueDictionary()
_roles_lock = threading.Lock()


def assumed_role(
    options: Mapping[str, Any],
    region: str,
    role_arn: str,
    session_name: str,
    *,
    external_id: str | None = None,
    duration: int = DEFAULT_DURATION,
) -> AssumedRole:
    """The one :class:`AssumedRole` of this calling identity (``options``: a session's) for this role, session
    name, external id and duration at this STS endpoint: every region's session of the account shares it."""
    sts_endpoint = options.get("sts_endpoint") or options.get("endpoint") or os.environ.get(ENDPOINT_VARIABLE) or ""
    key = (
        caller_key(options),
        sts_endpoint,
        role_arn,
        session_name,
        external_id or "",
        str(duration),
    )
    with _roles_lock:
        found = _roles.get(key)
        if found is None:
            found = _roles[key] = AssumedRole(
                IdentityCalls(region, **options), role_arn, session_name, external_id=external_id, duration=duration
            )
        return found
