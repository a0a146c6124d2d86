"""Query admission: how many queries a client may run, and room for the long ones.

Measured before this existed (issue 13): four concurrent cross-product queries held every
query worker for the whole 30 s time limit, so every other query and page waited; a
client that hung up did not free its worker. The rules, as Fuseki, Virtuoso and the
Wikidata Query Service apply them in their own ways, are:

* **per client** (the client's address): at most ``QUERIES_PER_CLIENT`` queries in flight
  at once; one more is refused at once with ``429 Too Many Requests`` and ``Retry-After``
  (``ClientOverShare``) - the client is over its share, the service is not full;
* **short and long**: every query starts in the *fast lane* (``crkg.store.embedded``'s pool
  of query workers). One still running after ``SHORT_QUERY_BUDGET`` seconds becomes
  *long*: its worker leaves the fast lane (a fresh worker takes its place at once, so
  cheap queries keep a full lane) and it needs one of ``LONG_QUERIES`` long slots, of
  which one client may hold ``LONG_QUERIES_PER_CLIENT``. If the client already holds its
  share the query is stopped with 429. If every long slot is taken, the query that has
  held its slot longest gives it up when it has held it ``LONG_QUERY_PREEMPT_AFTER``
  seconds (it is stopped with 503: a long query cannot keep the lane for ever while
  others wait); when every slot is younger than that, the new one is stopped with
  ``503 Service Unavailable`` (``ServiceBusy``): only then is the whole service full;
* **cancel on hang-up**: while a query runs, the caller's ``disconnected()`` is asked
  every ``POLL_SECONDS``; a client gone is a query stopped and its slot given back;
* **cool-down**: a client whose long query was refused a long slot (or who hung up on
  one) was told ``Retry-After``; until that time its next queries are refused at once
  with 429 instead of each taking the fast lane for the short budget and a fresh worker
  process after it - except lookups that cannot run away (``guard.is_bounded``), which
  are answered meanwhile.

Who the caller is travels in a context variable (``calling``): the web layer sets it for
each request (``crkg.web.app``), so the ``Store`` interface needs no new argument. A call
without a caller (the build, a test, a script) is not limited per client.
"""

from __future__ import annotations

import contextvars
import math
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

from crkg.store.base import BackendUnavailable
from crkg.errors import CrkgError

#: How often a waiting query looks at its client and its budget, seconds.
POLL_SECONDS = 0.1


class ClientOverShare(CrkgError):
    """This client already runs as many (long) queries as it may (HTTP 429)."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class ServiceBusy(BackendUnavailable):
    """Every slot of the service is taken (HTTP 503, with ``Retry-After``)."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class QueryCancelled(CrkgError):
    """The client hung up; its query was stopped (nobody reads the answer)."""


def _never() -> bool:
    return False


@dataclass(frozen=True)
class Caller:
    """Who asks: a client address (None: not a web client) and how to tell it hung up."""

    client: str | None = None
    disconnected: Callable[[], bool] = _never


_CALLER: contextvars.ContextVar[Caller] = contextvars.ContextVar("crkg_caller", default=Caller())


def current() -> Caller:
    return _CALLER.get()


@contextmanager
def calling(caller: Caller) -> Iterator[Caller]:
    """Run the enclosed store calls on behalf of *caller*."""
    token = _CALLER.set(caller)
    try:
        yield caller
    finally:
        _CALLER.reset(token)


@dataclass(eq=False)
class LongSlot:
    """One long query's hold on a long slot; ``preempted`` is set if it was taken back."""

    client: str | None
    since: float
    preempted: threading.Event = field(default_factory=threading.Event)
    released: bool = False


def enter_caller(caller: Caller) -> contextvars.Token:
    """Like ``calling``, for a caller set in one hook and reset in another (Flask's)."""
    return _CALLER.set(caller)


def leave_caller(token: contextvars.Token) -> None:
    _CALLER.reset(token)


