"""The feed follower against the emulator: nothing missed, nothing repeated, across roll-overs."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

from iqmetrix_dropship import (
    ConfigurationError,
    Cursor,
    CursorLostError,
    DropshipClient,
    FeedEntry,
    MemoryCheckpoint,
    ServerError,
    SQLiteCheckpoint,
)
from iqmetrix_dropship._protocol.feed import notifications_request
from iqmetrix_dropship.emulator import Emulator
from iqmetrix_dropship.follow import _read_ahead as read_ahead

from ..support import async_client_for, client_for
from .conftest import Connect, Transport


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(events=260, seed=5)  # five archive pages and a current page of 10


@pytest.fixture
def client(emulator: Emulator, connect: Connect) -> Iterator[DropshipClient]:
    """A client of this test's kind: every test here runs against both followers."""
    with connect(emulator) as sdk:
        yield sdk


def collect_into(seen: list[str], entries: Any) -> None:
    for entry in entries:
        seen.append(entry.id)


def ids(entries: Any) -> list[str]:
    return [entry.id for entry in entries]


def test_a_first_poll_replays_the_whole_feed_oldest_first(emulator: Emulator, client: DropshipClient) -> None:
    assert ids(client.follow(checkpoint=MemoryCheckpoint()).poll()) == emulator.entry_ids()


def test_incremental_polls_deliver_only_what_is_new(emulator: Emulator, client: DropshipClient) -> None:
    follower = client.follow(checkpoint=MemoryCheckpoint())
    list(follower.poll())
    emulator.place_orders(3)
    assert ids(follower.poll()) == emulator.entry_ids()[-3:]
    assert ids(follower.poll()) == []


def test_an_idle_poll_costs_one_request(emulator: Emulator, client: DropshipClient) -> None:
    follower = client.follow(checkpoint=MemoryCheckpoint())
    list(follower.poll())
    before = len(emulator.request_log())
    list(follower.poll())
    assert len(emulator.request_log()) - before == 1


@pytest.mark.parametrize("new_events", [40, 41, 90, 140, 333])
def test_a_roll_over_between_two_polls_loses_and_repeats_nothing(
    emulator: Emulator, client: DropshipClient, new_events: int
) -> None:
    follower = client.follow(checkpoint=MemoryCheckpoint())
    seen = ids(follower.poll())
    emulator.place_orders(new_events)  # the current page (10 entries) fills and rolls, maybe several times
    seen += ids(follower.poll())
    assert seen == emulator.entry_ids()


def test_a_full_current_page_rolling_over_between_polls(connect: Connect) -> None:
    emulator = Emulator(events=250, seed=9)  # the current page is exactly full
    with connect(emulator) as sdk:
        follower = sdk.follow(checkpoint=MemoryCheckpoint())
        seen = ids(follower.poll())
        emulator.place_orders(1)  # 50 entries move into an archive; the current page restarts with 1
        seen += ids(follower.poll())
    assert seen == emulator.entry_ids()


def test_a_roll_over_during_the_walk_loses_and_repeats_nothing(emulator: Emulator, connect: Connect) -> None:
    """New events arrive while a poll walks back and reads forward: nothing is lost or repeated."""

    def busy(request: httpx.Request) -> None:
        if "Notifications" in request.url.path:
            emulator.place_orders(7)  # during every page fetch, the retailer sells more

    seen: list[str] = []
    with connect(emulator, transport=Transport(emulator, busy)) as sdk:
        follower = sdk.follow(checkpoint=MemoryCheckpoint())
        for _ in range(4):
            seen += ids(follower.poll())
        with connect(emulator) as quiet:  # a last poll with no new sales
            seen += ids(quiet.follow(checkpoint=follower.checkpoint).poll())
    assert seen == emulator.entry_ids()
    assert len(seen) == len(set(seen))


def test_new_entries_during_the_forward_read_are_delivered_once(emulator: Emulator, client: DropshipClient) -> None:
    follower = client.follow(checkpoint=MemoryCheckpoint())
    seen = []
    for n, entry in enumerate(follower.poll()):
        seen.append(entry.id)
        if n in (10, 100, 255):
            emulator.place_orders(45)  # roll-overs while the loop is in the middle of the history
    seen += ids(follower.poll())
    assert seen == emulator.entry_ids()


