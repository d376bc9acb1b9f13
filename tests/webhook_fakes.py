"""Fakes for webhook delivery tests: a DNS that answers what the test says, a socket recorder.

With these, a test sees where a webhook would have gone without connecting anywhere.
"""

from __future__ import annotations

import socket

from aiohttp.abc import AbstractResolver, ResolveResult

from consults.webhook_address import AddrInfo


class FakeResolver(AbstractResolver):
    """Answers from a dictionary, the way a DNS that an attacker controls might."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in self.answers[host]
        ]

    async def close(self) -> None:
        """Nothing to close."""


class SocketRecorder:
    """A socket maker for the webhook connector that notes each address it is asked for."""

    def __init__(self) -> None:
        self.made: list[str] = []

    def __call__(self, addr_info: AddrInfo) -> socket.socket:
        self.made.append(str(addr_info[4][0]))
        return socket.socket(addr_info[0], addr_info[1], addr_info[2])
