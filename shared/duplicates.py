"""Likely duplicates: the same person enquiring or referred twice in one project.

A second file for one person splits their history, doubles them in every figure and can put
two professionals on one case without either knowing. So a new enquiry (recruitment) or
referral (matching) is compared with the project's files on two identity keys:

* the normalised full name (case, accents, spacing and the order of the name parts do not
  count) with the birth date, and
* the normalised full name with the e-mail address (case does not count).

The keys are keyed blind indexes (``Vault.blind_index``, HMAC with the blind-index key), kept
beside the name index and deleted with it on erasure: findable, never readable. A match is
refused with 409 and the existing file's number, unless the professional confirms that the
new person is someone else (``confirmed_other_person``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date

from shared.domain import DomainError
from shared.vault import Vault, normalise

_PARTS = re.compile(r"[^\w]+|_+")


def identity_keys(vault: Vault, first_name: str, last_name: str, birth_date: date | None,
                  email: str | None = None) -> list[str]:
    """The blind identity keys of a person; none without a birth date or an e-mail address."""
    parts = sorted(p for p in _PARTS.split(normalise(f"{first_name} {last_name}")) if p)
    if not parts:
        return []
    name = " ".join(parts)
    keys = []
    if birth_date is not None:
        keys.append(vault.blind_index(f"identity:name+born:{name}|{birth_date.isoformat()}"))
    if email:
        keys.append(vault.blind_index(f"identity:name+email:{name}|{email.strip().casefold()}"))
    return keys


def refuse_likely_duplicate(existing: Iterable[str], *, confirmed_other_person: bool, what_nl: str,
                            what_en: str) -> None:
    """Refuse a new file when the project already has one for very likely the same person."""
    found: Sequence[str] = sorted(set(existing))
    if not found or confirmed_other_person:
        return
    files = ", ".join(found)
    raise DomainError(
        f"Er bestaat al een dossier voor wellicht dezelfde persoon (zelfde naam en geboortedatum of e-mailadres): "
        f"{files}. Open dat dossier, of bevestig dat het om iemand anders gaat ('confirmed_other_person') / "
        f"A file already exists for very likely the same person (same name and birth date or e-mail address): "
        f"{files}. Open that file, or confirm this is someone else ('confirmed_other_person')",
        code="likely_duplicate", details={"existing_file": found[0], "existing_files": list(found),
                                          "what": {"nl": what_nl, "en": what_en}})