def test_an_exception_in_the_handler_redelivers_that_entry_and_no_other(
    emulator: Emulator, client: DropshipClient
) -> None:
    follower = client.follow(checkpoint=MemoryCheckpoint())
    handled: list[str] = []

    def consume() -> None:
        for entry in follower.poll():
            if len(handled) == 120:
                raise RuntimeError("warehouse down")
            handled.append(entry.id)

    with pytest.raises(RuntimeError, match="warehouse down"):
        consume()
    retried = ids(follower.poll())
    assert retried[0] == emulator.entry_ids()[120]
    assert handled + retried == emulator.entry_ids()


def test_breaking_out_of_the_loop_redelivers_the_entry_in_hand(emulator: Emulator, client: DropshipClient) -> None:
    follower = client.follow(checkpoint=MemoryCheckpoint())
    for n, _entry in enumerate(follower.poll()):
        if n == 5:
            break
    assert next(iter(follower.poll())).id == emulator.entry_ids()[5]


def test_start_latest_starts_after_the_newest_entry(emulator: Emulator, client: DropshipClient) -> None:
    follower = client.follow(checkpoint=MemoryCheckpoint(), start="latest")
    assert ids(follower.poll()) == []
    emulator.place_orders(2)
    assert ids(follower.poll()) == emulator.entry_ids()[-2:]


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        (
            {"checkpoint": MemoryCheckpoint(), "start": "newest"},
            ConfigurationError,
            "start must be 'earliest' or 'latest'",
        ),
        ({"checkpoint": 42}, TypeError, "checkpoint must be a path or a CheckpointStore, got int"),
        ({"checkpoint": None}, TypeError, "checkpoint must be a path or a CheckpointStore, got NoneType"),
    ],
    ids=["start", "number", "none"],
)
def test_bad_follow_arguments_are_the_sdks_typed_errors(
    client: DropshipClient, options: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match) as caught:
        client.follow(**options)
    assert isinstance(caught.value, ConfigurationError)  # a DropshipError, whatever else it is


def test_start_latest_on_an_empty_feed_then_delivers_everything_that_comes(connect: Connect) -> None:
    emulator = Emulator(events=0, seed=1)
    with connect(emulator) as sdk:
        follower = sdk.follow(checkpoint=MemoryCheckpoint(), start="latest")
        assert ids(follower.poll()) == []
        emulator.place_orders(3)
        assert ids(follower.poll()) == emulator.entry_ids()


def test_a_cursor_whose_entry_is_gone_from_its_page_raises_cursor_lost(
    emulator: Emulator, client: DropshipClient
) -> None:
    page = emulator.page_ids()[2]
    follower = client.follow(checkpoint=MemoryCheckpoint(Cursor("urn:uuid:not-in-the-feed", page)))
    with pytest.raises(CursorLostError) as caught:
        list(follower.poll())
    assert caught.value.entry_id == "urn:uuid:not-in-the-feed"
    assert caught.value.page_id == page


def test_a_cursor_not_found_back_to_the_oldest_page_raises_cursor_lost(client: DropshipClient) -> None:
    follower = client.follow(checkpoint=MemoryCheckpoint(Cursor("urn:uuid:not-in-the-feed", None)))
    with pytest.raises(CursorLostError, match="oldest page"):
        list(follower.poll())


def test_a_sqlite_checkpoint_survives_a_restart(
    emulator: Emulator, client: DropshipClient, connect: Connect, tmp_path: Path
) -> None:
    path = tmp_path / "state.db"
    before = ids(client.follow(checkpoint=path).poll())
    emulator.place_orders(4)
    with connect(emulator) as restarted, SQLiteCheckpoint(path) as checkpoint:
        after = ids(restarted.follow(checkpoint=checkpoint).poll())
    assert before == emulator.entry_ids()[:-4]
    assert after == emulator.entry_ids()[-4:]