class Admission:
    """The counts behind the rules of the module docstring (thread-safe)."""

    @classmethod
    def from_config(cls, config) -> "Admission":
        """The limits of a ``crkg.config.Config`` (its block "serving")."""
        return cls(per_client=config.QUERIES_PER_CLIENT, long_total=config.LONG_QUERIES,
                   long_per_client=config.LONG_QUERIES_PER_CLIENT, retry_after=config.RETRY_AFTER,
                   preempt_after=config.LONG_QUERY_PREEMPT_AFTER)

    def __init__(self, *, per_client: int, long_total: int, long_per_client: int, retry_after: int,
                 preempt_after: float = float("inf")):
        self.per_client = max(1, int(per_client))
        self.long_total = max(0, int(long_total))
        self.long_per_client = max(0, int(long_per_client))
        self.retry_after = int(retry_after)
        self.preempt_after = float(preempt_after)
        self._slots: list[LongSlot] = []
        #: long queries stopped to give their slot to a newer one
        self.preempted = 0
        self._lock = threading.Lock()
        self._running: dict[str | None, int] = {}
        self._long: dict[str | None, int] = {}
        self._long_count = 0
        #: refusals so far, by reason (for the soak test and the logs)
        self.refused = {"client": 0, "client-long": 0, "service-long": 0, "cooling": 0}
        #: client -> when its cool-down ends (monotonic): after one of its long queries
        #: was stopped, its next non-bounded queries are refused until then
        self._cooling: dict[str, float] = {}

    def enter(self, client: str | None, bounded: bool = False) -> None:
        """Admit one query of *client* or raise ``ClientOverShare``.

        *bounded*: the query cannot run away (``crkg.store.guard.is_bounded``); it is
        admitted while the client cools down.
        """
        with self._lock:
            if not bounded and client is not None and client in self._cooling:
                left = self._cooling[client] - time.monotonic()
                if left > 0:
                    self.refused["cooling"] += 1
                    raise ClientOverShare(
                        f"this client's last query was stopped for want of room for long queries "
                        f"{self.retry_after} s ago or less; wait {math.ceil(left)} s before the next one (lookups of "
                        "one resource are answered meanwhile)", max(1, math.ceil(left)))
                del self._cooling[client]
            running = self._running.get(client, 0)
            if client is not None and running >= self.per_client:
                self.refused["client"] += 1
                raise ClientOverShare(
                    f"this client already has {running} queries running (at most "
                    f"{self.per_client} at once); wait for one to finish", self.retry_after)
            self._running[client] = running + 1

    def leave(self, client: str | None) -> None:
        with self._lock:
            left = self._running.get(client, 0) - 1
            if left > 0:
                self._running[client] = left
            else:
                self._running.pop(client, None)

    def escalate(self, client: str | None) -> "LongSlot":
        """Take a long slot for *client*'s query or raise (the query is then stopped).

        With every slot taken, the long query that has held its slot longest is stopped
        in favour of this one if it has held it ``preempt_after`` seconds or more (its
        owner sees ``LongSlot.preempted``); otherwise this one is refused.
        """
        with self._lock:
            held = self._long.get(client, 0)
            if client is not None and held >= self.long_per_client:
                self.refused["client-long"] += 1
                self._cool(client)
                raise ClientOverShare(
                    f"the query ran past the short budget and this client already has {held} "
                    f"long queries running (at most {self.long_per_client}); it was stopped",
                    self.retry_after)
            if self._long_count >= self.long_total:
                oldest = min(self._slots, key=lambda slot: slot.since, default=None)
                if oldest is None or time.monotonic() - oldest.since < self.preempt_after:
                    self.refused["service-long"] += 1
                    self._cool(client)
                    raise ServiceBusy(
                        f"the query ran past the short budget and all {self.long_total} slots for "
                        "long queries are taken; it was stopped - try again later", self.retry_after)
                self.preempted += 1
                self._release(oldest)
                oldest.preempted.set()
            slot = LongSlot(client, time.monotonic())
            self._slots.append(slot)
            self._long[client] = held + 1
            self._long_count += 1
            return slot

    def cool(self, client: str | None) -> None:
        """*client* hung up on its long query (or lost its slot): it waits ``retry_after``."""
        with self._lock:
            self._cool(client)

    def _cool(self, client: str | None) -> None:
        if client is not None:
            self._cooling[client] = time.monotonic() + self.retry_after

    def settle(self, slot: "LongSlot") -> None:
        """Give back the long slot a query held (nothing if it was taken from it)."""
        with self._lock:
            self._release(slot)

    def _release(self, slot: "LongSlot") -> None:
        if slot.released:
            return
        slot.released = True
        self._slots.remove(slot)
        left = self._long.get(slot.client, 0) - 1
        if left > 0:
            self._long[slot.client] = left
        else:
            self._long.pop(slot.client, None)
        self._long_count = max(0, self._long_count - 1)

    def snapshot(self) -> dict:
        with self._lock:
            return {"running": sum(self._running.values()), "long": self._long_count,
                    "refused": dict(self.refused), "preempted": self.preempted}
