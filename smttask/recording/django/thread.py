"""Reaching the database from a thread that runs an asyncio event loop (a Jupyter kernel).

Django refuses to touch a database in a thread where an event loop is running: its ORM
raises ``SynchronousOnlyOperation`` ("You cannot call this from an async context"), because a
blocking query there would stall the loop. A Jupyter kernel (ipykernel ≥ 6) runs the cells of
a notebook in such a thread, so every record-store call made from a notebook would fail.

Every entry point of this package that reaches the database goes through `synchronous` (or
`synchronous_iter` for those returning an iterator). Where no loop runs in the calling thread,
the call is made directly, as before. Where one runs, it is made in *the store thread*: one
long-lived thread of this process, started on first need, that runs such calls one at a time;
the caller waits for it and gets the same result or exception (an iterator is pulled there in
chunks, so a long query is never read whole into memory). One thread, so that its Django
connections are kept from call to call and a transaction never spans two threads. A call that
is already running in the store thread runs inline (no loop runs there), so nested entry
points never wait for themselves.

Not `DJANGO_ALLOW_ASYNC_UNSAFE`: that would silence the check for the whole process and run
queries on the loop's own thread, where Django's connection handling is not meant to run.

Objects that Django evaluates later, in whatever thread uses them (`DjangoStore.queryset()`,
`DjangoStore.sumatra_store()`), follow Django's rule; from a notebook, evaluate them through
`call`: ``call(lambda: store.queryset().filter(...).count())``.
"""

from __future__ import annotations

import asyncio
import functools
import os
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

#: Items of an iterator pulled per trip to the store thread.
CHUNK = 500
THREAD_NAME = "smttask-record-store"


def loop_running() -> bool:
    """Whether an asyncio event loop runs in the calling thread (as in a Jupyter kernel)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class _StoreThread:
    """A daemon thread running the calls queued for it, one at a time.

    A daemon thread of its own rather than a ThreadPoolExecutor: the executor refuses work
    once the interpreter starts shutting down, and records still move at exit.
    """

    def __init__(self) -> None:
        self.pid = os.getpid()
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._serve, name=THREAD_NAME, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            job, future = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(job())
            except BaseException as exc:
                future.set_exception(exc)

    def run(self, job: Callable[[], T]) -> T:
        future: Future[T] = Future()
        self._jobs.put((job, future))
        return future.result()


_store_thread: _StoreThread | None = None
_start_lock = threading.Lock()


def _thread() -> _StoreThread:
    global _store_thread
    with _start_lock:
        # A forked child has the parent's object but not its thread: start its own.
        if _store_thread is None or _store_thread.pid != os.getpid():
            _store_thread = _StoreThread()
        return _store_thread


def call(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)``: directly, or in the store thread if an event loop runs in the
    calling thread; its result or exception either way."""
    if not loop_running():
        return fn(*args, **kwargs)
    return _thread().run(functools.partial(fn, *args, **kwargs))


def synchronous(fn: Callable[P, T]) -> Callable[P, T]:
    """`fn`, called through `call`."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        return call(fn, *args, **kwargs)

    return wrapper


def synchronous_iter(fn: Callable[P, Iterator[T]]) -> Callable[P, Iterator[T]]:
    """`fn` returning an iterator: where an event loop runs, the iterator is made and pulled
    in the store thread, `CHUNK` items per trip."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        if not loop_running():
            return fn(*args, **kwargs)
        worker = _thread()
        return _pulled(worker, worker.run(lambda: iter(fn(*args, **kwargs))))

    return wrapper


def _pulled(worker: _StoreThread, items: Iterator[T]) -> Iterator[T]:
    def take() -> list[T]:
        chunk = []
        for item in items:
            chunk.append(item)
            if len(chunk) == CHUNK:
                break
        return chunk

    try:
        while chunk := worker.run(take):
            yield from chunk
            if len(chunk) < CHUNK:
                return
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            worker.run(close)  # a query left unfinished: its cursor closes in its own thread