def test_run_handles_entries_until_stopped_and_commits_the_entry_in_hand(
    emulator: Emulator, client: DropshipClient
) -> None:
    follower = client.follow(checkpoint=MemoryCheckpoint())
    stop = threading.Event()
    handled: list[str] = []

    def handler(entry: FeedEntry) -> None:
        handled.append(entry.id)
        if len(handled) == 30:
            stop.set()

    follower.run(handler, interval=0, stop=stop)
    assert handled == emulator.entry_ids()[:30]
    assert ids(follower.poll())[0] == emulator.entry_ids()[30]  # the 30th was committed


def test_run_redelivers_after_a_failing_handler(emulator: Emulator, client: DropshipClient) -> None:
    follower = client.follow(checkpoint=MemoryCheckpoint())
    stop = threading.Event()
    calls: list[str] = []

    def handler(entry: FeedEntry) -> None:
        calls.append(entry.id)
        if len(calls) == 3:
            raise RuntimeError("flaky warehouse")
        if len(calls) == 6:
            stop.set()

    follower.run(handler, interval=0, stop=stop)
    expected = emulator.entry_ids()
    assert calls == [expected[0], expected[1], expected[2], expected[2], expected[3], expected[4]]


def test_the_async_follower_replays_polls_and_survives_roll_overs(emulator: Emulator) -> None:
    async def scenario() -> list[str]:
        async with async_client_for(emulator) as sdk:
            follower = sdk.follow(checkpoint=MemoryCheckpoint())
            seen = [entry.id async for entry in follower.poll()]
            emulator.place_orders(77)
            seen += [entry.id async for entry in follower.poll()]
            return seen

    assert anyio.run(scenario) == emulator.entry_ids()


def test_the_async_follower_redelivers_after_an_exception_and_starts_latest(emulator: Emulator) -> None:
    async def scenario() -> tuple[list[str], list[str], list[str]]:
        async with async_client_for(emulator) as sdk:
            follower = sdk.follow(checkpoint=MemoryCheckpoint())
            handled: list[str] = []
            try:
                async for entry in follower.poll():
                    if len(handled) == 42:
                        raise RuntimeError("boom")
                    handled.append(entry.id)
            except RuntimeError:
                pass
            retried = [entry.id async for entry in follower.poll()]
            latest = sdk.follow(checkpoint=MemoryCheckpoint(), start="latest")
            assert [e async for e in latest.poll()] == []
            emulator.place_orders(1)
            fresh = [entry.id async for entry in latest.poll()]
            return handled, retried, fresh

    handled, retried, fresh = anyio.run(scenario)
    assert handled + retried == emulator.entry_ids()[:-1]  # the last one was placed for `latest`
    assert retried[0] == emulator.entry_ids()[42]
    assert fresh == emulator.entry_ids()[-1:]


def test_the_async_run_stops_on_its_event(emulator: Emulator) -> None:
    async def scenario() -> list[str]:
        handled: list[str] = []
        stop = anyio.Event()

        async def handler(entry: FeedEntry) -> None:
            handled.append(entry.id)
            if len(handled) == 12:
                stop.set()

        async with async_client_for(emulator) as sdk:
            await sdk.follow(checkpoint=MemoryCheckpoint()).run(handler, interval=0, stop=stop)
        return handled

    assert anyio.run(scenario) == emulator.entry_ids()[:12]


def test_run_raises_what_needs_a_person(client: DropshipClient) -> None:
    follower = client.follow(checkpoint=MemoryCheckpoint(Cursor("urn:uuid:not-in-the-feed", None)))
    with pytest.raises(CursorLostError):
        follower.run(lambda entry: None, interval=0, stop=threading.Event())


def test_run_retries_a_transient_failure_at_the_next_poll(emulator: Emulator, client: DropshipClient) -> None:
    follower = client.follow(checkpoint=MemoryCheckpoint())
    emulator.set_faults(unavailable=4, retry_after=0)  # more 503s than the client's 3 retries
    stop = threading.Event()
    handled: list[str] = []

    def handler(entry: FeedEntry) -> None:
        handled.append(entry.id)
        if len(handled) == 3:
            stop.set()

    follower.run(handler, interval=0, stop=stop)
    assert handled == emulator.entry_ids()[:3]


