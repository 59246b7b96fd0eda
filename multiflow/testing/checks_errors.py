"""Conformance checks of errors and secrets: neutral classes keeping what the cloud said; no secret ever shown."""

from __future__ import annotations

import logging

import pytest

import multiflow
from multiflow.errors import AuthError, MultiflowError, ProviderError
from multiflow.testing.harness import Harness, check_error, secret_shown

__all__ = ["ErrorChecks"]


class ErrorChecks:
    """Checks of error mapping and secret keeping (part of :class:`ProviderConformance`)."""

    # -- errors and secrets --------------------------------------------------------------------------------------

    def test_a_missing_resource_is_a_neutral_error(self, conformance: Harness, provider_name: str) -> None:
        """A create on a resource that does not exist raises a neutral ProviderError subclass that keeps the
        provider, the cloud's code and message (and request id), and survives pickling."""
        h = conformance
        kind = h.caps.resource_kinds[0]
        missing = h.target.missing_resource_id(kind)
        if missing is None:
            pytest.skip("the target has no missing_resource_id")
        with pytest.raises(ProviderError) as raised:
            h.create(h.spec(kind, ids=[missing]))
        check_error(raised.value, provider_name, request_id=h.target.request_ids)
        assert type(raised.value) is not ProviderError, f"{raised.value.code!r} is not mapped to a neutral class"

    def test_error_codes_land_on_their_neutral_class(self, conformance: Harness, provider_name: str) -> None:
        """Each sample code, answered to a create by the target's ``inject_error``, lands on its neutral class with
        the provider, code, message and request id kept (needs the target's ``inject_error`` and ``error_samples``)."""
        h = conformance
        samples = h.target.error_samples()
        if not samples:
            pytest.skip("the target has no error_samples")
        problems: list[str] = []
        for code, cls in samples.items():
            injected = h.target.inject_error(code)
            if injected is None:
                pytest.skip("the target cannot inject_error")
            spec = h.spec()
            try:
                with injected:
                    h.create(spec)
            except ProviderError as exc:
                if type(exc) is not cls:
                    problems.append(f"{code}: {type(exc).__name__}, expected {cls.__name__}")
                if exc.code != code:
                    problems.append(f"{code}: the error says code {exc.code!r}")
                try:
                    check_error(exc, provider_name, request_id=h.target.request_ids)
                except AssertionError as failure:
                    problems.append(f"{code}: {failure}")
            except MultiflowError as exc:
                problems.append(f"{code}: {type(exc).__name__} is not a ProviderError: {exc}")
            else:
                problems.append(f"{code}: the create succeeded")
        assert not problems, "\n".join(problems)

    def test_bad_credentials_are_an_auth_error(self, conformance: Harness, provider_name: str) -> None:
        """Credentials the cloud refuses make the first call raise ``AuthError`` (never retried), keeping the code
        and message (needs the target's ``bad_credentials_options``)."""
        h = conformance
        options = h.target.bad_credentials_options()
        if options is None:
            pytest.skip("the target has no bad_credentials_options")
        with (
            multiflow.connect(provider_name, region=h.target.region, **options) as client,
            pytest.raises(AuthError) as raised,
        ):
            client.describe()
        check_error(raised.value, provider_name, request_id=False)
        assert raised.value.retryable is False

    def test_secrets_never_show(
        self, conformance: Harness, provider_name: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        """The target's secrets show in no repr (provider, client, session), no error (message or repr) and no log
        line, at DEBUG, through a create, describe, delete, a refused call and bad credentials."""
        h = conformance
        secrets = [s for s in h.target.secrets() if s]
        if not secrets:
            pytest.skip("the target names no secrets")
        texts: list[str] = []
        with caplog.at_level(logging.DEBUG):
            texts += [repr(h.provider), repr(h.client), repr(h.client.session), str(h.client.session)]
            [flow_log] = h.create(h.spec())
            h.client.describe(ids=[flow_log.id])
            h.delete([flow_log.id])
            try:
                h.client.delete([flow_log.id], timeout=h.timeout)
            except MultiflowError as exc:
                texts += [str(exc), repr(exc), repr(vars(exc))]
            options = h.target.bad_credentials_options()
            if options is not None:
                with multiflow.connect(provider_name, region=h.target.region, **options) as client:
                    texts += [repr(client), repr(client.session)]
                    try:
                        client.describe()
                    except MultiflowError as exc:
                        texts += [str(exc), repr(exc), repr(vars(exc))]
        texts += [record.getMessage() for record in caplog.records]
        problems = [p for text in texts for p in secret_shown(text, secrets)]
        assert not problems, "\n".join(problems[:10])
