"""Chart layouts as inline SVG, for the dashboard: no script, no external file.

Texts carry both languages (``data-nl``/``data-en``) so the language toggle can switch
them in place; colours are presentation attributes, not ``style``, so the page's
Content-Security-Policy can forbid inline styles.
"""

from __future__ import annotations

from contextvars import ContextVar
from html import escape

from services.reporting.document import Text
from services.reporting.outputs.charts import Dot, HiddenMark, Label, Layout, Line, Path, Rect
from services.reporting.outputs.view import MARKER, Lang, pick


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _attr(value: str) -> str:
    return escape(value, quote=True)


# Whether texts carry both languages for a language toggle in the page (the reporting
# dashboard has one). A page served in one language (the web front switches languages on the
# server) leaves them out: a third of a report's weight.
BOTH_LANGUAGES: ContextVar[bool] = ContextVar("BOTH_LANGUAGES", default=True)


def bilingual(text: Text, lang: Lang) -> str:
    """Attributes and content for an element whose text follows the language toggle."""
    if not BOTH_LANGUAGES.get():
        return f">{escape(pick(text, lang))}"
    return f' data-nl="{_attr(text.nl)}" data-en="{_attr(text.en)}">{escape(pick(text, lang))}'


def _title(tip: Text | None, lang: Lang) -> str:
    return "" if tip is None else f"<title{bilingual(tip, lang)}</title>"


def _shape(shape: object, lang: Lang) -> str:
    match shape:
        case Rect(x, y, w, h, fill, tip, role):
            return (f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" height="{_num(h)}" fill="{fill}" '
                    f'class="{role}">{_title(tip, lang)}</rect>')
        case Line(x1, y1, x2, y2, stroke, width, dash):
            dashes = "" if dash is None else f' stroke-dasharray="{_num(dash[0])} {_num(dash[1])}"'
            return (f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" stroke="{stroke}" '
                    f'stroke-width="{_num(width)}"{dashes}/>')
        case Path(points, stroke, width):
            pts = " ".join(f"{_num(x)},{_num(y)}" for x, y in points)
            return (f'<polyline points="{pts}" fill="none" stroke="{stroke}" stroke-width="{_num(width)}" '
                    f'stroke-linejoin="round" stroke-linecap="round" class="series"/>')
        case Dot(x, y, r, fill, tip):
            return (f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_num(r)}" fill="{fill}" stroke="#ffffff" '
                    f'stroke-width="1" class="point">{_title(tip, lang)}</circle>')
        case Label(x, y, text, size, anchor, fill, bold):
            weight = ' font-weight="600"' if bold else ""
            return (f'<text x="{_num(x)}" y="{_num(y)}" font-size="{_num(size)}" text-anchor="{anchor}" '
                    f'fill="{fill}"{weight}{bilingual(text, lang)}</text>')
        case HiddenMark(x, y, size, tip, fill, anchor):
            return (f'<text x="{_num(x)}" y="{_num(y)}" font-size="{_num(size)}" text-anchor="{anchor}" '
                    f'fill="{fill}" font-weight="700" class="hidden-mark">{MARKER}{_title(tip, lang)}</text>')
    raise TypeError(f"unknown shape {shape!r}")


def render_svg(out: Layout, *, title: Text, description: Text, ident: str, lang: Lang, variant: str = "") -> str:
    """One chart as an accessible SVG element (role img, title and description).

    ``variant`` (``wide`` or ``narrow``) names the layout when a page carries one per screen
    width; the style sheet shows one of them (the other is ``display: none``, out of the
    accessibility tree too)."""
    body = "".join(_shape(s, lang) for s in out.shapes)
    extra = f" chart-{variant}" if variant else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{out.kind} chart-w{round(out.width)}{extra}" '
        f'viewBox="0 0 {_num(out.width)} {_num(out.height)}" width="{_num(out.width)}" height="{_num(out.height)}" '
        f'role="img" aria-labelledby="{ident}-t {ident}-d" data-hidden="{out.hidden}">'
        f'<title id="{ident}-t"{bilingual(title, lang)}</title>'
        f'<desc id="{ident}-d"{bilingual(description, lang)}</desc>'
        f"{body}</svg>"
    )
