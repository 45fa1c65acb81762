"""Live run traces over Server-Sent Events, without holding the database open.

A stream sends a run's events oldest first, each as one SSE message whose
``id`` is the event's list cursor, and ends after the run's terminal event.
Three rules keep streams cheap for everyone else:

* **No transaction between polls.** Each poll is one short autocommit read
  (the statement is exhausted before the stream waits), so a stream never
  pins a WAL snapshot: checkpoints proceed and the WAL stays bounded.
* **One watcher per process.** A single thread reads the database's change
  marker (SQLite: ``PRAGMA data_version``, a counter in shared memory;
  PostgreSQL: the newest event's seq) every ``poll_s`` and wakes the waiting
  streams when another process committed; idle streams cost no queries.
* **No pooled connection while waiting** (PostgreSQL): a stream gives its
  connection back to the pool after each read, before it writes or waits.
* **Bounded.** At most ``max_streams`` per API worker process (more is a
  503), a keep-alive comment at least every ``keepalive_s``, an end after
  ``max_age_s`` or when the process shuts down (the browser resumes with
  ``Last-Event-ID``).
"""
from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator

from api.config import StreamSettings
from api.serializers import event_dict
from core.errors import DependencyUnavailable
from core.trace import TERMINAL_EVENT_TYPES
from store import events, runs
from store.cursor import decode_cursor, encode_cursor
from store.db import DATABASE_ERRORS, Database, change_marker
from store.status import TERMINAL_STATUSES

PAGE = 200
RETRY_MS = 2000
SHUTDOWN = threading.Event()  # set by gunicorn's worker on SIGTERM (api/gunicorn_conf.py)


class CommitWatcher:
    """Wakes waiting streams when any other process commits to the database."""

    def __init__(self, database: Database, poll_s: float):
        self.database, self.poll_s = database, poll_s
        self.version = 0
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._watch, name="c2xc-commit-watcher",
                                                daemon=True)
                self._thread.start()

    def _watch(self) -> None:
        seen = None
        while True:
            try:
                current = change_marker(self.database.connection())
            except DATABASE_ERRORS:
                current = None
            finally:
                self.database.release()
            if current != seen or SHUTDOWN.is_set():
                seen = current
                with self._changed:
                    self.version += 1
                    self._changed.notify_all()
            time.sleep(self.poll_s)

    def wait(self, version: int, timeout: float) -> int:
        """Block until the version moves past ``version`` or ``timeout``; return the new one."""
        self._ensure_started()
        with self._changed:
            self._changed.wait_for(lambda: self.version != version, timeout)
            return self.version


class StreamSlots:
    """At most ``limit`` open streams in this process."""

    def __init__(self, limit: int):
        self.limit = limit
        self._free = threading.BoundedSemaphore(limit)

    def take(self) -> None:
        if not self._free.acquire(blocking=False):
            raise DependencyUnavailable(
                f"too many open event streams ({self.limit} per API worker); close one, "
                "or poll GET /runs/{run_id}/events", {"missing": ["stream_slot"],
                                                      "max_streams": self.limit})

    def give_back(self) -> None:
        self._free.release()


class RunFeed:
    """The newest events of one run, fetched once per commit for every stream of this process.

    Without it, each commit would make every stream following the run run its
    own query: 50 streams on one busy run cost 50 queries per commit and
    stretched ordinary requests' tail latency fourfold (docs/PERFORMANCE.md).
    The feed keeps the last ``KEEP`` events; a stream further behind (a
    resume from long ago, the first replay) catches up with its own queries.
    """

    KEEP = 2000

    def __init__(self, run_id: str):
        self.run_id = run_id
        self.followers = 0
        self._lock = threading.Lock()
        self._buffer: list[tuple] = []  # (event, its SSE message), formatted once for everyone
        self._base_seq: int | None = None  # the buffer holds every event with seq > base_seq
        self._fetched_version: int | None = None

    def events_after(self, conn, after_seq: int, version: int) -> list | None:
        """Events after ``after_seq`` from the shared buffer; None: catch up on your own."""
        with self._lock:
            if self._fetched_version != version:
                self._refresh(conn)
                self._fetched_version = version
            if self._base_seq is None or after_seq < self._base_seq:
                return None
            return [item for item in self._buffer if item[0].seq > after_seq]

    def _refresh(self, conn) -> None:
        if self._base_seq is None:  # start at the run's current end; earlier is catch-up
            self._base_seq = events.last_seq(conn, self.run_id)
            return
        head = self._buffer[-1][0].seq if self._buffer else self._base_seq
        while True:
            items, _, has_more = events.list_events(
                conn, self.run_id, limit=PAGE, cursor=encode_cursor(events.CURSOR_KIND, head))
            self._buffer += [(event, _message(event)) for event in items]
            head = items[-1].seq if items else head
            if not has_more:
                break
        if len(self._buffer) > self.KEEP:
            self._base_seq = self._buffer[-self.KEEP - 1][0].seq
            self._buffer = self._buffer[-self.KEEP:]


