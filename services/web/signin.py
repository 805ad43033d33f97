"""Who may sign in, and how: the seam between the web front and an identity provider.

A ``SignInProvider`` says who can be signed in and hands back the access token the
services are called with. The embedded default, ``DemoSignIn``, lists the demo people of
the dev tokens (``shared.auth.dev_principals``) and signs in as one with a click; it
exists only where the services accept dev tokens. Everywhere else people sign in with
the organisation's identity provider, ``OidcSignIn`` (``services.web.oidc``: authorization
code flow with PKCE): the pages and sessions do not change, only where the person and the
token come from. A web front with neither refuses to start, with the settings it lacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shared.auth import dev_principals
from shared.settings import Settings
from services.web.config import WebSettings
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


def provider_for(settings: Settings, web: WebSettings | None = None) -> SignInProvider:
    """The organisation's identity provider when one is configured; the demo people where the
    services accept dev tokens; else a sentence naming what is missing (the web front does not start)."""
    web = web or WebSettings()
    if web.oidc_client_id or settings.env == "production":
        from services.web.oidc import OidcSignIn

        missing = [name for name, value in (("BUDDY_OIDC_ISSUER", settings.oidc_issuer),
                                            ("BUDDY_OIDC_AUDIENCE", settings.oidc_audience),
                                            ("BUDDY_WEB_OIDC_CLIENT_ID", web.oidc_client_id)) if not value]
        if settings.env == "production" and not web.public_url:
            missing.append("BUDDY_WEB_PUBLIC_URL")
        if missing:
            raise ValueError(f"the web front signs people in with the identity provider and needs {', '.join(missing)}")
        return OidcSignIn(settings, web)
    if settings.accepts_dev_tokens:
        return DemoSignIn()
    raise ValueError("the web front has no way to sign anyone in: set BUDDY_WEB_OIDC_CLIENT_ID, BUDDY_OIDC_ISSUER "
                     "and BUDDY_OIDC_AUDIENCE for the organisation's identity provider (docs/operations.md), or run "
                     "the embedded system with its demo people (buddy run)")
