"""What the one-statement reads and writes of bookings, moves, series and enrolments share
(issue 16): the Idempotency-Key's kept answer, read in the statement that reads the facts,
and the tail of the statement that writes: its audit rows and the answer kept (telehub's
SQL functions of migration 024). Their SQL text is made here, with $n parameters only."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from telehub.audit import Trail
from telehub.idempotency import Claim

Kept = tuple[bytes | None, int | None, str | None]  # request hash, status, body: all None if none

# The kept answer's columns, from the join of kept_join.
KEPT_COLUMNS = """k.request_hash AS kept_hash_, k.response_status AS kept_status_,
            k.response_body AS kept_body_"""


def kept_join(first: int) -> str:
    """The join that reads the kept answer of the (owner, key) in ${first} and ${first + 1}:
    the values of key_args."""
    return f"LEFT JOIN LATERAL idempotency_answer(${first}, ${first + 1}) k ON true"


def key_args(key: tuple[str, str] | None) -> tuple[str | None, str | None]:
    """The (owner, key) whose kept answer kept_join reads: none without a key."""
    return (key[0], key[1]) if key else (None, None)


def kept_in(row: asyncpg.Record) -> Kept:
    """The kept answer among a read's KEPT_COLUMNS."""
    return (row["kept_hash_"], row["kept_status_"], row["kept_body_"])


@dataclass(frozen=True, slots=True)
class Keep:
    """A success's answer to keep for its Idempotency-Key, written with the work."""

    owner: str
    key: str
    request_hash: bytes
    status: int
    body: str

    @classmethod
    def of(cls, claim: Claim, status: int, body: str) -> Keep:
        """The answer `status` and `body` kept for the claimed key."""
        return cls(claim.owner, claim.key, claim.request_hash, status, body)


@dataclass(frozen=True, slots=True)
class Tail:
    """The end of a one-statement write: its audit rows (audit_write) and, with `keep`, the
    key's answer (idempotency_keep), whose parameters (args) follow the statement's own from
    ${first} on."""

    trail: Trail
    keep: Keep | None
    first: int

    def audit(self, action: str, record_type: str, ids: str, spoke: str) -> str:
        """audit_write for the rows `ids` (a text[] expression) of the clinic `spoke`."""
        n = self.first
        return f"audit_write(${n}, '{action}', '{record_type}', {ids}, {spoke}, ${n + 1}, ${n + 2})"

    def kept(self) -> str:
        """idempotency_keep of the answer, when there is one to keep."""
        n = self.first + 3
        return (
            f"CASE WHEN ${n} THEN idempotency_keep(${n + 1}, ${n + 2}, ${n + 3}, ${n + 4},"
            f" ${n + 5}) END"
        )

    def args(self) -> tuple[object, ...]:
        """The values of the tail's parameters, in order."""
        kept = self.keep or Keep("", "", b"", 0, "")
        return (
            self.trail.actor,
            self.trail.request_id,
            self.trail.remote_addr,
            self.keep is not None,
            kept.owner,
            kept.key,
            kept.request_hash,
            kept.status,
            kept.body,
        )
