"""SigV4 Authorization header checks, reusing botocore's signer for the maths."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from multidict import CIMultiDictProxy

from service.emulator.model import ApiError

_ALGORITHM: Final = "AWS4-HMAC-SHA256"
_SERVICE: Final = "cloudfront"


def missing_token() -> ApiError:
    return ApiError("MissingAuthenticationToken", "Missing Authentication Token", 403)


def _incomplete(message: str) -> ApiError:
    return ApiError("IncompleteSignature", message, 403)


def invalid_token() -> ApiError:
    return ApiError(
        "InvalidClientTokenId", "The security token included in the request is invalid.", 403
    )


def signature_mismatch() -> ApiError:
    return ApiError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method.",
        403,
    )


@dataclass(frozen=True, slots=True)
class ParsedAuthorization:
    access_key: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str) -> ParsedAuthorization:
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != _ALGORITHM:
        raise _incomplete(f"Unsupported authorization algorithm; expected {_ALGORITHM}.")
    params: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, item = part.strip().partition("=")
        if sep:
            params[key] = item.strip()
    for required in ("Credential", "SignedHeaders", "Signature"):
        if not params.get(required):
            raise _incomplete(f"Authorization header requires '{required}' parameter.")
    scope = params["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request" or not all(scope):
        raise _incomplete(
            "Credential must have the form <access key id>/<date>/<region>/<service>/aws4_request."
        )
    return ParsedAuthorization(
        access_key=scope[0],
        date=scope[1],
        region=scope[2],
        service=scope[3],
        signed_headers=tuple(h.strip().lower() for h in params["SignedHeaders"].split(";")),
        signature=params["Signature"],
    )


class Authenticator:
    """Checks that a request is signed, and the signature when credentials are known."""

    def __init__(
        self, credentials: Mapping[str, str] | None, session_token: str | None = None
    ) -> None:
        self._credentials = dict(credentials) if credentials is not None else None
        self._session_token = session_token

    def check(
        self,
        method: str,
        raw_path: str,
        headers: CIMultiDictProxy[str],
        body: bytes,
    ) -> None:
        header = headers.get("Authorization")
        if not header:
            raise missing_token()
        parsed = parse_authorization(header)
        amz_date = headers.get("X-Amz-Date")
        if not amz_date:
            raise _incomplete("Authorization header requires existence of an 'X-Amz-Date' header.")
        if self._credentials is None:
            return
        secret = self._credentials.get(parsed.access_key)
        if secret is None:
            raise invalid_token()
        if self._session_token is not None and (
            headers.get("X-Amz-Security-Token") != self._session_token
        ):
            raise invalid_token()
        expected = _expected_signature(
            parsed, secret, method, raw_path, headers, body, amz_date.strip()
        )
        if not hmac.compare_digest(expected.encode(), parsed.signature.encode()):
            raise signature_mismatch()


def _expected_signature(
    parsed: ParsedAuthorization,
    secret: str,
    method: str,
    raw_path: str,
    headers: CIMultiDictProxy[str],
    body: bytes,
    amz_date: str,
) -> str:
    # Only the headers the client claims to have signed; anything a proxy or the
    # HTTP stack added on the way must not take part in the canonical request.
    request = AWSRequest(
        method=method, url=f"http://{headers.get('Host', '')}{raw_path}", data=body
    )
    for name in parsed.signed_headers:
        for value in headers.getall(name, []):
            request.headers[name] = value
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(parsed.access_key, secret), _SERVICE, parsed.region)
    canonical = signer.canonical_request(request)
    string_to_sign = signer.string_to_sign(request, canonical)
    result: str = signer.signature(string_to_sign, request)
    return result
