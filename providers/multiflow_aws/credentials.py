"""Credentials of an assumed role, shared by every region of one account and refreshed by botocore.

``multiflow.connect("aws", region, role_arn=..., external_id=..., role_session_name=...)`` enters another account
through ``sts:AssumeRole``. The role's credentials are botocore's own refreshing kind
(:class:`botocore.credentials.AssumeRoleCredentialFetcher` behind :class:`~botocore.credentials.
DeferredRefreshableCredentials`): botocore asks STS again before they expire (15 minutes before, its default), so
a long run never meets ``ExpiredToken``. One :class:`AssumedRole` is kept per (calling identity, role, external id,
session name, STS endpoint), so the regions of one account make ONE AssumeRole between them, whatever the number
of threads; the first is made when the first session of the account is opened, so that a refusal is an
:class:`~multiflow.errors.AuthError` at connect ("this account cannot be entered"), not at the first EC2 call.

Nothing here logs, shows or stores a secret: the cache is keyed by a digest of the calling identity's options.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Mapping
from typing import Any

import boto3
import botocore.credentials
import botocore.exceptions
import botocore.session
from botocore.credentials import AssumeRoleCredentialFetcher, CredentialProvider, DeferredRefreshableCredentials

from multiflow.errors import ProviderError, SpecError
from multiflow_aws.errors import ERROR_TABLE, from_client_error

# A refused AssumeRole is raised to the caller as an AuthError (with AWS's code and request id); botocore also logs
# it with a traceback, which Python's last-resort handler prints to stderr in a program that set up no logging.
# A NullHandler here keeps that quiet there, and a program that configures logging still gets the record.
logging.getLogger("botocore.credentials").addHandler(logging.NullHandler())

__all__ = ["DEFAULT_SESSION_NAME", "IDENTITY_OPTIONS", "AssumedRole", "assumed_session", "forget", "identity_of"]

#: ``RoleSessionName`` when none is given: what CloudTrail shows in the member account.
DEFAULT_SESSION_NAME = "multiflow"

#: STS AssumeRole's DurationSeconds bounds (the role's MaxSessionDuration may be lower).
MIN_DURATION, MAX_DURATION = 900, 43200

_lock = threading.Lock()
_roles: dict[str, AssumedRole] = {}


class AssumedRole:
    """One role entered from one calling identity: its refreshing credentials, made once and shared."""

    def __init__(
        self,
        caller: boto3.Session,
        role_arn: str,
        *,
        external_id: str | None,
        session_name: str,
        region: str,
        endpoint_url: str | None,
        duration: int | None = None,
    ) -> None:
        self.role_arn = role_arn
        self._lock = threading.Lock()
        # The caller's profile still configures the role's clients (retry_mode, max_attempts...); only the
        # credentials are the role's.
        self._profile = caller.profile_name if caller.profile_name != "default" else None
        caller_credentials = caller.get_credentials()
        if caller_credentials is None:
            raise ERROR_TABLE.error(
                "NoCredentials",
                f"no credentials to assume {role_arn} with (the SDK's chain found none)",
                operation="AssumeRole",
            )
        botocore_session = caller._session  # the caller's own configuration (profile, retries), as boto3 keeps it

        def sts_client(service: str, **keys: Any) -> Any:
            return botocore_session.create_client(service, region_name=region, endpoint_url=endpoint_url, **keys)

        extra: dict[str, Any] = {"RoleSessionName": session_name}
        if external_id is not None:
            extra["ExternalId"] = external_id
        if duration is not None:
            extra["DurationSeconds"] = duration
        fetcher = AssumeRoleCredentialFetcher(sts_client, caller_credentials, role_arn, extra_args=extra)
        self.credentials = DeferredRefreshableCredentials(fetcher.fetch_credentials, "assume-role")
        self._entered = False

    def __repr__(self) -> str:
        return f"<AssumedRole {self.role_arn}>"

    def enter(self) -> None:
        """Make the first AssumeRole now (once; later callers wait for it), its refusal an AuthError."""
        with self._lock:
            if self._entered:
                return
            try:
                self.credentials.get_frozen_credentials()
            except botocore.exceptions.ClientError as exc:
                raise _refusal(from_client_error(exc, "AssumeRole"), self.role_arn) from None
            except botocore.exceptions.NoCredentialsError as exc:
                raise ERROR_TABLE.error("NoCredentials", str(exc), operation="AssumeRole") from None
            except (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError) as exc:
                raise ERROR_TABLE.error("ConnectionError", str(exc), operation="AssumeRole") from None
            self._entered = True

    def session(self) -> boto3.Session:
        """A boto3 session whose every client uses this role's (refreshing) credentials."""
        botocore_session = botocore.session.Session(profile=self._profile)
        resolver = botocore.credentials.CredentialResolver([_Fixed(self.credentials)])
        botocore_session.register_component("credential_provider", resolver)
        return boto3.Session(botocore_session=botocore_session)


