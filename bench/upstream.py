"""A minimal, fast CloudFront OAI responder for benchmarks: ``python -m bench.upstream``.

It speaks just enough of the REST-XML API for the benchmark workload — for origin access
identities Get, Get config, Update with If-Match, List; for origin access controls Get and
List — over HTTP/1.1 keep-alive on a bare asyncio protocol, so each call costs the upstream a
few tens of microseconds. Paths and the namespace come from botocore's model (through the
emulator's :mod:`service.emulator.model`), the OAC documents from its shapes, encoded once.
It checks no signature: the clients still sign every request (that cost is theirs and is
measured), and the upstream's own cost is not what the benchmark is about.

Identities and controls are pre-seeded with fixed ids; identities' ETags are real (If-Match is
enforced, every update makes a new one), so the facade's and the direct client's
read-modify-write loop is genuine.

Control: ``POST /_bench/latency?seconds=0.1`` adds latency to every later response. The
process prints its port on stdout once listening and exits on SIGTERM or when stdin closes
(its parent, the harness, has gone).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qs

from service.emulator import model, wire

NAMESPACE = model.namespace()
OAI_PATH: str = model.operation("ListCloudFrontOriginAccessIdentities").http["requestUri"]
OAC_PATH: str = model.operation("ListOriginAccessControls").http["requestUri"]
_XML = '<?xml version="1.0" encoding="UTF-8"?>\n'


def identity_id(index: int) -> str:
    """Fixed, valid-looking ids (A-Z0-9, 14 characters like real ones)."""
    return f"EBENCH{index:08d}"


def control_id(index: int) -> str:
    return f"EBOAC{index:09d}"


def _payload(operation: str, value: dict[str, Any]) -> bytes:
    """The operation's response document (its payload member is ``value``), from the shapes."""
    shape = model.operation(operation).output_shape
    name = model.payload_member(shape)
    assert name is not None
    member = shape.members[name]
    return wire.encode(member, model.element_name(name, member), value)


@dataclass(slots=True)
class Identity:
    id: str
    canonical_user: str
    caller_reference: str
    comment: str
    version: int = 1

    @property
    def etag(self) -> str:
        return f"E{self.version:013d}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _between(body: str, tag: str) -> str | None:
    start = body.find(f"<{tag}>")
    if start < 0:
        return None
    start += len(tag) + 2
    end = body.find(f"</{tag}>", start)
    return None if end < 0 else _unescape(body[start:end])