def test_the_async_run_raises_what_needs_a_person(emulator: Emulator) -> None:
    async def scenario() -> None:
        async with async_client_for(emulator) as sdk:
            follower = sdk.follow(checkpoint=MemoryCheckpoint(Cursor("urn:uuid:gone", None)))
            await follower.run(lambda entry: None, interval=0)

    with pytest.raises(CursorLostError):
        anyio.run(scenario)


def test_a_follower_closes_the_checkpoint_it_opened_and_only_that(client: DropshipClient, tmp_path: Path) -> None:
    follower = client.follow(checkpoint=tmp_path / "state.db")
    list(follower.poll())
    assert isinstance(follower.checkpoint, SQLiteCheckpoint)
    assert not follower.checkpoint.is_open  # released when the poll ended
    assert follower.checkpoint.load() is not None  # and opened again on demand
    follower.close()
    assert not follower.checkpoint.is_open

    with SQLiteCheckpoint(tmp_path / "mine.db") as mine:
        with client.follow(checkpoint=mine) as follower:
            list(follower.poll())
        assert mine.is_open  # still open: it is the caller's


@pytest.mark.parametrize("read_ahead", [0, 1, 4, 16])
def test_reading_ahead_delivers_the_same_entries_in_the_same_order(
    emulator: Emulator, connect: Connect, read_ahead: int
) -> None:
    with connect(emulator) as sdk:
        follower = sdk.follow(checkpoint=MemoryCheckpoint())
        follower.read_ahead = read_ahead
        assert ids(follower.poll()) == emulator.entry_ids()


def test_a_page_that_fails_while_read_ahead_raises_in_order_and_loses_nothing(
    emulator: Emulator, connect: Connect
) -> None:
    broken = emulator.page_ids()[3]
    failing = True
    reads_of_broken = 0

    def one_page_down(request: httpx.Request) -> httpx.Response | None:
        """Page 3 answers the walk back's scan, then fails when the forward read asks again (the
        follower keeps no page from the walk here, so that the forward read fetches each)."""
        nonlocal reads_of_broken
        if broken in request.url.path:
            reads_of_broken += 1
            if failing and reads_of_broken > 1:
                return httpx.Response(500, text="disk on fire")
        return None

    seen: list[str] = []
    with connect(emulator, transport=Transport(emulator, one_page_down), max_retries=0) as sdk:
        follower = sdk.follow(checkpoint=MemoryCheckpoint())
        follower.keep_pages_bytes = 0
        with pytest.raises(ServerError):
            collect_into(seen, follower.poll())
        assert seen == emulator.entry_ids()[:150]  # pages 0-2, then page 3 failed
        failing = False
        seen += ids(follower.poll())
    assert seen == emulator.entry_ids()


def open_temporary_files() -> set[str]:
    """The temporary files this process holds open (Linux: /proc/self/fd); a kept page file is
    unlinked, so it shows as ``/tmp/#inode (deleted)`` (O_TMPFILE) or ``.../dropship-pages...``."""
    found = set()
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith(tempfile.gettempdir()):
                found.add(target)
    return found


def page_reads(emulator: Emulator) -> list[str]:
    return [path for method, path, _ in emulator.request_log() if "/Notifications" in path]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc/self/fd")
def test_a_backfill_past_the_memory_part_fetches_each_page_once_and_leaves_no_file_open(
    emulator: Emulator, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read_ahead, "IN_MEMORY_BYTES", 10_000)  # about one page: the rest goes to a file
    with connect(emulator) as sdk:
        before, files = len(page_reads(emulator)), open_temporary_files()
        assert ids(sdk.follow(checkpoint=MemoryCheckpoint()).poll()) == emulator.entry_ids()
        reads = page_reads(emulator)[before:]
        assert len(reads) == len(set(reads)) == len(emulator.page_ids())  # /Notifications, then each archive once
        assert open_temporary_files() <= files


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc/self/fd")
def test_a_consumer_that_stops_early_leaves_no_kept_page_file_open(
    emulator: Emulator, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read_ahead, "IN_MEMORY_BYTES", 0)  # every kept page in the file
    with connect(emulator) as sdk:
        follower = sdk.follow(checkpoint=MemoryCheckpoint())
        files = open_temporary_files()
        poll = follower.poll()
        first = ids(itertools.islice(poll, 60))  # into the second page
        assert len(open_temporary_files() - files) == 1  # the kept pages' file, while the poll runs
        poll.close()
        assert open_temporary_files() <= files
        everything = emulator.entry_ids()
        assert first + ids(follower.poll()) == everything[:60] + everything[59:]  # the 60th, in hand, again


