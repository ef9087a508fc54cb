"""The consent rules without a database: what an acceptance lacks, and the hash that pins a document's text."""

from __future__ import annotations

import pytest

from microcredit.consent.defaults import DEFAULTS
from microcredit.consent.errors import ConsentRequired, ConsentVersionStale
from microcredit.consent.service import KINDS, content_hash, judge
from microcredit.errors import FieldProblem

CURRENT = {"user_agreement": "1.0", "privacy_policy": "1.1", "sensitive_info": "2.0"}


def test_an_acceptance_of_every_current_version_is_complete():
    assert judge(CURRENT, dict(CURRENT)) == {}


@pytest.mark.parametrize("accepted", [None, {}, {"user_agreement": None, "privacy_policy": "", "sensitive_info": None}])
def test_nothing_accepted_requires_all_three(accepted):
    assert judge(CURRENT, accepted) == dict.fromkeys(KINDS, "consent_required")


def test_the_sensitive_information_consent_is_separate_and_required_on_its_own():
    accepted = {"user_agreement": "1.0", "privacy_policy": "1.1"}
    assert judge(CURRENT, accepted) == {"sensitive_info": "consent_required"}


@pytest.mark.parametrize("version", ["1.0", "2.1", "2.0 ", "latest"])
def test_any_version_but_the_current_one_is_stale(version):
    assert judge(CURRENT, {**CURRENT, "sensitive_info": version}) == {"sensitive_info": "consent_version_stale"}


def test_missing_and_stale_are_reported_together():
    assert judge(CURRENT, {"user_agreement": "0.9", "privacy_policy": "1.1"}) == {
        "user_agreement": "consent_version_stale", "sensitive_info": "consent_required"}


def test_the_refusal_names_the_consents_field_and_each_kind():
    refusal = ConsentRequired([FieldProblem("consents.sensitive_info", "consent_required", "en", "zh")])
    assert (refusal.status, refusal.code, refusal.field) == (422, "consent_required", "consents")
    assert [p.field for p in refusal.problems] == ["consents.sensitive_info"]
    assert ConsentVersionStale([]).code == "consent_version_stale"


def test_the_hash_covers_both_languages_titles_and_bodies():
    text = {"title_zh": "隐私政策", "title_en": "Privacy policy", "body_zh": "正文", "body_en": "Text"}
    digest = content_hash(**text)
    assert len(digest) == 64
    assert digest == content_hash(**dict(reversed(text.items())))
    for field in text:
        assert content_hash(**{**text, field: text[field] + "。"}) != digest, field


def test_the_defaults_cover_every_kind_in_both_languages():
    assert tuple(d.kind for d in DEFAULTS) == KINDS
    for d in DEFAULTS:
        assert d.title_zh
        assert d.title_en
        assert d.body_zh
        assert d.body_en
    sensitive = next(d for d in DEFAULTS if d.kind == "sensitive_info")
    assert "第二十九条" in sensitive.body_zh
    assert "article 29" in sensitive.body_en
