"""Verification of Alibaba Cloud's signatures, recomputed the way the official clients sign.

Two families are verified:

- V3, ACS3-HMAC-SHA256 (the Tea SDK's default): an ``Authorization`` header, described below;
- the RPC signature, HMAC-SHA1 ``SignatureVersion=1.0``, sent by the Tea SDK with ``signature_algorithm="v2"``
  and by aliyun-python-sdk-core and the aliyun CLI: the signature is a parameter (``Signature``, in the query of
  a GET, or beside the others in a form body), see :meth:`Verifier.verify_rpc`.

V3 in detail:

The SDK (``alibabacloud_tea_openapi.utils.Utils.get_authorization``) builds::

    canonical request = METHOD \\n URI \\n canonical query \\n canonical headers \\n signed headers \\n payload hash
    string to sign    = "ACS3-HMAC-SHA256" \\n hex(sha256(canonical request))
    Authorization     = ACS3-HMAC-SHA256 Credential=<key id>,SignedHeaders=<a;b;c>,Signature=<hex hmac>

where the canonical query sorts the raw parameter names and percent-encodes each value with
``quote(value, safe="~")``, and the canonical headers are ``name:value`` lines, lower-cased, sorted, values
stripped, for every header the SDK had set at signing time (host, accept, user-agent and all ``x-acs-*``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import quote

from .errors import ApiError, api_error, missing_parameter

ALGORITHM = "ACS3-HMAC-SHA256"
#: The RPC signature's method and version (the only ones the classic clients send for AccessKey pairs).
RPC_SIGNATURE_METHOD = "HMAC-SHA1"
RPC_SIGNATURE_VERSION = "1.0"
#: The parameters every RPC-signed request carries besides ``Signature``.
RPC_SIGNATURE_PARAMETERS = ("AccessKeyId", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp")
#: How far the request's ``x-acs-date`` may be from the emulator's wall clock, as in the cloud.
MAX_CLOCK_SKEW_SECONDS = 15 * 60
#: Headers that must be covered by the signature (besides every ``x-acs-*`` one). Not content-type: the SDK's
#: async path (aiohttp) adds ``Content-Type: application/octet-stream`` after signing, and the cloud accepts it.
_ALWAYS_SIGNED = ("host",)
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Authorization:
    """The parts of an ``Authorization: ACS3-HMAC-SHA256 ...`` header."""

    algorithm: str
    access_key_id: str
    signed_headers: tuple[str, ...]
    signature: str


@dataclass(frozen=True)
class SignedRequest:
    """What the verifier needs of an HTTP request: headers keyed by lower-case name, query as sent."""

    method: str
    path: str
    query: Sequence[tuple[str, str]]
    headers: Mapping[str, Sequence[str]]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (lower-case), or ``None``."""
        values = self.headers.get(name)
        return values[0] if values else None


@dataclass(frozen=True)
class AccessKey:
    """An access key as the verifier sees it."""

    access_key_id: str
    secret: str
    active: bool = True
    #: A temporary (STS) key's token, which every request must carry; ``None`` for a long-term key.
    security_token: str | None = None
    #: Whether a temporary key has expired (on the emulator's clock).
    expired: bool = False


def check_security_token(key: AccessKey, given: str | None) -> None:
    """A temporary key's requests must carry its token, unchanged, before it expires (the cloud's codes)."""
    if key.security_token is None:
        return
    if not given:
        raise api_error("MissingSecurityToken")
    if not hmac.compare_digest(given, key.security_token):
        raise api_error("InvalidSecurityToken.MismatchWithAccessKey")
    if key.expired:
        raise api_error("InvalidSecurityToken.Expired")