class Store:
    def __init__(self, count: int) -> None:
        self.items: dict[str, Identity] = {}
        for index in range(1, count + 1):
            ident = identity_id(index)
            self.items[ident] = Identity(
                ident, f"{index:096x}", f"bench-ref-{index}", f"bench identity {index}"
            )
        self.order = sorted(self.items)
        controls: list[dict[str, Any]] = [
            {
                "Id": control_id(index),
                "OriginAccessControlConfig": {
                    "Name": f"bench-oac-{index}",
                    "Description": f"bench control {index}",
                    "SigningProtocol": "sigv4",
                    "SigningBehavior": "always",
                    "OriginAccessControlOriginType": "s3",
                },
            }
            for index in range(1, count + 1)
        ]
        # Read-only in the workload: each document is encoded once, at start.
        self.controls = {
            control["Id"]: _payload("GetOriginAccessControl", control) for control in controls
        }
        summaries = [{"Id": c["Id"]} | c["OriginAccessControlConfig"] for c in controls]
        self.control_list = _payload(
            "ListOriginAccessControls",
            {
                "Marker": "",
                "MaxItems": 100,
                "IsTruncated": False,
                "Quantity": len(summaries),
                "Items": summaries,
            },
        )
        self.latency = 0.0
        self._request = 0

    def request_id(self) -> str:
        self._request += 1
        return f"bench-{self._request:012d}"

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        path, _, query = target.partition("?")
        if path == OAI_PATH and method == "GET":
            return self._list(parse_qs(query))
        if path.startswith(OAI_PATH + "/"):
            ident, _, rest = path[len(OAI_PATH) + 1 :].partition("/")
            item = self.items.get(ident)
            if item is None:
                return _error(
                    404,
                    "NoSuchCloudFrontOriginAccessIdentity",
                    f"The specified origin access identity does not exist: {ident}",
                )
            if method == "GET" and not rest:
                return 200, {"ETag": item.etag}, _identity_xml(item)
            if method == "GET" and rest == "config":
                return (
                    200,
                    {"ETag": item.etag},
                    (
                        f'{_XML}<CloudFrontOriginAccessIdentityConfig xmlns="{NAMESPACE}">'
                        f"{_config_xml(item)}</CloudFrontOriginAccessIdentityConfig>"
                    ).encode(),
                )
            if method == "PUT" and rest == "config":
                return self._update(item, headers.get("if-match"), body.decode())
        if path == OAC_PATH and method == "GET":
            return 200, {}, self.control_list
        if path.startswith(OAC_PATH + "/") and method == "GET":
            document = self.controls.get(path[len(OAC_PATH) + 1 :])
            if document is None:
                return _error(
                    404, "NoSuchOriginAccessControl", "The origin access control does not exist."
                )
            return 200, {"ETag": "E0000000000001"}, document
        if path == "/_bench/latency" and method == "POST":
            self.latency = float(parse_qs(query).get("seconds", ["0"])[0])
            return 200, {}, b"{}"
        return _error(501, "NotImplemented", f"{method} {path} is not served by the bench stub")

    def _update(
        self, item: Identity, if_match: str | None, body: str
    ) -> tuple[int, dict[str, str], bytes]:
        if if_match != item.etag:
            return _error(
                412,
                "PreconditionFailed",
                "The precondition given in one or more "
                "of the request-header fields evaluated to false.",
            )
        reference, comment = _between(body, "CallerReference"), _between(body, "Comment")
        if reference != item.caller_reference or comment is None:
            return _error(400, "IllegalUpdate", "CallerReference cannot change.")
        item.comment = comment
        item.version += 1
        return 200, {"ETag": item.etag}, _identity_xml(item)

    def _list(self, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        marker = query.get("Marker", [""])[0]
        max_items = int(query.get("MaxItems", ["100"])[0])
        start = 0
        if marker:
            start = next(
                (i + 1 for i, key in enumerate(self.order) if key == marker), len(self.order)
            )
        page = self.order[start : start + max_items]
        truncated = start + max_items < len(self.order)
        parts = [
            f'{_XML}<CloudFrontOriginAccessIdentityList xmlns="{NAMESPACE}">'
            f"<Marker>{_escape(marker)}</Marker>"
        ]
        if truncated and page:
            parts.append(f"<NextMarker>{page[-1]}</NextMarker>")
        parts.append(
            f"<MaxItems>{max_items}</MaxItems>"
            f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>"
            f"<Quantity>{len(page)}</Quantity>"
        )
        if page:
            parts.append("<Items>")
            for key in page:
                item = self.items[key]
                parts.append(
                    f"<CloudFrontOriginAccessIdentitySummary><Id>{item.id}</Id>"
                    f"<S3CanonicalUserId>{item.canonical_user}</S3CanonicalUserId>"
                    f"<Comment>{_escape(item.comment)}</Comment>"
                    "</CloudFrontOriginAccessIdentitySummary>"
                )
            parts.append("</Items>")
        parts.append("</CloudFrontOriginAccessIdentityList>")
        return 200, {}, "".join(parts).encode()


def _config_xml(item: Identity) -> str:
    return (
        f"<CallerReference>{_escape(item.caller_reference)}</CallerReference>"
        f"<Comment>{_escape(item.comment)}</Comment>"
    )


def _identity_xml(item: Identity) -> bytes:
    return (
        f'{_XML}<CloudFrontOriginAccessIdentity xmlns="{NAMESPACE}"><Id>{item.id}</Id>'
        f"<S3CanonicalUserId>{item.canonical_user}</S3CanonicalUserId>"
        f"<CloudFrontOriginAccessIdentityConfig>{_config_xml(item)}"
        "</CloudFrontOriginAccessIdentityConfig></CloudFrontOriginAccessIdentity>"
    ).encode()


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    kind = "Receiver" if status >= 500 else "Sender"
    return (
        status,
        {},
        (
            f'{_XML}<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>{kind}</Type>'
            f"<Code>{code}</Code><Message>{_escape(message)}</Message></Error>"
            "</ErrorResponse>"
        ).encode(),
    )


class Connection(asyncio.Protocol):
    """HTTP/1.1 keep-alive with Content-Length bodies: all that aiohttp's client sends here."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._continued = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self._transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while self._transport is not None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self._buffer[:end].decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if "chunked" in headers.get("transfer-encoding", ""):
                self._send(*_error(501, "NotImplemented", "chunked bodies"), close=True)
                return
            length = int(headers.get("content-length", "0"))
            if len(self._buffer) < end + 4 + length:
                if headers.get("expect", "").lower() == "100-continue" and not self._continued:
                    self._continued = True
                    self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                return
            self._continued = False
            body = bytes(self._buffer[end + 4 : end + 4 + length])
            del self._buffer[: end + 4 + length]
            status, extra, payload = self._store.handle(method, target, headers, body)
            close = headers.get("connection", "").lower() == "close"
            if self._store.latency > 0:
                # Equal delays fire in order, so responses on a connection stay in order.
                asyncio.get_running_loop().call_later(
                    self._store.latency, self._send, status, extra, payload, close
                )
            else:
                self._send(status, extra, payload, close)

    def _send(
        self, status: int, extra: dict[str, str], payload: bytes, close: bool = False
    ) -> None:
        if self._transport is None:
            return
        head = [
            f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}",
            "Content-Type: text/xml",
            f"Content-Length: {len(payload)}",
            f"x-amzn-RequestId: {self._store.request_id()}",
        ]
        head.extend(f"{name}: {value}" for name, value in extra.items())
        if close:
            head.append("Connection: close")
        self._transport.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        if close:
            self._transport.close()


async def serve(host: str, port: int, identities: int) -> None:
    store = Store(identities)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Connection(store), host, port, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    # Stdin closing means the harness is gone: never outlive it.
    with contextlib.suppress(Exception):
        fd = sys.stdin.fileno()
        loop.add_reader(fd, lambda: None if os.read(fd, 4096) else stop.set())
    async with server:
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.upstream", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--identities", type=int, default=16)
    args = parser.parse_args(argv)
    if not args.host.startswith("127.") and args.host not in ("localhost", "::1"):
        parser.error("loopback only")
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(args.host, args.port, args.identities))
    else:
        uvloop.run(serve(args.host, args.port, args.identities))
    return 0


if __name__ == "__main__":
    sys.exit(main())
