"""Who may sign in, and how: the seam between the web front and an identity provider.

A ``SignInProvider`` says who can be signed in and hands back the access token the
services are called with. The embedded default, ``DemoSignIn``, lists the demo people of
the dev tokens (``shared.auth.dev_principals``) and signs in as one with a click; it
exists only where the services accept dev tokens. Production will plug in an OpenID
Connect provider here (authorization code flow with PKCE): the pages and sessions do not
change, only where the person and the token come from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shared.auth import dev_principals
from shared.settings import Settings
from services.web.i18n import N_


@dataclass(frozen=True)
class Person:
    """Someone who can sign in, as the sign-in page shows them (labels are message ids)."""

    id: str
    name: str
    role: str  # the Role value the services know
    description: str  # message id: what they do, shown under the name
    token: str  # the access token the services are called with


class SignInProvider(Protocol):
    kind: str

    def people(self) -> list[Person]: ...

    def person(self, person_id: str) -> Person | None: ...


# Invented names for the demo identities; the description says role and scope.
_DEMO = {
    "dev-admin": ("An Peeters", N_("Manages staff and projects everywhere")),
    "dev-professional": ("Jonas Claes", N_("Works in Buddywerking Antwerpen and Samen Sterk Gent")),
    "dev-professional-other": ("Sara Janssens", N_("Works in Buddy Brugge")),
    "dev-coordinator": ("Wim Maes", N_("Coordinates the region Antwerpen-Kempen")),
    "dev-government": ("Els Wouters", N_("Reads the figures of all of Flanders for the government")),
    "dev-auditor": ("Lotte Jacobs", N_("Reads the history and every report")),
    "dev-buddy": ("Mehmet Yilmaz", N_("Volunteer in Buddywerking Antwerpen")),
}


class DemoSignIn:
    """The demo people of the embedded default: sign in as one with a click."""

    kind = "demo"

    def __init__(self) -> None:
        principals = dev_principals()
        self._people = {
            token: Person(id=token, name=name, role=principals[token].role.value, description=description,
                          token=token)
            for token, (name, description) in _DEMO.items() if token in principals
        }

    def people(self) -> list[Person]:
        return list(self._people.values())

    def person(self, person_id: str) -> Person | None:
        return self._people.get(person_id)


class NoSignIn:
    """Production until the OpenID Connect sign-in is built: nobody can sign in (the page says so)."""

    kind = "none"

    def people(self) -> list[Person]:
        return []

    def person(self, person_id: str) -> Person | None:
        return None


def provider_for(settings: Settings) -> SignInProvider:
    """The demo people where the services accept dev tokens; elsewhere (production) no one yet."""
    if settings.env == "dev" and settings.dev_tokens:
        return DemoSignIn()
    return NoSignIn()
