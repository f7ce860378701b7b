"""Invented people for the synthetic history: names from short lists, birth dates, and fake BSNs.

No real person is meant. A fake BSN passes the elfproef (the form checks it) but starts with 99, a range this
generator keeps for itself, so it is recognisably synthetic; each one is used once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from engine.forms import is_valid_bsn

_GIVEN = (
    "Anouk", "Bas", "Chantal", "Daan", "Esra", "Floor", "Gerrit", "Hanna", "Ilias", "Joyce", "Koen", "Lotte",
    "Mehmet", "Noor", "Olaf", "Priya", "Quinten", "Roos", "Sem", "Tessa", "Umut", "Vera", "Wout", "Yara", "Zeynep",
)  # fmt: skip
_FAMILY = (
    "Aalbers", "Brouwer", "Claassen", "Dekkers", "Evers", "Franken", "Gielen", "Hendriks", "IJzerman", "Jacobs",
    "Kuijpers", "Lambregts", "Martens", "Nouwens", "Oomen", "Peeters", "Rijnders", "Schellekens", "Timmermans",
    "Van Gils", "Verhoeven", "Willems", "Zoet",
)  # fmt: skip


@dataclass(frozen=True)
class Person:
    """An invented person: name, birth date and a fake BSN that passes the elfproef."""

    naam: str
    geboortedatum: date
    bsn: str


class People:
    """A deterministic stream of invented people (same seed, same people)."""

    def __init__(self, rng: random.Random, *, first_bsn: int = 990_000_000) -> None:
        self._rng = rng
        self._next_bsn = first_bsn

    def bsn(self) -> str:
        """The next fake BSN: nine digits from 99…, passing the elfproef, never handed out twice."""
        while True:
            self._next_bsn += 1
            candidate = f"{self._next_bsn:09d}"
            if is_valid_bsn(candidate):
                return candidate

    def person(self, *, born_between: tuple[int, int] = (1960, 2004)) -> Person:
        """Someone new, born between the two years."""
        first, last = born_between
        born = date(first, 1, 1) + timedelta(days=self._rng.randrange((date(last, 12, 31) - date(first, 1, 1)).days))
        naam = f"{self._rng.choice(_GIVEN)} {self._rng.choice(_FAMILY)}"
        return Person(naam=naam, geboortedatum=born, bsn=self.bsn())
