"""SIP over TCP (RFC 3261 §18.3): one connection to the next hop, messages framed by their
Content-Length. It stands in for the UDP socket of a call: ``sendto`` writes to the connection
(the address is that of the connection's peer), and what arrives is handed to the call's inbox
like a datagram, or a ``ConnectionError`` once the peer closes."""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any, Protocol

_LENGTH = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*\r?$", re.I | re.M)
MAX_MESSAGE = 65_536  # bytes: a header block or body larger than this is not SIP we take


class SipTransport(Protocol):
    def sendto(self, data: bytes, addr: Any = None) -> None: ...

    def close(self) -> None: ...


class TcpConnection:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        inbox: asyncio.Queue[Any],
    ) -> None:
        self.reader, self.writer, self.inbox = reader, writer, inbox
        self.peer: tuple[str, int] = writer.get_extra_info("peername")[:2]
        self.port: int = writer.get_extra_info("sockname")[1]
        self._reading = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(
        cls, host: str, port: int, local_ip: str, inbox: asyncio.Queue[Any]
    ) -> TcpConnection:
        reader, writer = await asyncio.open_connection(host, port, local_addr=(local_ip, 0))
        return cls(reader, writer, inbox)

    def sendto(self, data: bytes, addr: Any = None) -> None:
        self.writer.write(data)

    async def _read(self) -> None:
        try:
            while True:
                head = await self.reader.readuntil(b"\r\n\r\n")
                head = head.lstrip(b"\r\n")  # keep-alive CRLFs between messages (RFC 5626)
                if not head:
                    continue
                found = _LENGTH.search(head)
                length = int(found.group(1)) if found else 0
                if len(head) > MAX_MESSAGE or length > MAX_MESSAGE:
                    raise ConnectionError("a message too large for SIP")
                body = await self.reader.readexactly(length) if length else b""
                self.inbox.put_nowait(("sip", head + body, self.peer))
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError) as end:
            self.inbox.put_nowait(("sip", ConnectionError(f"connection closed: {end!r}"), None))

    def close(self) -> None:
        self._reading.cancel()
        with contextlib.suppress(Exception):
            self.writer.close()
