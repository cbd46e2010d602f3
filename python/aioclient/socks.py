"""SOCKS handshakes (SOCKS4/4a, and SOCKS5 per RFC 1928 with RFC 1929 login) on a socket.

Runs on the raw non-blocking socket before it becomes an asyncio transport; after it,
the socket is a plain byte pipe to the target, ready for TLS and HTTP.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import struct
from typing import Optional

from .exceptions import ClientProxyConnectionError

__all__ = ("SOCKS_SCHEMES", "socks_handshake")

SOCKS_SCHEMES = frozenset({"socks4", "socks4a", "socks5", "socks5h"})

_SOCKS5_ERRORS = {
    1: "general SOCKS server failure",
    2: "connection not allowed by ruleset",
    3: "network unreachable",
    4: "host unreachable",
    5: "connection refused",
    6: "TTL expired",
    7: "command not supported",
    8: "address type not supported",
}


class SocksError(OSError):
    """The SOCKS proxy refused or broke the handshake."""


async def _recv_exactly(loop: asyncio.AbstractEventLoop, sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = await loop.sock_recv(sock, n - len(data))
        if not chunk:
            raise SocksError(0, "SOCKS proxy closed the connection during the handshake")
        data += chunk
    return data


async def socks_handshake(
    loop: asyncio.AbstractEventLoop,
    sock: socket.socket,
    scheme: str,
    host: str,
    port: int,
    username: Optional[str],
    password: Optional[str],
    resolved_ip: Optional[str],
) -> None:
    """Ask the proxy on ``sock`` to connect to ``host:port``.

    ``socks4``/``socks5`` send ``resolved_ip`` (resolved here); ``socks4a``/``socks5h``
    send the name and let the proxy resolve it.
    """
    if scheme in ("socks5", "socks5h"):
        await _socks5(loop, sock, host if scheme == "socks5h" else (resolved_ip or host), port, username, password)
    else:
        await _socks4(loop, sock, host, port, username, resolved_ip if scheme == "socks4" else None)


async def _socks5(loop, sock, host, port, username, password) -> None:  # type: ignore[no-untyped-def]
    methods = b"\x00\x02" if username is not None else b"\x00"
    await loop.sock_sendall(sock, b"\x05" + bytes([len(methods)]) + methods)
    version, method = await _recv_exactly(loop, sock, 2)
    if version != 5:
        raise SocksError(0, "not a SOCKS5 proxy")
    if method == 2:  # RFC 1929 username/password
        user = (username or "").encode()
        pwd = (password or "").encode()
        if len(user) > 255 or len(pwd) > 255:
            raise SocksError(0, "SOCKS5 credentials are limited to 255 bytes each")
        await loop.sock_sendall(sock, b"\x01" + bytes([len(user)]) + user + bytes([len(pwd)]) + pwd)
        _, status = await _recv_exactly(loop, sock, 2)
        if status != 0:
            raise SocksError(0, "SOCKS5 authentication failed")
    elif method != 0:
        raise SocksError(0, "SOCKS5 proxy accepts none of our authentication methods")
    try:
        addr = ipaddress.ip_address(host)
        atyp = b"\x01" if addr.version == 4 else b"\x04"
        target = atyp + addr.packed
    except ValueError:
        name = host.encode("idna")
        target = b"\x03" + bytes([len(name)]) + name
    await loop.sock_sendall(sock, b"\x05\x01\x00" + target + struct.pack("!H", port))
    version, reply, _, atyp_reply = await _recv_exactly(loop, sock, 4)
    if reply != 0:
        raise SocksError(0, f"SOCKS5 proxy: {_SOCKS5_ERRORS.get(reply, f'error {reply}')}")
    # Skip the bound address in the reply.
    if atyp_reply == 1:
        await _recv_exactly(loop, sock, 4 + 2)
    elif atyp_reply == 4:
        await _recv_exactly(loop, sock, 16 + 2)
    else:
        (length,) = await _recv_exactly(loop, sock, 1)
        await _recv_exactly(loop, sock, length + 2)


async def _socks4(loop, sock, host, port, username, resolved_ip) -> None:  # type: ignore[no-untyped-def]
    user = (username or "").encode() + b"\x00"
    if resolved_ip is not None:
        request = b"\x04\x01" + struct.pack("!H", port) + socket.inet_aton(resolved_ip) + user
    else:  # SOCKS4a: 0.0.0.x and the name after the user id
        request = b"\x04\x01" + struct.pack("!H", port) + b"\x00\x00\x00\x01" + user + host.encode("idna") + b"\x00"
    await loop.sock_sendall(sock, request)
    _, status = (await _recv_exactly(loop, sock, 8))[:2]
    if status != 0x5A:
        raise SocksError(0, f"SOCKS4 proxy refused the connection (code {status:#x})")


def as_proxy_error(key, exc: OSError) -> ClientProxyConnectionError:  # type: ignore[no-untyped-def]
    """The exception a failed SOCKS handshake surfaces as."""
    return ClientProxyConnectionError(key, exc)