class _Fixed(CredentialProvider):  # type: ignore[misc]
    """A credential provider that hands out one credentials object (the assumed role's)."""

    METHOD = "assume-role"

    def __init__(self, credentials: Any) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Any:
        return self._credentials


def _refusal(error: ProviderError, role_arn: str) -> ProviderError:
    """STS's refusal, its code, message and request id kept; the message says which role could not be entered."""
    if role_arn in error.message:
        return error
    return ERROR_TABLE.error(
        error.code,
        f"{error.message} (assuming {role_arn})",
        operation="AssumeRole",
        request_id=error.request_id,
        http_status=error.http_status,
    )


#: The ``connect`` options that say who the calling identity is.
IDENTITY_OPTIONS = ("profile_name", "aws_access_key_id", "aws_secret_access_key", "aws_session_token")


def identity_of(options: Mapping[str, Any]) -> dict[str, Any]:
    """What identifies the calling identity in ``connect`` options (a given ``boto3_session`` by its ``id``), the
    same for ``connect`` and for ``list_accounts``, so that both share one AssumeRole."""
    identity = {key: options.get(key) for key in IDENTITY_OPTIONS}
    given = options.get("boto3_session")
    identity["boto3_session"] = id(given) if given is not None else None
    return identity


def _caller_key(options: dict[str, Any]) -> str:
    """A digest of what identifies the calling identity (never kept or shown in clear)."""
    text = "\x1f".join(f"{k}={options.get(k)!s}" for k in sorted(options))
    return hashlib.sha256(text.encode()).hexdigest()


def assumed_session(
    caller: boto3.Session,
    caller_options: dict[str, Any],
    role_arn: str,
    *,
    external_id: str | None = None,
    session_name: str | None = None,
    region: str,
    endpoint_url: str | None = None,
    duration: int | None = None,
) -> boto3.Session:
    """A boto3 session in ``role_arn``, entered from ``caller``; the AssumeRole is made once per calling identity,
    role, external id, session name, duration and STS endpoint, and shared (thread-safe). A refusal is an
    AuthError. ``duration`` is the ``DurationSeconds`` asked for (STS's default, one hour, otherwise)."""
    if duration is not None and not MIN_DURATION <= duration <= MAX_DURATION:
        raise SpecError(
            "role_duration",
            duration,
            f"{MIN_DURATION} to {MAX_DURATION} seconds (STS AssumeRole DurationSeconds)",
            provider="aws",
        )
    name = session_name or DEFAULT_SESSION_NAME
    key = _caller_key(
        {
            **caller_options,
            "role_arn": role_arn,
            "external_id": external_id,
            "session": name,
            "sts": endpoint_url,
            "duration": duration,
        }
    )
    with _lock:
        role = _roles.get(key)
        if role is None:
            role = AssumedRole(
                caller,
                role_arn,
                external_id=external_id,
                session_name=name,
                region=region,
                endpoint_url=endpoint_url,
                duration=duration,
            )
            _roles[key] = role
    try:
        role.enter()
    except ProviderError:
        with _lock:
            if _roles.get(key) is role:
                del _roles[key]  # a refusal is not remembered: the next run (or a fixed policy) tries again
        raise
    return role.session()


def forget() -> None:
    """Forget every assumed role (the sandbox's reset: its temporary keys are gone)."""
    with _lock:
        _roles.clear()
