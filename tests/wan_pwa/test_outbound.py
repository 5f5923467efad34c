"""The guard on requests to addresses users give us: only public https hosts, connected to at the
address that was checked, no redirects, a bounded answer. Real servers on 127.0.0.1 show what
is (and is not) reached."""

from __future__ import annotations

import ipaddress
import time

import pytest
import requests
from pytest_django import Settings

from tests.fixtures.local_servers import Answer, Listener, StartServer
from wan_pwa.outbound import (
    MAX_RESPONSE_BYTES,
    TOTAL_TIMEOUT_SECONDS,
    GuardedSession,
    RefusedURL,
    is_public,
    resolve,
)

# Each stands for the listener on 127.0.0.1, or for another private place on the network.
PRIVATE_URLS = [
    "https://127.0.0.1:{port}/",
    "https://localhost:{port}/",  # a name that resolves to 127.0.0.1
    "https://LocalHost.:{port}/",
    "https://2130706433:{port}/",  # 127.0.0.1 written as one number
    "https://0x7f.1:{port}/",
    "https://[::ffff:127.0.0.1]:{port}/",  # IPv4-mapped
    "https://[::127.0.0.1]:{port}/",  # IPv4-compatible
    "https://[64:ff9b::7f00:1]:{port}/",  # NAT64
    "https://[2002:7f00:1::]:{port}/",  # 6to4
    "https://[::1]:{port}/",
    "https://0.0.0.0:{port}/",
    "https://10.0.0.1/",
    "https://172.16.5.4/",
    "https://192.168.1.1/",
    "https://169.254.169.254/latest/meta-data/",  # the cloud metadata service
    "https://100.64.0.1/",  # shared address space
    "https://224.0.0.1/",
    "https://240.0.0.1/",
    "https://255.255.255.255/",
    "https://[fc00::1]/",
    "https://[fe80::1]/",
    "https://[ff02::1]/",
]


@pytest.mark.parametrize("template", PRIVATE_URLS)
def test_private_addresses_are_refused_and_never_connected_to(template: str, listener: Listener):
    url = template.format(port=listener.port)
    with pytest.raises(RefusedURL, match="not a public internet address"):
        resolve(url)
    with pytest.raises(RefusedURL), GuardedSession() as session:
        session.post(url, data=b"x")
    assert listener.accepted == 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://{host}:{port}/", "Only https addresses are accepted."),
        ("ftp://{host}:{port}/", "Only https addresses are accepted."),
        ("https://user:secret@{host}:{port}/", "user name or password"),
        ("https://:{port}/", "no host name"),
        ("https://{host}:99999/", "not a valid address"),
        ("https://no-such-host.invalid/", "could not be resolved"),
    ],
)
def test_other_addresses_are_refused_with_the_reason(url: str, message: str, listener: Listener):
    with pytest.raises(RefusedURL, match=message):
        resolve(url.format(host="127.0.0.1", port=listener.port))
    assert listener.accepted == 0


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str):
    assert is_public(ipaddress.ip_address(address))
    literal = f"[{address}]" if ":" in address else address
    destination = resolve(f"https://{literal}/push/1")
    assert destination.address == ipaddress.ip_address(address)


def test_a_named_private_host_is_allowed_only_through_the_setting(
    settings: Settings, start_server: StartServer
):
    server = start_server(Answer(201), host="localhost")
    with pytest.raises(RefusedURL), GuardedSession() as session:
        session.post(f"{server.url}/push")
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["localhost"]
    with GuardedSession() as session:
        assert session.post(f"{server.url}/push", data=b"hello").status_code == 201
    (received,) = server.received
    assert (received.path, received.body) == ("/push", b"hello")
    assert received.headers["host"] == server.url.removeprefix("http://")


def test_a_redirect_is_answered_not_followed(settings: Settings, start_server: StartServer):
    """Even to a host the setting allows: a redirect could otherwise reach any address."""
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["localhost"]
    inside = start_server(Answer(200, body=b"secret"), host="localhost")
    outside = start_server(
        Answer(307, headers={"Location": f"{inside.url}/admin"}), host="localhost"
    )
    with GuardedSession() as session:
        response = session.post(f"{outside.url}/push", data=b"x")
    assert response.status_code == 307
    assert len(outside.received) == 1
    assert inside.received == []


def test_tls_goes_to_the_checked_address_with_the_name_in_sni_and_the_certificate(
    settings: Settings, start_server: StartServer
):
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["localhost"]
    server = start_server(Answer(201), tls_name="localhost", host="localhost")
    with GuardedSession() as session:
        session.verify = server.ca_file
        assert session.post(f"{server.url}/push", data=b"x").status_code == 201
    assert server.server_names == ["localhost"]
    assert server.received[0].headers["host"] == server.url.removeprefix("https://")


def test_tls_refuses_a_certificate_for_another_name(settings: Settings, start_server):
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["localhost"]
    server = start_server(Answer(201), tls_name="push.example", host="localhost")
    with GuardedSession() as session, pytest.raises(requests.exceptions.SSLError):
        session.verify = server.ca_file
        session.post(f"{server.url}/push", data=b"x")
    assert server.received == []


def test_no_more_than_the_cap_of_an_answer_is_read(settings: Settings, start_server):
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["localhost"]
    server = start_server(Answer(500, body=b"x" * (4 * MAX_RESPONSE_BYTES)), host="localhost")
    with GuardedSession() as session:
        response = session.post(f"{server.url}/push")
    assert response.status_code == 500
    assert len(response.content) == MAX_RESPONSE_BYTES


def test_a_peer_dripping_its_answer_is_cut_off_at_the_total_timeout(
    settings: Settings, dripping: Listener
):
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["localhost"]
    started = time.monotonic()
    with GuardedSession() as session, pytest.raises(requests.exceptions.ConnectionError):
        session.post(f"http://localhost:{dripping.port}/push", data=b"x")
    assert dripping.accepted == 1
    assert time.monotonic() - started < TOTAL_TIMEOUT_SECONDS + 2