@pytest.mark.parametrize("raised", [KeyboardInterrupt, SystemExit])
def test_the_async_run_lets_an_interrupt_from_the_handler_out_as_itself(
    emulator: Emulator, raised: type[BaseException]
) -> None:
    async def scenario() -> None:
        async with async_client_for(emulator) as sdk:

            def handler(entry: FeedEntry) -> None:
                raise raised

            await sdk.follow(checkpoint=MemoryCheckpoint()).run(handler, interval=0)

    with pytest.raises(raised):  # before: a BaseExceptionGroup, which `except KeyboardInterrupt` misses
        anyio.run(scenario)


def test_the_async_run_cancelled_from_outside_ends_quietly_and_commits_nothing_in_hand(emulator: Emulator) -> None:
    async def scenario() -> tuple[bool, list[str], Cursor | None]:
        checkpoint = MemoryCheckpoint()
        handled: list[str] = []
        async with async_client_for(emulator) as sdk:
            with anyio.CancelScope() as scope:

                async def handler(entry: FeedEntry) -> None:
                    handled.append(entry.id)
                    if len(handled) == 3:
                        scope.cancel()
                        await anyio.lowlevel.checkpoint()  # the cancellation lands here, in the handler

                await sdk.follow(checkpoint=checkpoint).run(handler, interval=0)
        return scope.cancelled_caught, handled, checkpoint.load()

    cancelled, handled, cursor = anyio.run(scenario)
    assert cancelled
    assert len(handled) == 3
    assert cursor is not None
    assert cursor.entry_id == handled[1]  # the third was in hand: it comes again


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_over_a_slow_network_pages_are_parsed_while_the_walk_waits_and_delivered_the_same(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real HTTP on loopback, each request 0.2 s late (a WAN): each kept page is parsed once the
    walk's next request is on the wire, and the forward read only takes it."""
    emulator = Emulator(events=260, seed=5, latency=0.2)
    taken: list[str] = []
    take = read_ahead.KeptPages.take

    def spy(self: read_ahead.KeptPages, page_id: str) -> Any:
        page = take(self, page_id)
        taken.append(type(page).__name__)
        return page

    monkeypatch.setattr(read_ahead.KeptPages, "take", spy)
    with emulator.serve() as server:
        if kind == "sync":
            with client_for(emulator, server.base_url) as sdk:
                delivered = ids(sdk.follow(checkpoint=MemoryCheckpoint()).poll())
        else:

            async def follow() -> list[str]:
                async with async_client_for(emulator, server.base_url) as sdk:
                    return [entry.id async for entry in sdk.follow(checkpoint=MemoryCheckpoint()).poll()]

            delivered = anyio.run(follow)
    assert delivered == emulator.entry_ids()
    # Six pages: the oldest, walked last, has no request after it to hide its parse behind.
    assert len(taken) == len(emulator.page_ids())
    assert taken.count("FeedPage") >= len(taken) - 2
    assert taken[0] == "bytes"


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_request_hint_that_raises_never_fails_the_request(kind: str) -> None:
    """``Request.on_sent`` is a hint to the follower, called from httpcore's trace: whatever it
    raises stays there, and the answer comes back as if there were no hint."""
    emulator = Emulator(events=60, seed=5)
    calls: list[str] = []

    def hint() -> None:
        calls.append("sent")
        raise RuntimeError("can't start new thread")

    with emulator.serve() as server:
        if kind == "sync":
            with client_for(emulator, server.base_url) as sdk:
                request = dataclasses.replace(notifications_request(sdk._config), on_sent=hint)
                response = sdk._send(request)
        else:

            async def send() -> Any:
                async with async_client_for(emulator, server.base_url) as sdk:
                    request = dataclasses.replace(notifications_request(sdk._config), on_sent=hint)
                    return await sdk._send(request)

            response = anyio.run(send)
    assert response.status_code == 200
    assert b"<feed" in response.content
    assert calls == ["sent"]
