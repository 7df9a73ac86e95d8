"""Record-store addresses, read one way everywhere: ``smttask project init --store``, the
record store named in ``.smt/project``, and the source of ``smttask store merge``.

An address is a path to an SQLite file (no ``scheme://``), a PostgreSQL URI
(``postgresql://`` or ``postgres://``) or a MySQL/MariaDB URI (``mysql://``, ``mariadb://``);
a driver after ``+`` (``postgresql+psycopg2://``) is allowed. Anything else is refused with
one message, wherever it was given.

A password in an address is never shown: every message and command output prints addresses
through `masked`. Better still, keep it out of the address: PostgreSQL's client library reads
it from ``PGPASSWORD`` or ``~/.pgpass`` (``PGPASSFILE``) when the address has none.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

from ..errors import ProjectError

if TYPE_CHECKING:
    from .projectfile import ProjectInfo

SQLITE, POSTGRESQL, MYSQL = "sqlite", "postgresql", "mysql"
#: The stores smttask reads and writes (Sumatra's Django store on these databases).
DATABASE_KINDS = (SQLITE, POSTGRESQL, MYSQL)
#: Kinds a project file can name that smttask refuses to use.
SHELVE, OTHER, UNSUPPORTED = "shelve", "other", "unsupported"

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_SCHEMES = {"postgresql": POSTGRESQL, "postgres": POSTGRESQL, "mysql": MYSQL, "mariadb": MYSQL}


@dataclass(frozen=True)
class StoreAddress:
    kind: str  # one of DATABASE_KINDS
    location: str  # the absolute SQLite path, or the URI as given


def classify(address: str, base: Path | None = None) -> StoreAddress:
    """The kind of store `address` names; a relative SQLite path is taken from `base`
    (default: the working directory), with ``~`` expanded. Raises ProjectError for an
    address of any other kind."""
    scheme = _SCHEME.match(address)
    if scheme is None:
        path = Path(address).expanduser()
        return StoreAddress(SQLITE, os.path.abspath(base / path if base else path))
    kind = _SCHEMES.get(scheme[1].lower().split("+", 1)[0])
    if kind is None:
        raise ProjectError(unsupported_message(address))
    return StoreAddress(kind, address)


#: What `masked` shows instead of a password.
MASK = "***"
_SECRET_KEYS = frozenset({"password", "passwd", "pwd"})


def masked(address: str) -> str:
    """`address` with its password (in ``user:password@`` or a ``password=`` query
    parameter) replaced by ``***``; any other text as it is."""
    if _SCHEME.match(address) is None:
        return address
    try:
        parts = urlsplit(address)
    except ValueError:
        return re.sub(r"(://[^/@:]*:)[^/]*@", rf"\g<1>{MASK}@", address)
    netloc = parts.netloc
    user, at, host = netloc.rpartition("@")
    if at and ":" in user:
        netloc = f"{user.split(':', 1)[0]}:{MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in _SECRET_KEYS for k, _ in pairs):
            query = "&".join(
                f"{quote(k)}={MASK if k.lower() in _SECRET_KEYS else quote(v)}" for k, v in pairs
            )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def passwords_in(address: str) -> list[str]:
    """The password texts of `address` (as written, and percent-decoded), for masking them
    in text that quotes them alone; none shorter than 4 characters (too common to mask)."""
    if _SCHEME.match(address) is None:
        return []
    try:
        parts = urlsplit(address)
        found = [parts.password or ""]
        found += [v for k, v in parse_qsl(parts.query) if k.lower() in _SECRET_KEYS]
    except ValueError:
        return []
    user = parts.netloc.rpartition("@")[0]
    if ":" in user:
        found.append(user.split(":", 1)[1])
    found += [unquote(f) for f in found]
    return sorted({f for f in found if len(f) >= 4}, key=len, reverse=True)


def has_password(address: str) -> bool:
    """Whether `address` holds a password (which `masked` hides)."""
    return masked(address) != address


def unsupported_message(address: str) -> str:
    address = masked(address)
    return (
        f"Unsupported record store {address!r}. Give nothing (SQLite in .smt/records), a path "
        f"to an SQLite file, or a PostgreSQL URI such as postgresql://user@host:5432/dbname."
    )


def require_database(info: ProjectInfo) -> None:
    """Raise ProjectError unless the project's store is one smttask reads and writes."""
    kind = info.kind
    if kind in DATABASE_KINDS:
        return
    address = masked(info.store)
    if kind == UNSUPPORTED:
        raise ProjectError(
            f"{unsupported_message(address)} (The project file {info.smt_dir / 'project'} "
            f"names it; `smttask smt configure --store ADDRESS` changes it.)"
        )
    smt_dir = info.smt_dir
    raise ProjectError(
        f"The Sumatra project in {smt_dir.parent} keeps records in a {kind} store ({address}), "
        f"which loses records when several processes write at once; smttask reads and writes "
        f"only Django stores (SQLite, PostgreSQL, MySQL). Switch to the default SQLite store: "
        f"`smttask smt configure --store {smt_dir / 'records'}`."
    )
