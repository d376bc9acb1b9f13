"""Test databases cloned ahead of need.

Cloning the migrated template takes about 0.3 s on a small machine (the copy is CPU and I/O
inside PostgreSQL), and almost every test wants a fresh database. A thread of its own keeps a
few clones ready and drops the used ones, so that work overlaps the tests instead of adding to
each one. The thread has its own event loop and connection; a test takes a ready name (waiting
if none is ready yet) and gives it back when it ends.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import uuid

import asyncpg

AHEAD = 2  # clones kept ready: enough to hide one clone behind each test


class SpareDatabases:
    """Databases cloned from `template`, `AHEAD` kept ready; names only (the caller makes
    the URL)."""

    def __init__(self, admin_url: str, template: str) -> None:
        self._admin_url = admin_url
        self._template = template
        self._ready: queue.Queue[str] = queue.Queue()
        self._used: queue.Queue[str] = queue.Queue()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="spare-databases", daemon=True)
        self._thread.start()

    def take(self) -> str:
        """A fresh clone's name, waiting for one if none is ready."""
        while True:
            if self._failed is not None:
                raise RuntimeError("cloning a test database failed") from self._failed
            try:
                name = self._ready.get(timeout=0.5)
            except queue.Empty:
                continue
            self._wake.set()
            return name

    def give_back(self, name: str) -> None:
        """The test is done with `name`: it is dropped in the background."""
        self._used.put(name)
        self._wake.set()

    def close(self) -> None:
        """Stop cloning, and drop every clone made and every one given back."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=120)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._work())
        except BaseException as exc:  # surfaced to the next take()
            self._failed = exc
        finally:
            loop.close()

    async def _work(self) -> None:
        admin = await asyncpg.connect(self._admin_url)
        try:
            while not self._stop.is_set():
                await self._drop_used(admin)
                if self._ready.qsize() >= AHEAD:
                    await asyncio.to_thread(self._wake.wait, 0.2)
                    self._wake.clear()
                    continue
                name = "t_" + uuid.uuid4().hex[:16]
                await admin.execute(
                    f'CREATE DATABASE "{name}" TEMPLATE "{self._template}" STRATEGY FILE_COPY'
                )
                self._ready.put(name)
            while not self._ready.empty():
                self._used.put(self._ready.get())
            await self._drop_used(admin)
        finally:
            await admin.close()

    async def _drop_used(self, admin: asyncpg.Connection) -> None:
        while True:
            try:
                name = self._used.get_nowait()
            except queue.Empty:
                return
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
