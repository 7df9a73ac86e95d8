"""Setting up Sumatra's Django record store for many concurrent writers.

The record store of the current project is always Django's ``default`` database; working on
another project's store switches it (Sumatra reads and writes tags through the default
database only). Settings applied before the first connection:

- SQLite: WAL journal (readers never block the writer; not on a network file system, see
  ``journal_mode``), a 30 s busy timeout, and (Django ≥ 5.1)
  ``BEGIN IMMEDIATE`` transactions, so that writers queue instead of failing with "database
  is locked"; a writer that still fails is retried (see ``writer``).
- PostgreSQL: Django's current backend (Sumatra 0.8 names one that Django removed in 3.0).

Tables are created on first use, under a lock, so that processes started together never
race to create them; ``smttask project init`` creates them before any run.

Django keeps one connection per thread: a thread whose connection was opened for another
store than the default one now (switched by another thread) opens a new one. In a thread that
runs an event loop (a Jupyter kernel), the database is reached from the store thread (see
``thread``).
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import django
from django.conf import settings as django_settings
from django.db import DatabaseError, connections

from ...errors import ProjectError
from .. import netfs
from ..sumatraload import without_scipy

with without_scipy():  # SciPy costs more than a whole run and is of no use to records
    from sumatra.recordstore.django_store import db_config
from ..address import MYSQL, POSTGRESQL, SQLITE, require_database
from ..projectfile import ProjectInfo, store_info
from .thread import synchronous

SQLITE_TIMEOUT = 30
#: Key of the PostgreSQL advisory lock serializing smttask's writers.
PG_LOCK_KEY = 0x736D7474  # "smtt"

_active: dict[str, Any] = {"key": None, "pid": None}
#: Per thread: the store its ``default`` connection was opened for (``key``).
_this_thread = threading.local()


def django_database(info: ProjectInfo) -> dict[str, Any]:
    """Django's DATABASES entry for the project's record store."""
    require_database(info)
    if info.kind == SQLITE:
        options: dict[str, Any] = {"timeout": SQLITE_TIMEOUT}
        if django.VERSION >= (5, 1):
            options["transaction_mode"] = "IMMEDIATE"
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": info.store, "OPTIONS": options}
    if info.kind == POSTGRESQL:
        _require_psycopg2()
        url = urlparse(info.store)
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(url.path.lstrip("/")),
            "HOST": url.hostname or "",
            "PORT": str(url.port or ""),
            "USER": unquote(url.username or ""),
            "PASSWORD": unquote(url.password or ""),
        }
    assert info.kind == MYSQL
    _require_mysqlclient()
    return dict(db_config.uri_to_db(info.store))


def _require_mysqlclient() -> None:
    try:
        import MySQLdb  # noqa: F401
    except ImportError:
        raise ProjectError(
            "A MySQL record store needs the mysqlclient package (Django's MySQL driver): "
            "pip install mysqlclient."
        ) from None


def _require_psycopg2() -> None:
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        raise ProjectError(
            "A PostgreSQL record store needs psycopg2: pip install 'smttask[postgresql]'."
        ) from None


@synchronous
def activate(info: ProjectInfo) -> None:
    """Make the project's record store Django's default database, with its tables."""
    key = (info.kind, info.store)
    if _active["pid"] is not None and _active["pid"] != os.getpid():
        _forget_inherited_connections()
    if _active["key"] == key and _active["pid"] == os.getpid():
        if getattr(_this_thread, "key", None) != key:
            _drop_thread_connection()  # opened while another store was the default one
            _this_thread.key = key
        return
    db = django_database(info)
    # Sumatra's own bookkeeping (DjangoRecordStore(...) looks its database up there).
    db_config._settings["DATABASES"]["default"] = db_config.uri_to_db(info.store)
    db_config._n_databases = max(db_config._n_databases, 1)
    if not django_settings.configured:
        # DEBUG off: Django would keep every query in memory.
        django_settings.configure(
            **{**db_config._settings, "DEBUG": False, "DATABASES": {"default": db}}
        )
        django.setup(set_prefix=False)  # no URL handling: skips importing django.urls
    else:
        _switch_default(db)
    db_config.configured = True
    db_config.add_database = _add_database_any_time
    _active.update(key=key, pid=os.getpid())
    _this_thread.key = key
    try:
        _ensure_tables(info)
    except DatabaseError as exc:
        _active["key"] = None
        raise ProjectError(
            f"Cannot open the record store {info.shown_store}: {type(exc).__name__}: "
            f"{str(exc).strip()}. Check that the database server is running and that the URI "
            f"(user, host, port, database name; the password, or PGPASSWORD / ~/.pgpass) is "
            f"right; for SQLite, that the folder is writable."
        ) from None
    except BaseException:
        _active["key"] = None
        raise


_sumatra_add_database = db_config.add_database


def _add_database_any_time(uri: str) -> str:
    """Sumatra's `add_database`, also after Django is configured (Sumatra refuses then): the
    store becomes the default database, as when smttask moves to another project. So
    Sumatra's `load_project()` works for any project in a process that used another one."""
    if not db_config.configured or db_config.contains_database(db_config.uri_to_db(uri)):
        return str(_sumatra_add_database(uri))
    activate(store_info(uri))
    return "default"


