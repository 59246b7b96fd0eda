"""EC2 error answers for botocore before-send hooks: what moto cannot be made to say, as EC2's XML says it."""

from __future__ import annotations

from typing import Any

__all__ = ["ec2_error"]


class _Raw:
    """The body of an answer, as botocore streams it."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def ec2_error(request: Any, status: int, code: str, message: str, request_id: str) -> Any:
    """An EC2 error document answering ``request`` (botocore reads it like the service's)."""
    from botocore.awsrequest import AWSResponse

    body = (
        f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
        f"<RequestID>{request_id}</RequestID></Response>"
    ).encode()
    return AWSResponse(request.url, status, {}, _Raw(body))
