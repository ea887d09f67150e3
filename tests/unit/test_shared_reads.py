"""One read per change per view: many pages asking for the same view at the same change share it."""

from __future__ import annotations

import asyncio
import time

from immtrax_portal.services.shared_reads import BatchedLookup, SharedReads


def test_a_hundred_pages_asking_for_the_same_view_and_change_cause_one_read():
    reads = SharedReads()
    calls = []

    def read():
        calls.append(1)
        time.sleep(0.05)   # a slow read: the others arrive while it runs
        return {"rows": [1, 2, 3]}

    async def main():
        return await asyncio.gather(*(reads.get(("dashboard", 7), 41, read) for _ in range(100)))

    results = asyncio.run(main())
    assert len(calls) == 1 and reads.reads == 1 and reads.shared == 99
    assert all(result == {"rows": [1, 2, 3]} for result in results)


def test_each_page_gets_its_own_copy_so_none_can_alter_another_s():
    reads = SharedReads()

    async def main():
        first = await reads.get("view", 1, lambda: {"rows": [1]})
        first["rows"].append(99)
        return await reads.get("view", 1, lambda: {"rows": ["read again"]})

    assert asyncio.run(main()) == {"rows": [1]}


def test_a_new_change_or_another_view_is_read_again():
    reads = SharedReads()
    calls = []

    def read():
        calls.append(1)
        return len(calls)

    async def main():
        return [await reads.get("a", 1, read), await reads.get("a", 2, read),
                await reads.get("b", 2, read), await reads.get("a", 2, read)]

    assert asyncio.run(main()) == [1, 2, 3, 2]


def test_memory_is_bounded_oldest_first():
    reads = SharedReads(capacity=3)

    async def main():
        for change in range(10):
            await reads.get("view", change, lambda: "rows")

    asyncio.run(main())
    assert len(reads) == 3


def test_a_failed_read_fails_its_waiters_and_is_not_kept():
    reads = SharedReads()

    def broken():
        time.sleep(0.02)
        raise LookupError("gone")

    async def main():
        outcomes = await asyncio.gather(*(reads.get("v", 1, broken) for _ in range(5)),
                                        return_exceptions=True)
        assert all(isinstance(o, LookupError) for o in outcomes)
        return await reads.get("v", 1, lambda: "fine now")

    assert asyncio.run(main()) == "fine now"


def test_keys_asked_within_the_window_are_looked_up_with_one_read():
    asked = []

    def read_many(keys):
        asked.append(keys)
        return {key: key.upper() for key in keys if key != "gone"}

    lookup = BatchedLookup(read_many, window=0.02)

    async def main():
        return await asyncio.gather(*(lookup.get(key, 5) for key in ["a", "b", "a", "gone", "c"]))

    assert asyncio.run(main()) == ["A", "B", "A", None, "C"]
    assert asked == [frozenset({"a", "b", "gone", "c"})]


def test_a_batched_lookup_failure_reaches_every_asker():
    def read_many(keys):
        raise ConnectionError("database away")

    lookup = BatchedLookup(read_many, window=0.01)

    async def main():
        return await asyncio.gather(lookup.get("a", 1), lookup.get("b", 1), return_exceptions=True)

    outcomes = asyncio.run(main())
    assert all(isinstance(o, ConnectionError) for o in outcomes)
