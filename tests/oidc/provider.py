"""A real OpenID provider for the sign-in tests: the certified ``oidc-provider`` package on Node.

``installed_provider()`` installs the version pinned by ``package-lock.json`` beside this
file once (``npm ci``) into ``var/oidc-provider/<lockfile hash>/`` and reuses it after;
``OpenIdProvider`` runs ``provider.mjs`` from there on a free port. Tests are skipped with
the reason where ``node`` or ``npm`` is missing, or the install fails (no registry).

``accounts()`` is the one place the provider's accounts get their role, projects and
regions (as access-token claims, which the services read today).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.auth import dev_principals
from shared.demo import DEMO_STAFF
from shared.embedded import die_with_parent, free_port
from tests.e2e.system import REPO_ROOT, eventually

HERE = Path(__file__).resolve().parent
CACHE = REPO_ROOT / "var" / "oidc-provider"
RESOURCE = "urn:buddywerking:services"
AUDIENCE = "buddy-api"

# login (= the subject, the actor id) -> the demo person whose role and scope the account has
PEOPLE = {
    "an.peeters": ("dev-admin", "An Peeters"),
    "jonas.claes": ("dev-professional", "Jonas Claes"),
    "sara.janssens": ("dev-professional-other", "Sara Janssens"),
    "wim.maes": ("dev-coordinator", "Wim Maes"),
    "lotte.jacobs": ("dev-auditor", "Lotte Jacobs"),
    "mehmet.yilmaz": ("dev-buddy", "Mehmet Yilmaz"),
}


def accounts() -> dict[str, dict[str, Any]]:
    """The provider's accounts: each a demo person's name and role claim.

    The role claim only gets the token through the services' check; what the person may do
    comes from the staff register, given to the services for these subjects (``STAFF``).
    """
    principals = dev_principals()
    return {login: {"name": name, "claims": {"buddy_role": principals[demo].role.value}}
            for login, (demo, name) in PEOPLE.items()}


#: The staff register of the provider's people, in the shape of ``shared.demo.DEMO_STAFF``: the
#: demo person's roles and assignments under the provider's subject (the buddy is no staff).
STAFF = [(login, *row[1:]) for login, (demo, _) in PEOPLE.items() for row in DEMO_STAFF if row[0] == demo]


def _lock_hash() -> str:
    return hashlib.sha256((HERE / "package-lock.json").read_bytes()).hexdigest()[:16]


def installed_provider() -> Path:
    """The folder with ``node_modules/oidc-provider`` and ``provider.mjs`` (skip when it cannot be had)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed for the OpenID provider of the sign-in tests (apt-get install nodejs npm)")
    folder = CACHE / _lock_hash()
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one install at a time (parallel test runs)
        if not (folder / "node_modules" / "oidc-provider" / "package.json").is_file():
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(HERE / name, folder / name)
            done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=folder,
                                  capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                pytest.skip(f"npm ci of oidc-provider failed (no registry?): {done.stderr[-500:]}")
        shutil.copyfile(HERE / "provider.mjs", folder / "provider.mjs")  # ESM resolves packages beside the script
    return folder


@dataclass
class Client:
    client_id: str
    web_url: str  # the web front signing in with it
    audience: str = AUDIENCE

    def config(self) -> dict[str, Any]:
        return {"client_id": self.client_id, "audience": self.audience,
                "redirect_uris": [f"{self.web_url}/signin/callback"],
                "post_logout_redirect_uris": [f"{self.web_url}/signout/done"]}


class OpenIdProvider:
    """``provider.mjs`` as a child process; its event lines (JSON, no tokens) in ``log``."""

    def __init__(self, folder: Path, log: Path, clients: list[Client], *, access_ttl_s: int,
                 port: int | None = None) -> None:
        self.port = port or free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {**os.environ, "OIDC_PORT": str(self.port), "OIDC_CLIENTS": json.dumps([c.config() for c in clients]),
               "OIDC_ACCOUNTS": json.dumps(accounts()), "OIDC_RESOURCE": RESOURCE,
               "OIDC_ACCESS_TTL_S": str(access_ttl_s), "NODE_ENV": "test"}
        with log.open("ab") as out:
            self.proc = subprocess.Popen(["node", "provider.mjs"], cwd=folder, env=env, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=subprocess.STDOUT,
                                         preexec_fn=die_with_parent(signal.SIGTERM))

        def ready() -> bool:
            assert self.proc.poll() is None, f"the provider exited: {log.read_text(errors='replace')[-2000:]}"
            return httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=2).status_code == 200

        eventually(ready, timeout=30)

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/jwks"

    def events(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                item = json.loads(line)
                if isinstance(item, dict) and "event" in item:
                    out.append(item)
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
