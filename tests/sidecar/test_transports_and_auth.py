"""Unix sockets, TLS, mTLS and bearer-token caller auth: refused callers never reach AWS."""

from __future__ import annotations

import stat
from pathlib import Path

import grpc
import pytest
import trustme

from service._gen.cloudfront.v1 import origin_access_identity_service_pb2 as pb
from service._gen.cloudfront.v1 import origin_access_identity_service_pb2_grpc as pb_grpc
from tests.conftest import FacadeFactory, error_info

LIST = pb.ListCloudFrontOriginAccessIdentitiesRequest()
TOKEN = "caller-token-0123456789"


async def _list(channel: grpc.aio.Channel, metadata: tuple[tuple[str, str], ...] = ()) -> None:
    await pb_grpc.OriginAccessIdentityServiceStub(channel).ListCloudFrontOriginAccessIdentities(
        LIST, metadata=metadata, timeout=5
    )


async def test_unix_socket_serves_and_is_private(
    facade_factory: FacadeFactory, tmp_path: Path
) -> None:
    socket = tmp_path / "facade.sock"
    async with facade_factory(listen=f"unix:{socket}") as facade:
        assert stat.S_IMODE(socket.stat().st_mode) == 0o600
        async with grpc.aio.insecure_channel(facade.address) as channel:
            await _list(channel)


async def test_unix_socket_mode_is_configurable(
    facade_factory: FacadeFactory, tmp_path: Path
) -> None:
    socket = tmp_path / "shared.sock"
    async with facade_factory(listen=f"unix:{socket}", unix_socket_mode=0o660):
        assert stat.S_IMODE(socket.stat().st_mode) == 0o660


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def pki(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pki")
    server = ca.issue_cert("localhost", "127.0.0.1")
    client = ca.issue_cert("app.example.internal")
    paths = {
        "ca": folder / "ca.pem",
        "cert": folder / "server.pem",
        "key": folder / "server.key",
        "client_cert": folder / "client.pem",
        "client_key": folder / "client.key",
    }
    ca.cert_pem.write_to_path(str(paths["ca"]))
    server.cert_chain_pems[0].write_to_path(str(paths["cert"]))
    server.private_key_pem.write_to_path(str(paths["key"]))
    client.cert_chain_pems[0].write_to_path(str(paths["client_cert"]))
    client.private_key_pem.write_to_path(str(paths["client_key"]))
    return paths


def _tls_channel(address: str, pki: dict[str, Path], with_client_cert: bool) -> grpc.aio.Channel:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=pki["ca"].read_bytes(),
        private_key=pki["client_key"].read_bytes() if with_client_cert else None,
        certificate_chain=pki["client_cert"].read_bytes() if with_client_cert else None,
    )
    return grpc.aio.secure_channel(
        address, credentials, options=(("grpc.ssl_target_name_override", "localhost"),)
    )


async def test_tls_serves_a_client_that_trusts_the_ca(
    facade_factory: FacadeFactory, pki: dict[str, Path]
) -> None:
    async with facade_factory(tls_cert=pki["cert"], tls_key=pki["key"]) as facade:
        async with _tls_channel(facade.address, pki, with_client_cert=False) as channel:
            await _list(channel)


async def test_mtls_refuses_a_client_without_a_certificate(
    facade_factory: FacadeFactory, pki: dict[str, Path]
) -> None:
    async with facade_factory(
        tls_cert=pki["cert"], tls_key=pki["key"], tls_client_ca=pki["ca"]
    ) as facade:
        assert facade.emulator is not None
        async with _tls_channel(facade.address, pki, with_client_cert=False) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await _list(channel)
        assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
        async with _tls_channel(facade.address, pki, with_client_cert=True) as channel:
            await _list(channel)
        assert len(facade.emulator.request_log) == 1, "only the certified client reached AWS"


async def test_plaintext_client_cannot_talk_to_a_tls_facade(
    facade_factory: FacadeFactory, pki: dict[str, Path]
) -> None:
    async with facade_factory(tls_cert=pki["cert"], tls_key=pki["key"]) as facade:
        async with grpc.aio.insecure_channel(facade.address) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await _list(channel)
    assert refused.value.code() is grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize(
    "metadata",
    [
        (),
        (("authorization", "Bearer wrong-token-0123456789"),),
        (("authorization", TOKEN),),  # the scheme is part of the credential
    ],
    ids=["missing", "wrong", "no-bearer-scheme"],
)
async def test_wrong_or_missing_token_is_unauthenticated_before_aws(
    facade_factory: FacadeFactory, metadata: tuple[tuple[str, str], ...]
) -> None:
    async with facade_factory(auth_token=TOKEN) as facade:
        assert facade.emulator is not None
        async with grpc.aio.insecure_channel(facade.address) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await _list(channel, metadata)
        assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
        assert error_info(refused.value).reason == "CALLER_UNAUTHENTICATED"
        assert facade.emulator.request_log == []


async def test_right_token_is_let_through(facade_factory: FacadeFactory, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    async with facade_factory(auth_token_file=token_file) as facade:
        async with grpc.aio.insecure_channel(facade.address) as channel:
            await _list(channel, (("authorization", f"Bearer {TOKEN}"),))