def _switch_default(db: dict[str, Any]) -> None:
    from django.contrib.contenttypes.models import ContentType

    _drop_thread_connection()
    configured = connections.configure_settings({"default": dict(db)})["default"]
    # (connections.settings is usually the very dict of settings.DATABASES: set both.)
    django_settings.DATABASES["default"] = configured
    connections.settings["default"] = configured
    ContentType.objects.clear_cache()


def _drop_thread_connection() -> None:
    """Close this thread's ``default`` connection, if it has one; the next use opens one
    from the current settings."""
    for conn in connections.all(initialized_only=True):
        if conn.alias == "default":
            conn.close()
            del connections["default"]


def _forget_inherited_connections() -> None:
    """In a forked child: drop (never close) the parent's open connections."""
    for conn in connections.all(initialized_only=True):
        conn.connection = None
    _active["key"] = None


@synchronous
def add_database(alias: str, info: ProjectInfo) -> str:
    """Make another project's store reachable as `alias` (for merging; read-only use)."""
    activate_default = _active["key"]
    if activate_default is None:
        raise ProjectError("Activate the current project's store before adding another one.")
    db = django_database(info)
    # A connection made for `alias` earlier in this process (an earlier merge) would keep
    # reading the store it was opened on: close and forget it first.
    for conn in connections.all(initialized_only=True):
        if conn.alias == alias:
            conn.close()
            del connections[alias]
    configured = connections.configure_settings({"default": dict(db)})["default"]
    django_settings.DATABASES[alias] = configured
    connections.settings[alias] = configured
    try:
        tables = connections[alias].introspection.table_names()
    except DatabaseError as exc:
        raise ProjectError(
            f"Cannot open the record store {info.shown_store}: {type(exc).__name__}: "
            f"{str(exc).strip()}. Check that the database server is running and that the URI "
            f"(user, host, port, database name; the password, or PGPASSWORD / ~/.pgpass) is "
            f"right."
        ) from None
    if "django_store_record" not in tables:
        raise ProjectError(
            f"{info.shown_store} holds no Sumatra records (no Sumatra tables in it)."
        )
    return alias


def _ensure_tables(info: ProjectInfo) -> None:
    conn = connections["default"]
    if "django_store_record" not in conn.introspection.table_names():
        with _creation_lock(info):
            if "django_store_record" not in conn.introspection.table_names():
                from django.core import management

                management.call_command(
                    "migrate", run_syncdb=True, database="default", verbosity=0, interactive=False
                )
    if info.kind == SQLITE:
        wanted = journal_mode(Path(info.store))
        with conn.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            if str(cursor.fetchone()[0]).lower() != wanted:
                cursor.execute(f"PRAGMA journal_mode={wanted.upper()}")


class NetworkStoreWarning(UserWarning):
    """An SQLite record store on a network file system."""


#: f_type of a folder's file system (``netfs.filesystem_type``; a test may pass another).
filesystem_type: Callable[[Path], int | None] = netfs.filesystem_type
_warned: set[Path] = set()


def journal_mode(store: Path) -> str:
    """SQLite's journal mode for the store file `store`: ``wal``, or ``delete`` on a network
    file system (WAL needs memory shared by all writers; warned once per store)."""
    found = netfs.network_filesystem(store.parent, filesystem_type)
    if found is None:
        return "wal"
    if store not in _warned:
        _warned.add(store)
        warnings.warn(
            f"The SQLite record store {store} is on a network file system ({found}): smttask "
            f"opens it without WAL (SQLite does not support WAL there), and SQLite's locking "
            f"on {found} may not keep concurrent writers apart. For runs on several nodes, "
            f"move the records to PostgreSQL: smttask project set-store "
            f"postgresql://user@host:5432/dbname",
            NetworkStoreWarning,
            stacklevel=2,
        )
    return "delete"


@contextmanager
def _creation_lock(info: ProjectInfo) -> Iterator[None]:
    if info.kind == POSTGRESQL:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [PG_LOCK_KEY])
            try:
                yield
            finally:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [PG_LOCK_KEY])
        return
    folder = Path(info.store).parent if info.kind == SQLITE else info.smt_dir
    folder.mkdir(parents=True, exist_ok=True)
    with open(open_lock_file(folder / ".records.lock"), "a+b") as f:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: SQLite's own locking only
            yield
            return
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        yield


def open_lock_file(path: Path) -> int:
    """Open (creating it if needed) the lock file `path`, never through a symbolic link."""
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(path, flags, 0o600)
    except OSError as exc:
        if not path.is_symlink():
            raise
        raise ProjectError(
            f"The lock file {path} is a symbolic link (to {os.readlink(path)!r}): smttask never "
            f"opens a lock file through a link. smttask did not make it; remove it (rm {path})."
        ) from exc


def write_lock(info: ProjectInfo) -> None:
    """Inside a transaction: make concurrent smttask writers wait for this one."""
    if info.kind == POSTGRESQL:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PG_LOCK_KEY])
