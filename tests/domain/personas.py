"""The people the identity-rule tests are about, named once so that every test reads alike."""

from __future__ import annotations

from dataclasses import dataclass

# 2023-11-14T22:13:20Z: the time the tests' workspace receives calls unless a test moves it.
START = 1_700_000_000.0
HOUR = 3600.0
DAY = 24 * HOUR


@dataclass(frozen=True)
class Persona:
    name: str
    id: str
    email: str
    anonymous_id: str
    device: str


# A customer who signs up with both identifiers.
ADA = Persona("Ada", "ada-1", "ada@example.com", "anon-ada", "device-ada")
# A second customer, to collide with Ada.
GRACE = Persona("Grace", "grace-1", "grace@example.com", "anon-grace", "device-grace")
# A lead: known by email from a newsletter form before she signs up.
MARGARET = Persona("Margaret", "margaret-1", "margaret@example.com", "anon-margaret", "device-mh")
# Someone who browses anonymously for a while before identifying.
LINUS = Persona("Linus", "linus-1", "linus@example.com", "anon-linus", "device-linus")
# A customer who later asks to be forgotten (delete, suppress).
BARBARA = Persona("Barbara", "barbara-1", "barbara@example.com", "anon-barbara", "device-bl")

# An id that looks like an email: an email reference in email_or_id, an id in id_only.
EMAIL_SHAPED_ID = "ken@example.org"
# A phone number: always an id reference (I2.3).
PHONE = "+15550100"