class RunFeeds:
    """This process's feeds, one per run that at least one stream follows."""

    def __init__(self):
        self._feeds: dict[str, RunFeed] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def follow(self, run_id: str) -> Iterator[RunFeed]:
        with self._lock:
            feed = self._feeds.setdefault(run_id, RunFeed(run_id))
            feed.followers += 1
        try:
            yield feed
        finally:
            with self._lock:
                feed.followers -= 1
                if feed.followers == 0:
                    self._feeds.pop(run_id, None)


def start_after(header: str | None, query: str | None) -> int:
    """The seq to continue after: ``Last-Event-ID`` (a reconnect) wins over ``after``."""
    cursor = (header or "").strip() or (query or "").strip()
    return decode_cursor(events.CURSOR_KIND, cursor) if cursor else 0


def _message(event) -> str:
    item = event_dict(event, with_payload=False)
    return f"id: {item['cursor']}\ndata: {json.dumps(item, separators=(',', ':'))}\n\n"


def _catch_up(conn, run_id: str, after_seq: int) -> tuple[list, bool]:
    """One page of (event, message) after ``after_seq``, read by this stream alone; and more?"""
    cursor = encode_cursor(events.CURSOR_KIND, after_seq) if after_seq else None
    items, _, has_more = events.list_events(conn, run_id, limit=PAGE, cursor=cursor)
    return [(event, _message(event)) for event in items], has_more


def stream_run_events(database: Database, run_id: str, after_seq: int, event_types: list[str],
                      settings: StreamSettings, watcher: CommitWatcher, slots: StreamSlots,
                      feeds: RunFeeds) -> Iterator[str]:
    """The SSE body; the caller has taken a slot, which this generator always gives back.

    Events are scanned in order whatever the filter (the position moves past
    events of other types), so the terminal event ends every stream.
    """
    wanted = set(event_types)
    try:
        with feeds.follow(run_id) as feed:
            yield f"retry: {RETRY_MS}\n\n"
            started = last_sent = time.monotonic()
            version = watcher.version
            position = after_seq
            finished = runs.get_run(database.connection(), run_id).status in TERMINAL_STATUSES
            database.release()
            while not SHUTDOWN.is_set():
                conn = database.connection()
                items = None if finished else feed.events_after(conn, position, version)
                more = False
                if items is None:
                    items, more = _catch_up(conn, run_id, position)
                database.release()  # before writing to the client or waiting
                batch, ended = [], False
                for event, message in items:  # one write per wake, however many events
                    position = event.seq
                    if not wanted or event.event_type in wanted:
                        batch.append(message)
                    if event.event_type in TERMINAL_EVENT_TYPES:
                        ended = True
                        break
                if batch:
                    yield "".join(batch)
                    last_sent = time.monotonic()
                if ended:
                    return
                if more:
                    continue
                if finished:
                    return  # resumed after the end: everything there was has been sent
                now = time.monotonic()
                if now - started >= settings.max_age_s:
                    return
                if now - last_sent >= settings.keepalive_s:
                    yield ": keep-alive\n\n"
                    last_sent = now
                wait = min(settings.keepalive_s - (now - last_sent),
                           settings.max_age_s - (now - started))
                version = watcher.wait(version, max(wait, 0.0))
    finally:
        slots.give_back()
