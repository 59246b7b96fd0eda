"""The session object itself: how it shows, when its construction fails part-way or when it is whole."""

from __future__ import annotations

import pytest

from multiflow.errors import SpecError
from multiflow_alibaba.session import AlibabaSession

from .provider_support import KEY_ID, REGION, SECRET


def test_repr_of_a_session_never_initialised() -> None:
    assert repr(object.__new__(AlibabaSession)) == "<AlibabaSession ? default endpoint>"


def test_repr_of_a_session_whose_init_failed_part_way() -> None:
    session = object.__new__(AlibabaSession)
    with pytest.raises(SpecError):
        session.__init__(REGION, access_key_id=KEY_ID, endpoint="127.0.0.1:9")  # type: ignore[misc]
    assert repr(session) == f"<AlibabaSession {REGION} default endpoint>"


def test_repr_shows_region_and_endpoint_and_no_secret() -> None:
    session = AlibabaSession(REGION, access_key_id=KEY_ID, access_key_secret=SECRET, endpoint="127.0.0.1:9")
    try:
        assert repr(session) == f"<AlibabaSession {REGION} 127.0.0.1:9>"
        assert SECRET not in repr(session) + repr(vars(session))
    finally:
        session.close()


def test_max_concurrency_below_one_is_a_spec_error() -> None:
    with pytest.raises(SpecError) as caught:
        AlibabaSession(REGION, access_key_id=KEY_ID, access_key_secret=SECRET, max_concurrency=0)
    assert caught.value.field == "max_concurrency"
