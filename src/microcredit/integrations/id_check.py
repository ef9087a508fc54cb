"""Identity verification: the adapter interface and the built-in ID check *simulator*.

A real deployment asks a name/ID-number match service (公安身份核查, through
NCIIC or a licensed intermediary) whether the name belongs to the ID number.
The demo and the tests use `SimulatedIdVerifier`, which answers "match" for
every valid number except two documented scenarios chosen by the ID number's
sequence code (positions 15–17, 1-based; the first two decide):

``980-989``  the name does not match the number (`name_mismatch`)
``990-999``  the number is not in the register (`not_found`)

An ID number whose check character is wrong is `not_found` as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from microcredit.platform.validators import InvalidIdentifier, validate_id_number

RESULTS = ("match", "name_mismatch", "not_found")


@dataclass(frozen=True)
class IdCheck:
    """The answer of an identity check."""

    result: str  # one of RESULTS
    source: str  # "simulator" or the adapter's name
    reference: str  # the provider's transaction reference


class IdVerifier(Protocol):
    """Checks that a name belongs to a resident ID number."""

    name: str

    def verify(self, *, id_number: str, name: str) -> IdCheck:
        """Whether the register holds this number with this name."""
        ...


class SimulatedIdVerifier:
    """The built-in ID check simulator (demo and tests): deterministic, two failing scenarios."""

    name = "simulator"

    def verify(self, *, id_number: str, name: str) -> IdCheck:
        """Match, unless the sequence code asks for `name_mismatch` (98x) or `not_found` (99x)."""
        reference = f"SIM-ID-{id_number[-6:]}"
        try:
            validate_id_number(id_number)
        except InvalidIdentifier:
            return IdCheck("not_found", self.name, reference)
        code = id_number[14:16]
        if code == "98" or not name.strip():
            return IdCheck("name_mismatch", self.name, reference)
        if code == "99":
            return IdCheck("not_found", self.name, reference)
        return IdCheck("match", self.name, reference)
