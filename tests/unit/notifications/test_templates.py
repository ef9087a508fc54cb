"""SMS templates: both languages say the same thing with the same blanks; rendering never leaves a blank."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from microcredit.notifications.templates import PURPOSE_TEXT, SMS_TEMPLATES, render_sms


def blanks(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("template", sorted(SMS_TEMPLATES))
def test_both_languages_have_the_same_blanks_and_a_signature(template):
    texts = SMS_TEMPLATES[template]
    assert set(texts) == {"zh-CN", "en"}
    # the same blanks, a language's own wording of a phrase aside (purpose_zh / purpose_en)
    zh = {b.removesuffix("_zh") for b in blanks(texts["zh-CN"])}
    assert zh == {b.removesuffix("_en") for b in blanks(texts["en"])}
    assert texts["zh-CN"].startswith("【{signature}】")  # the operator's required form of a Chinese signature
    assert texts["en"].startswith("[{signature}]")


@pytest.mark.parametrize("template", sorted(SMS_TEMPLATES))
@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_every_blank_is_filled(template, language):
    params = {name: f"<{name}>" for name in blanks(SMS_TEMPLATES[template][language])}
    text = render_sms(template, language, params)
    assert "{" not in text
    assert "}" not in text
    assert all(f"<{name}>" in text for name in params)


def test_an_unknown_language_falls_back_to_chinese():
    params = {"signature": "示范小贷"}
    assert render_sms("already_registered", "fr", params) == render_sms("already_registered", "zh-CN", params)


def test_a_missing_blank_is_an_error_not_a_silent_gap():
    with pytest.raises(KeyError):
        render_sms("verification_code", "en", {"signature": "Demo"})


def test_every_code_purpose_reads_in_both_languages():
    assert set(PURPOSE_TEXT) == {"register", "login", "reset_password", "change_phone", "link", "sign_contract"}
    for zh, en in PURPOSE_TEXT.values():
        assert zh
        assert en
        assert not en[0].isupper()  # it follows "to" in the English text


@pytest.mark.parametrize("catalogue", ["zh-CN", "en"])
def test_the_outbox_monitor_names_every_sms_template_in_both_languages(catalogue):
    """The console's outbox monitor shows a message's template by name (`outboxTemplate.*`): a template
    without one would show as its raw key."""
    source = (Path(__file__).parents[3] / "web" / "src" / "i18n" / f"{catalogue}.ts").read_text(encoding="utf-8")
    block = source[source.index("  outboxTemplate: {"):]
    block = block[:block.index("\n  },")]
    named = set(re.findall(r"^\s{4}(\w+):", block, flags=re.MULTILINE))
    assert set(SMS_TEMPLATES) - named == set()
