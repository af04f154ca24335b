"""Fixtures for the probe tests; the servers and certificate helpers live in probe_servers.py."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest

from harness.pki.issue import (
    EC_P256,
    issue_client_cert,
    issue_server_cert,
    make_ca,
    write_cert_pem,
    write_pair,
)
from tests.probe.probe_servers import Behaviour, ProbePKI, ScriptedServer, write_files


@pytest.fixture(scope="session")
def probe_pki(tmp_path_factory: pytest.TempPathFactory) -> ProbePKI:
    directory = tmp_path_factory.mktemp("probe-pki")
    ca = make_ca(common_name="probe test CA", key_spec=EC_P256)
    ca_path = write_cert_pem(directory / "ca.pem", ca.cert)
    client = write_files(
        directory / "client", issue_client_cert(ca=ca, name="ecal", sc_ids=("ECAL",), key_spec=EC_P256), ca
    )
    server_cert, server_key = write_pair(directory / "server", issue_server_cert(ca=ca, key_spec=EC_P256))
    return ProbePKI(
        directory=directory,
        ca=ca_path,
        ca_issued=ca,
        client=client,
        server_cert=server_cert,
        server_key=server_key,
    )


@pytest.fixture
def serve() -> Iterator[Callable[[Behaviour], ScriptedServer]]:
    started: list[ScriptedServer] = []

    def start(behaviour: Behaviour) -> ScriptedServer:
        server = ScriptedServer(behaviour)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture
def free_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
