"""Dutch first, English second: message catalogs, and dates and numbers per locale.

The catalogs are the ``.po`` files under ``translations/``, read once at start-up with
Babel's ``read_po``: no compile step and no ``.mo`` files to keep in step with them (a
test checks every text in the templates and the code has a translation in both). Message
ids are English; the Dutch catalog translates them, the English one repeats them (so a
reviewer reads both side by side).

"Today" and every day boundary are those of Europe/Brussels, whatever the server's zone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

Lang = Literal["nl", "en"]
LANGUAGES: tuple[Lang, ...] = ("nl", "en")
DEFAULT: Lang = "nl"
BRUSSELS = ZoneInfo("Europe/Brussels")
FOLDER = Path(__file__).parent / "translations"
LOCALES = {"nl": Locale.parse("nl_BE"), "en": Locale.parse("en_GB")}


def load_catalogs(folder: Path = FOLDER) -> dict[str, dict[str, str]]:
    """msgid -> text per language; an untranslated entry is left out (the id shows)."""
    catalogs = {}
    for lang in LANGUAGES:
        with (folder / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        catalogs[lang] = {m.id: m.string for m in catalog if m.id and isinstance(m.id, str) and m.string}
    return catalogs


_CATALOGS = load_catalogs()


def N_(message: str) -> str:  # noqa: N802 - the customary name
    """Marks a message id translated later (where it is shown), so extraction finds it."""
    return message


def lang_of(value: str | None) -> Lang:
    return value if value in LANGUAGES else DEFAULT  # type: ignore[return-value]


def translator(lang: Lang) -> Callable[..., str]:
    """``_("Sign in")`` in the reader's language; ``_("{n} reports", n=3)`` fills in."""
    texts = _CATALOGS[lang]

    def gettext(message: str, **values: object) -> str:
        text = texts.get(message, message)
        return text.format(**values) if values else text

    return gettext


def today(now: datetime | None = None) -> date:
    """The day it is in Brussels (``now``: an aware moment, default the present)."""
    return (now or datetime.now(BRUSSELS)).astimezone(BRUSSELS).date()


def local(moment: datetime) -> datetime:
    return moment.astimezone(BRUSSELS)


def day(value: date | str, lang: Lang, form: str = "long") -> str:
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return format_date(value, form, locale=LOCALES[lang])


def moment(value: datetime | str, lang: Lang) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return format_datetime(local(value), "d MMMM y, HH:mm", tzinfo=BRUSSELS, locale=LOCALES[lang])


def month(value: date, lang: Lang) -> str:
    """"januari 2026" / "January 2026"."""
    return format_date(value, "LLLL y", locale=LOCALES[lang])


def number(value: float | int, lang: Lang) -> str:
    return format_decimal(value, locale=LOCALES[lang])
