"""Background tasks stop for certain, even one that swallowed a cancellation."""

from __future__ import annotations

import asyncio

from telehub.tasks import stop


async def test_stop_ends_a_task_that_swallowed_its_first_cancellation() -> None:
    swallowed = 0

    async def stubborn() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed += 1  # as Python 3.11's wait_for can, when its inner await completes

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    # The bound only keeps a broken stop() from hanging the suite; it is not a time limit.
    await asyncio.wait_for(stop(task), 30)
    assert task.cancelled()
    assert swallowed == 1


async def test_stop_of_a_finished_task_returns_and_a_failure_is_raised() -> None:
    async def fails() -> None:
        raise RuntimeError("boom")

    task = asyncio.create_task(fails())
    await asyncio.sleep(0)
    try:
        await stop(task)
    except RuntimeError as exc:
        assert str(exc) == "boom"
    else:
        raise AssertionError("the task's own failure must not be hidden")
