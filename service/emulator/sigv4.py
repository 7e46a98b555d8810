"""SigV4 Authorization header checks, reusing botocore's signer for the maths."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from multidict import CIMultiDictProxy

from service.emulator.model import ApiError

if TYPE_CHECKING:
    from service.emulator.sts import CredentialRegistry

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


def expired_token() -> ApiError:
    return ApiError("ExpiredToken", "The security token included in the request is expired", 403)


def wrong_service(service: str) -> ApiError:
    return signature_mismatch(f"Credential should be scoped to correct service: '{service}'. ")


def signature_mismatch(message: str | None = None) -> ApiError:
    return ApiError(
        "SignatureDoesNotMatch",
        message
        or "The request signature we calculated does not match the signature you provided. "
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


def access_key_of(headers: CIMultiDictProxy[str]) -> str | None:
    """The access key id a request claims to be signed with, or None if it has none."""
    header = headers.get("Authorization")
    if not header:
        return None
    try:
        return parse_authorization(header).access_key
    except ApiError:
        return None


class Authenticator:
    """Checks that a request is signed, and the signature when credentials are known.

    Known credentials are the static ``credentials`` (with ``session_token`` when given)
    and, with a ``registry``, the temporary ones it issued: those need their own session
    token in ``X-Amz-Security-Token`` and are refused once expired. With no static
    credentials, any well-formed signature by a key the registry does not know passes.
    """

    def __init__(
        self,
        credentials: Mapping[str, str] | None,
        session_token: str | None = None,
        *,
        registry: CredentialRegistry | None = None,
        service: str = _SERVICE,
    ) -> None:
        self._credentials = dict(credentials) if credentials is not None else None
        self._session_token = session_token
        self._registry = registry
        self._service = service

    def check(
        self,
        method: str,
        raw_path: str,
        headers: CIMultiDictProxy[str],
        body: bytes,
    ) -> str:
        """Raise the error AWS would answer with; return the access key id that signed."""
        header = headers.get("Authorization")
        if not header:
            raise missing_token()
        parsed = parse_authorization(header)
        amz_date = headers.get("X-Amz-Date")
        if not amz_date:
            raise _incomplete("Authorization header requires existence of an 'X-Amz-Date' header.")
        secret, token = self._secret(parsed.access_key)
        if secret is None:
            return parsed.access_key
        if token is not None and not hmac.compare_digest(
            headers.get("X-Amz-Security-Token", "").encode(), token.encode()
        ):
            raise invalid_token()
        # After the token check, as AWS does: a wrong token is invalid, not expired.
        registry = self._registry
        temporary = registry.lookup(parsed.access_key) if registry is not None else None
        if registry is not None and temporary is not None and registry.is_expired(temporary):
            raise expired_token()
        if parsed.service != self._service:
            raise wrong_service(self._service)
        expected = _expected_signature(
            parsed, secret, self._service, method, raw_path, headers, body, amz_date.strip()
        )
        if not hmac.compare_digest(expected.encode(), parsed.signature.encode()):
            raise signature_mismatch()
        return parsed.access_key

    def _secret(self, access_key: str) -> tuple[str | None, str | None]:
        """(secret, required session token) of a known key; (None, None) when unverifiable.

        Raises InvalidClientTokenId for a key that cannot be known.
        """
        temporary = self._registry.lookup(access_key) if self._registry is not None else None
        if temporary is not None:
            return temporary.secret_access_key, temporary.session_token
        if self._credentials is None:
            return None, None
        secret = self._credentials.get(access_key)
        if secret is None:
            raise invalid_token()
        return secret, self._session_token


def _expected_signature(
    parsed: ParsedAuthorization,
    secret: str,
    service: str,
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
    signer = SigV4Auth(Credentials(parsed.access_key, secret), service, parsed.region)
    canonical = signer.canonical_request(request)
    string_to_sign = signer.string_to_sign(request, canonical)
    result: str = signer.signature(string_to_sign, request)
    return result
