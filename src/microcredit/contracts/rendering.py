"""A template version and a contract's terms to files: HTML (Jinja2 sandbox) → PDF (WeasyPrint), DOCX (docxtpl).

The HTML template is rendered by Jinja2's `SandboxedEnvironment` with autoescape on and undefined
names refused: an administrator's template can neither reach Python internals nor inject markup
through a borrower's name. WeasyPrint lays the HTML out with the system's CJK fonts (Noto Sans CJK
SC, WenQuanYi Zen Hei: scripts/setup.sh installs them) and fetches nothing: every URL in a
template is refused, so a template cannot make the server read files or call other hosts.

The context a template sees:

    contract  number, application_number, date
    lender    name, address
    borrower  name, id_number_masked
    terms     the contract's terms snapshot (contracts.service.terms): amount, amount_words,
              annual_rate_percent, apr_percent, monthly_rate_percent, daily_rate_percent, day_count,
              term, period_unit_name, method_name, purpose_name, purpose_note, start_date,
              maturity_date, installments[], totals{}, fees[], penalty{}
    signature None before the borrower signs; then name, at, phone_masked, ip, device_id,
              user_agent, document_sha256 (the record page of the signed copy)
"""

from __future__ import annotations

import io
import threading
import zipfile
from contextvars import ContextVar
from decimal import Decimal
from functools import cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateRuntimeError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import missing

from microcredit.contracts.errors import TemplateInvalid, UnknownPlaceholder


class _UnknownPlaceholderError(UndefinedError):
    """A name the context does not have; its message is the placeholder, as the template wrote it."""


class _Unknown(StrictUndefined):
    """An undefined name, refused when used (StrictUndefined), whose error names the placeholder from the
    context's root — ``borrower.no_such``, or ``terms.installments[].no_such`` inside a loop over them — by where
    the context's dictionaries and lists sit (`_paths`). Other refusals (the sandbox's hints) stay as they are."""

    __slots__ = ()

    def __init__(self, hint: str | None = None, obj: Any = missing, name: str | None = None,
                 exc: type[TemplateRuntimeError] = UndefinedError) -> None:
        super().__init__(hint, obj, name, _UnknownPlaceholderError if hint is None and name is not None else exc)

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint is not None or self._undefined_name is None:
            return str(super()._undefined_message)
        known = _PATHS.get() or {}
        base = None if self._undefined_obj is missing else known.get(id(self._undefined_obj))
        return f"{base}.{self._undefined_name}" if base else str(self._undefined_name)


_PATHS: ContextVar[dict[int, str] | None] = ContextVar("template_paths", default=None)


def _paths(context: dict[str, Any]) -> dict[int, str]:
    """Where each dictionary and list of the context sits, as a template names it (a list's items as ``[]``)."""
    found: dict[int, str] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            found[id(value)] = path
            for key, item in value.items():
                walk(item, f"{path}.{key}")
        elif isinstance(value, list):
            found[id(value)] = path
            for item in value:
                walk(item, f"{path}[]")

    for name, value in context.items():
        walk(value, name)
    return found


def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=True, undefined=_Unknown)


def _refusal(field: str, exc: TemplateError) -> TemplateInvalid:
    """The problem of a template that does not render: an unknown placeholder named as such, else the error."""
    if isinstance(exc, _UnknownPlaceholderError):
        name = str(exc)[:200]
        return UnknownPlaceholder(field=field, params={"placeholder": name}, extra={"placeholder": name})
    return TemplateInvalid(field=field, params={"error": str(exc)[:200]})


def render_html(source: str, context: dict[str, Any]) -> str:
    """The HTML of a template with this context (TemplateInvalid names the template's error, or the unknown
    placeholder)."""
    token = _PATHS.set(_paths(context))
    try:
        return _environment().from_string(source).render(**context)
    except TemplateError as exc:
        raise _refusal("html", exc) from None
    finally:
        _PATHS.reset(token)


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"contract templates load nothing from outside ({url[:60]})")


_RENDERING = threading.Lock()


