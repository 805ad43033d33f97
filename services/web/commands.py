"""The key every command sent from a page carries, made when its form was drawn.

The services remember a command's first answer under the caller's ``Idempotency-Key``
(``shared.idempotency``). A form drawn once holds one key in a hidden field, so a double
click, a resent form or the browser's back-and-resubmit reaches the service with the same
key and is answered with the first result instead of being recorded twice. A form that
comes without a usable key (drawn by an older page) gets a fresh one: recorded once per
submission, as before keys existed.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping

from shared.idempotency import KEY_PATTERN

FIELD = "idempotency_key"
_KEY = re.compile(KEY_PATTERN)


def new_command_key() -> str:
    return str(uuid.uuid4())


def command_key(form: Mapping[str, str]) -> str:
    key = form.get(FIELD, "")
    return key if _KEY.fullmatch(key) else new_command_key()
