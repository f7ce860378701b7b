"""Pseudonymous person keys: a person is recognised across cases without the BSN leaving the case data.

The key is an HMAC of the BSN (or, without one, of the name and birth date) under a key from configuration that
is not stored in the database: the audit log and the person index hold only these keys.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.orm import Session

from engine.db import session_keys
from engine.models import InstancePerson

_SPACES = re.compile(r"\s+")


def _plain(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _SPACES.sub(" ", folded).strip().lower()


def person_key(
    secret: bytes, *, bsn: str | None = None, name: str | None = None, birth_date: str | None = None
) -> str | None:
    """The person key for a BSN, or for a name with a birth date; None when neither identifies anyone."""
    digits = re.sub(r"\D", "", bsn or "")
    if len(digits) in (8, 9):
        material = f"bsn:{digits.zfill(9)}"
    elif name and name.strip() and birth_date and birth_date.strip():
        material = f"naam:{_plain(name)}|{birth_date.strip()[:10]}"
    else:
        return None
    return hmac.new(secret, material.encode("utf-8"), hashlib.sha256).hexdigest()


def _people(data: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The persons a case's data names: `betrokkenen[]`, a single `betrokkene`, or top-level person fields."""
    people = data.get("betrokkenen")
    if isinstance(people, list):
        main = [p for p in people if isinstance(p, dict) and p.get("rol") == "hoofdbetrokkene"]
        yield from main
        yield from (p for p in people if isinstance(p, dict) and p.get("rol") != "hoofdbetrokkene")
    single = data.get("betrokkene")
    if isinstance(single, dict):
        yield single
    yield {
        "bsn": data.get("bsn") or data.get("bsn_betrokkene"),
        "naam": data.get("naam_betrokkene") or data.get("naam"),
        "geboortedatum": data.get("geboortedatum"),
    }


def person_keys(secret: bytes, data: Mapping[str, Any]) -> list[str]:
    """The keys of every person named in a case's data, the main person first, without duplicates."""
    keys: list[str] = []
    for person in _people(data):
        key = person_key(
            secret,
            bsn=_text(person.get("bsn")),
            name=_text(person.get("naam")),
            birth_date=_text(person.get("geboortedatum")),
        )
        if key is not None and key not in keys:
            keys.append(key)
    return keys


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


_INDEXED = select(InstancePerson.person_key).where(InstancePerson.instance_id == bindparam("instance_id"))
_UNINDEX = delete(InstancePerson).where(
    InstancePerson.instance_id == bindparam("instance_id"),
    InstancePerson.person_key.in_(bindparam("keys", expanding=True)),
)
_INDEX = insert(InstancePerson)


def index_persons(
    session: Session, instance_id: int, data: Mapping[str, Any], *, indexed: list[str] | None = None
) -> str | None:
    """Bring the person index of one case in line with its data; returns the main person's key.

    `indexed`: the keys the index holds for the case when the caller knows them (the data as the last save left it,
    which every save indexes); the index is then only read and written when the persons changed.
    """
    keys = person_keys(session_keys(session).pseudonym, data)
    if indexed is not None and keys == indexed:
        return keys[0] if keys else None
    indexed_now = set(session.scalars(_INDEXED, {"instance_id": instance_id}))
    if gone := indexed_now - set(keys):  # a corrected BSN or name: the old key leaves the index
        session.execute(_UNINDEX, {"instance_id": instance_id, "keys": sorted(gone)})
    if new := [key for key in keys if key not in indexed_now]:
        session.execute(_INDEX, [{"instance_id": instance_id, "person_key": key} for key in new])
    return keys[0] if keys else None