@cache
def _fonts() -> Any:
    """One font configuration per process, kept.  WeasyPrint makes a new one for each document when
    given none, and what fontconfig and Pango load for it (the CJK faces are large) is not all given
    back: about 64 MB a document for the default contract, so a test worker that rendered a few
    hundred contracts and receipts grew past 10 GB.  With one configuration the memory stays flat
    (the default contract rendered 10 times: 217 → 220 MB, against 64 MB more each time without)."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def html_to_pdf(html: str) -> bytes:
    """The PDF of an HTML document (A4, CJK fonts; nothing fetched).  Renders one at a time in a
    process: the shared font configuration is not made for threads (a PDF is rare and quick)."""
    from weasyprint import HTML

    with _RENDERING:
        pdf = HTML(string=html, url_fetcher=_no_fetch).write_pdf(font_config=_fonts())
    assert pdf is not None
    return bytes(pdf)


# An uploaded DOCX template: a zip of at most this many bytes, unpacking to at most this many.
DOCX_MAX_BYTES = 2 * 1024 * 1024
DOCX_MAX_UNPACKED = 32 * 1024 * 1024


def check_docx(template: bytes) -> None:
    """Refuse what is not a Word document of a sane size before any parser reads it (a zip bomb
    unpacks to gigabytes: the sizes its directory declares are summed first)."""
    if len(template) > DOCX_MAX_BYTES:
        raise TemplateInvalid(field="docx", params={"error": f"larger than {DOCX_MAX_BYTES // 1024 // 1024} MB"})
    try:
        with zipfile.ZipFile(io.BytesIO(template)) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise TemplateInvalid(field="docx", params={"error": "not a Word (.docx) document"}) from None
    if "word/document.xml" not in names or "[Content_Types].xml" not in names:
        raise TemplateInvalid(field="docx", params={"error": "not a Word (.docx) document"})
    if unpacked > DOCX_MAX_UNPACKED:
        raise TemplateInvalid(field="docx", params={"error": "it unpacks to more than 32 MB"})


def render_docx(template: bytes, context: dict[str, Any]) -> bytes:
    """The editable copy: a docxtpl template filled in (sandboxed, XML-escaped)."""
    from docxtpl import DocxTemplate
    from lxml.etree import XMLSyntaxError

    token = _PATHS.set(_paths(context))
    try:
        doc = DocxTemplate(io.BytesIO(template))
        doc.render(context, jinja_env=_environment(), autoescape=True)
    except TemplateError as exc:
        raise _refusal("docx", exc) from None
    except (XMLSyntaxError, KeyError, zipfile.BadZipFile, ValueError) as exc:  # a damaged package
        raise TemplateInvalid(field="docx", params={"error": f"the document cannot be read: {str(exc)[:160]}"}) \
            from None
    finally:
        _PATHS.reset(token)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_BIG_UNITS = ("", "万", "亿", "万亿")


def _four(n: int) -> str:
    """A number below 10 000 in capital digits, with 零 for inner gaps."""
    out, zero = "", False
    for i in range(3, -1, -1):
        d = n // 10**i % 10
        if d == 0:
            zero = bool(out)
        else:
            out += ("零" if zero else "") + _DIGITS[d] + _SMALL_UNITS[i]
            zero = False
    return out


def amount_in_words(amount: Decimal) -> str:
    """An amount of yuan in capital Chinese numerals, as contracts write it (12 300.50 → 壹万贰仟叁佰元伍角整)."""
    fen = int((amount * 100).to_integral_value())
    yuan, jiao, cent = fen // 100, fen // 10 % 10, fen % 10
    groups = []
    while yuan:
        groups.append(yuan % 10000)
        yuan //= 10000
    text, gap = "", False
    for i in range(len(groups) - 1, -1, -1):
        g = groups[i]
        if g == 0:
            gap = bool(text)
            continue
        text += ("零" if text and (gap or g < 1000) else "") + _four(g) + _BIG_UNITS[i]
        gap = False
    text = (text or "零") + "元"
    if jiao == 0 and cent == 0:
        return text + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif text != "零元":
        text += "零"
    return text + (_DIGITS[cent] + "分" if cent else "整")