def parse_authorization(value: str) -> Authorization:
    """Split an ``Authorization`` header; ``IncompleteSignature`` when it is not a V3 header."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise api_error(
            "IncompleteSignature",
            f"The request signature does not conform to Aliyun standards. "
            f"Unsupported signature algorithm {algorithm!r}: this emulator accepts {ALGORITHM} only.",
        )
    parts: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, val = item.strip().partition("=")
        if sep:
            parts[name] = val
    credential = parts.get("Credential", "")
    signed = parts.get("SignedHeaders", "")
    signature = parts.get("Signature", "")
    if not (credential and signed and signature):
        raise api_error(
            "IncompleteSignature",
            "The request signature does not conform to Aliyun standards. "
            "The Authorization header needs Credential, SignedHeaders and Signature.",
        )
    return Authorization(algorithm, credential, tuple(signed.split(";")), signature)


def canonical_query(query: Sequence[tuple[str, str]]) -> str:
    """The canonical query string: names sorted as sent (not encoded), values ``quote(v, safe="~")``."""
    return "&".join(f"{k}={quote(v, safe='~', encoding='utf-8')}" for k, v in sorted(query, key=lambda kv: kv[0]))


def canonical_request(request: SignedRequest, signed_headers: Sequence[str], payload_hash: str) -> str:
    """Rebuild the canonical request the client must have signed."""
    names = sorted(signed_headers)
    lines = "".join(f"{name}:{','.join(sorted(v.strip() for v in request.headers.get(name, ())))}\n" for name in names)
    return "\n".join(
        [
            request.method.upper(),
            request.path or "/",
            canonical_query(request.query),
            lines,
            ";".join(names),
            payload_hash,
        ]
    )


def string_to_sign(canonical: str) -> str:
    """``ACS3-HMAC-SHA256\\n<hex sha256 of the canonical request>``."""
    return f"{ALGORITHM}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"


def signature_for(secret: str, to_sign: str) -> str:
    """Hex HMAC-SHA256 of ``to_sign`` under ``secret``."""
    return hmac.new(secret.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def rpc_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """``METHOD&%2F&<percent-encoded canonical query>``: every parameter but ``Signature``, sorted by name."""
    canonical = "&".join(
        f"{_rpc_encode(name)}={_rpc_encode(value)}" for name, value in sorted(params.items()) if name != "Signature"
    )
    return f"{method}&{_rpc_encode('/')}&{_rpc_encode(canonical)}"


def rpc_signature_for(secret: str, to_sign: str) -> str:
    """base64(HMAC-SHA1(secret + "&", string to sign)), as the RPC clients compute it."""
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _rpc_encode(text: str) -> str:
    # RFC 3986 unreserved characters stay; everything else is %XX (space as %20, * as %2A), as the clients do.
    return quote(text, safe="~")


@dataclass
class NonceCache:
    """Nonces seen per access key within the replay window; old ones are forgotten as time passes."""

    window_seconds: float = MAX_CLOCK_SKEW_SECONDS * 2
    _seen: set[tuple[str, str]] = field(default_factory=set)
    _order: deque[tuple[float, tuple[str, str]]] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def use(self, access_key_id: str, nonce: str, now: float) -> bool:
        """Record ``nonce``; ``False`` if it was already used by this key inside the window."""
        key = (access_key_id, nonce)
        with self._lock:
            while self._order and self._order[0][0] <= now:
                self._seen.discard(self._order.popleft()[1])
            if key in self._seen:
                return False
            self._seen.add(key)
            self._order.append((now + self.window_seconds, key))
            return True


class Verifier:
    """Checks a request's V3 signature against the secret of the key it names.

    ``lookup`` returns the :class:`AccessKey` for an id, or ``None`` when the id is unknown.
    ``wall_time`` is the clock ``x-acs-date`` is compared with (the real one: the SDK stamps real time).
    """

    def __init__(
        self,
        lookup: Callable[[str], AccessKey | None],
        wall_time: Callable[[], float] = time.time,
    ) -> None:
        """Verify against keys from ``lookup``, dates against ``wall_time``."""
        self._lookup = lookup
        self._wall_time = wall_time
        self._nonces = NonceCache()

    def verify(self, request: SignedRequest) -> str:
        """Return the verified access key id, or raise :class:`ApiError` with the cloud's code."""
        header = request.header("authorization")
        if header is None:
            raise missing_parameter("Authorization")
        auth = parse_authorization(header)
        now = self._wall_time()
        self._check_date(request.header("x-acs-date"), now)
        nonce = request.header("x-acs-signature-nonce")
        if not nonce:
            raise missing_parameter("x-acs-signature-nonce")
        if request.header("x-acs-content-sha256") is None:
            raise missing_parameter("x-acs-content-sha256")
        self._check_signed_headers(auth, request)

        key = self._lookup(auth.access_key_id)
        if key is None:
            raise api_error("InvalidAccessKeyId.NotFound")
        if not key.active:
            raise api_error("InvalidAccessKeyId.Inactive")

        payload_hash = hashlib.sha256(request.body).hexdigest()
        to_sign = string_to_sign(canonical_request(request, auth.signed_headers, payload_hash))
        if not hmac.compare_digest(signature_for(key.secret, to_sign), auth.signature.lower()):
            # The cloud echoes its string to sign to help debug a signer; it holds no secret.
            raise api_error(
                "SignatureDoesNotMatch",
                f"Specified signature is not matched with our calculation. server string to sign is:{to_sign}",
            )
        check_security_token(key, request.header("x-acs-security-token"))
        if not self._nonces.use(auth.access_key_id, nonce, now):
            raise api_error("SignatureNonceUsed")
        return auth.access_key_id

    def verify_rpc(self, method: str, params: Mapping[str, str]) -> str:
        """Check an RPC (HMAC-SHA1, ``SignatureVersion=1.0``) signature; return the verified access key id.

        ``params`` are every request parameter (query and form body). A problem is refused by name: a missing
        signature parameter, a method or version not emulated, an expired or malformed timestamp, an unknown key,
        a signature that does not match (with the string to sign, as the cloud shows it), a nonce used before.
        """
        for name in ("Signature", *RPC_SIGNATURE_PARAMETERS):
            if not params.get(name):
                raise missing_parameter(name)
        if params["SignatureMethod"] != RPC_SIGNATURE_METHOD:
            raise _incomplete(
                f"SignatureMethod {params['SignatureMethod']!r} is not emulated: {RPC_SIGNATURE_METHOD}, "
                f"or sign with {ALGORITHM}."
            )
        if params["SignatureVersion"] != RPC_SIGNATURE_VERSION:
            raise _incomplete(
                f"SignatureVersion {params['SignatureVersion']!r} is not emulated: {RPC_SIGNATURE_VERSION}."
            )
        now = self._wall_time()
        self._check_date(params["Timestamp"], now)
        access_key_id = params["AccessKeyId"]
        key = self._lookup(access_key_id)
        if key is None:
            raise api_error("InvalidAccessKeyId.NotFound")
        if not key.active:
            raise api_error("InvalidAccessKeyId.Inactive")
        to_sign = rpc_string_to_sign(method, params)
        if not hmac.compare_digest(rpc_signature_for(key.secret, to_sign), params["Signature"]):
            raise api_error(
                "SignatureDoesNotMatch",
                f"Specified signature is not matched with our calculation. server string to sign is:{to_sign}",
            )
        check_security_token(key, params.get("SecurityToken"))
        if not self._nonces.use(access_key_id, params["SignatureNonce"], now):
            raise api_error("SignatureNonceUsed")
        return access_key_id

    @staticmethod
    def _check_date(value: str | None, now: float) -> None:
        if not value:
            raise missing_parameter("x-acs-date")
        try:
            stamp = datetime.strptime(value, _DATE_FORMAT).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            raise api_error(
                "InvalidTimeStamp.Format",
                f"Specified time stamp or date value is not well formatted: {value!r} "
                "(expected yyyy-MM-ddTHH:mm:ssZ in UTC).",
            ) from None
        if abs(now - stamp) > MAX_CLOCK_SKEW_SECONDS:
            raise api_error("InvalidTimeStamp.Expired")

    @staticmethod
    def _check_signed_headers(auth: Authorization, request: SignedRequest) -> None:
        signed = set(auth.signed_headers)
        if any(name != name.lower() or not name for name in auth.signed_headers):
            raise _incomplete("SignedHeaders must be lower-case header names separated by ';'.")
        must = {name for name in request.headers if name.startswith("x-acs-")}
        must.update(_ALWAYS_SIGNED)
        unsigned = sorted(must - signed)
        if unsigned:
            raise _incomplete(f"These headers must be signed: {', '.join(unsigned)}.")
        absent = sorted(name for name in signed if name not in request.headers)
        if absent:
            raise _incomplete(f"Signed headers missing from the request: {', '.join(absent)}.")


def _incomplete(detail: str) -> ApiError:
    return api_error("IncompleteSignature", f"The request signature does not conform to Aliyun standards. {detail}")
