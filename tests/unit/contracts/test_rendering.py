"""Contract rendering without a database: capital-numeral amounts, the sandbox, the default template's text."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from microcredit.contracts import defaults, rendering
from microcredit.contracts.errors import TemplateInvalid, UnknownPlaceholder
from microcredit.contracts.service import templates


@pytest.mark.parametrize(("amount", "words"), [
    ("0.00", "零元整"),
    ("8000.00", "捌仟元整"),
    ("10000.00", "壹万元整"),
    ("12300.50", "壹万贰仟叁佰元伍角整"),
    ("100005.07", "壹拾万零伍元零柒分"),
    ("1001.10", "壹仟零壹元壹角整"),
    ("200000000.00", "贰亿元整"),
    ("100010000.00", "壹亿零壹万元整"),
])
def test_amount_in_capital_numerals(amount, words):
    assert rendering.amount_in_words(Decimal(amount)) == words


def test_the_sandbox_refuses_python_internals_and_unknown_names():
    with pytest.raises(TemplateInvalid) as refused:
        rendering.render_html("{{ ''.__class__.__mro__[1].__subclasses__() }}", {})
    assert refused.value.field == "html"
    with pytest.raises(TemplateInvalid):
        rendering.render_html("{{ no_such_name.amount }}", {})


@pytest.mark.parametrize(("source", "placeholder"), [
    ("{{ borrower.no_such }}", "borrower.no_such"),
    ("{{ lender }}{{ no_such_name }}", "no_such_name"),
    ("{{ terms.totals.no_such }}", "terms.totals.no_such"),
    ("{% for row in terms.installments %}{{ row.total }}{{ row.no_such }}{% endfor %}",
     "terms.installments[].no_such"),
    ("{{ terms.fees[0].no_such }}", "terms.fees[].no_such"),
])
def test_an_unknown_placeholder_is_named_from_the_root(source, placeholder):
    with pytest.raises(UnknownPlaceholder) as refused:
        rendering.render_html(source, templates.sample_context())
    assert (refused.value.field, refused.value.extra) == ("html", {"placeholder": placeholder})
    assert refused.value.code == "template_invalid"  # a kind of invalid template, for clients that know only that
    assert placeholder in refused.value.message("zh-CN")
    assert "未知的占位符" in refused.value.message("zh-CN")


def test_other_template_errors_are_not_called_placeholders():
    for source in ("{% if %}", "{{ borrower.name.__class__ }}"):
        with pytest.raises(TemplateInvalid) as refused:
            rendering.render_html(source, templates.sample_context())
        assert not isinstance(refused.value, UnknownPlaceholder)
    # a guarded optional name is no error
    assert rendering.render_html("{% if borrower.nickname is defined %}x{% endif %}ok", templates.sample_context()) \
        == "ok"


def test_values_are_escaped():
    html = rendering.render_html("<p>{{ borrower.name }}</p>", {"borrower": {"name": "<script>x</script>"}})
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_the_default_template_states_the_apr_first_and_at_least_as_large():
    html = rendering.render_html(defaults.DEFAULT_HTML, templates.sample_context())
    terms = templates.sample_context()["terms"]
    text = re.sub(r"<[^>]+>", "", html)
    assert text.index(f"{terms['apr_percent']}%") < text.index(f"{terms['monthly_rate_percent']}%")
    assert text.index(f"{terms['apr_percent']}%") < text.index(f"{terms['daily_rate_percent']}%")
    # The APR's figure is set larger (16pt) than the body the monthly and daily rates are in (10pt).
    assert ".apr .figure { font-size: 16pt" in html
    assert ".rates { font-size: 10pt; }" in html
    for row in terms["installments"]:
        assert row["due_date"] in text
    for clause in ("逾期罚息", "违约与提前到期", "争议解决", "担保机构"):
        assert clause in text


def test_rendering_many_contracts_does_not_grow_the_process():
    """WeasyPrint left ~64 MB behind per document when it made a font configuration for each one;
    the process keeps one, so rendering again costs no more memory."""
    import os

    def rss_mb() -> int:
        with open(f"/proc/{os.getpid()}/status") as status:
            return int(status.read().split("VmRSS:")[1].split()[0]) // 1024

    html = rendering.render_html(defaults.DEFAULT_HTML, templates.sample_context())
    for _ in range(2):  # fonts loaded, caches warm
        rendering.html_to_pdf(html)
    before = rss_mb()
    for _ in range(5):
        assert rendering.html_to_pdf(html).startswith(b"%PDF")
    assert rss_mb() - before < 64, "five renders grew the process by a document's worth of fonts or more"
