"""The branch of an online registrant (parties.service.assignment), as a table of cases."""

from __future__ import annotations

from datetime import date

import pytest

from microcredit.parties.service.assignment import BranchPlace, choose_branch, province_code
from microcredit.platform.validators import id_check_character, validate_id_number

# Nanchang's branches: 东湖区 360102, 青山湖区 360111; Ganzhou's 章贡区 360702; no branch in Beijing.
BRANCHES = [BranchPlace(1, "BR01", "360102"), BranchPlace(2, "BR02", "360111"), BranchPlace(3, "BR03", "360702"),
            BranchPlace(4, "BR04", None)]


def resident(region: str):
    first17 = f"{region}{date(1990, 1, 1):%Y%m%d}123"
    return validate_id_number(first17 + id_check_character(first17))


@pytest.mark.parametrize(("rule", "region", "province", "default", "expected"), [
    # the same county wins
    ("region", "360111", None, 1, (2, "region")),
    ("region", "360702", "江西省", None, (3, "region")),
    # the same city (3601..): two branches; the default one if it is among them, else the smaller code
    ("region", "360103", None, 2, (2, "region")),
    ("region", "360103", None, None, (1, "region")),
    ("region", "360103", None, 3, (1, "region")),
    # the same province only (36....): every Jiangxi branch is as near; the default is one of them
    ("region", "360425", None, 3, (3, "region")),
    # no branch in the region: the default branch, or nobody
    ("region", "110105", None, 1, (1, "default")),
    ("region", "110105", "北京市", None, (None, None)),
    # someone registered in Beijing who lives in Jiangxi: the stated province decides
    ("region", "110105", "江西", 2, (2, "region")),
    ("region", "110105", "江西省", None, (1, "region")),
    # a province we cannot read is ignored
    ("region", "360111", "火星", None, (2, "region")),
    # the other rules
    ("default", "360111", None, 3, (3, "default")),
    ("default", "360111", None, None, (None, None)),
    ("none", "360111", None, 1, (None, None)),
    # a default that is not an open branch of the institution is no default
    ("region", "110105", None, 99, (None, None)),
])
def test_the_branch_of_an_online_registrant(rule, region, province, default, expected):
    assert choose_branch(rule=rule, branches=BRANCHES, default_branch_id=default, resident=resident(region),
                         stated_province=province) == expected


@pytest.mark.parametrize(("text", "code"), [
    ("江西省", "36"), ("江西", "36"), ("广西壮族自治区", "45"), ("内蒙古自治区", "15"), ("北京市", "11"),
    (" 黑龙江省 ", "23"), ("", None), (None, None), ("Jiangxi", None),
])
def test_a_stated_province_is_read_by_its_name(text, code):
    assert province_code(text) == code
