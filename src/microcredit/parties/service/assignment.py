"""Which branch an online registrant belongs to.

A borrower who registers online has no branch until one is chosen, and a
branch-scoped loan officer sees only their branch's borrowers (and their
pending profile changes). Each institution states its rule
(`institutions.online_branch_rule`):

* ``region`` — the branch whose region code (GB/T 2260, six digits) is nearest
  the borrower's region: the same county, else the same city (first four
  digits), else the same province (first two). The borrower's region is the
  ID number's address code; when the borrower's stated province (free text in
  the profile, e.g. "江西省") names another province than the ID number's, the
  stated province wins at the province level (people move; the ID number
  records where they were registered). Several branches equally near: the
  default branch if it is one of them, else the one with the smallest code.
  No branch near: the default branch.
* ``default`` — the institution's default branch.
* ``none`` — nobody is chosen automatically.

Whatever the rule, a borrower may end up unassigned (no default branch, no
branch in the region): institution-scoped staff see them in the unassigned
list and move them (`borrower.update`); the move is recorded as ``staff``.
"""

from __future__ import annotations

from dataclasses import dataclass

from microcredit.platform.validators import ResidentId

RULES = ("region", "default", "none")

# GB/T 2260 province-level codes and the names people write (with or without 省/市/自治区).
PROVINCES = {
    "11": "北京", "12": "天津", "13": "河北", "14": "山西", "15": "内蒙古", "21": "辽宁", "22": "吉林",
    "23": "黑龙江", "31": "上海", "32": "江苏", "33": "浙江", "34": "安徽", "35": "福建", "36": "江西",
    "37": "山东", "41": "河南", "42": "湖北", "43": "湖南", "44": "广东", "45": "广西", "46": "海南",
    "50": "重庆", "51": "四川", "52": "贵州", "53": "云南", "54": "西藏", "61": "陕西", "62": "甘肃",
    "63": "青海", "64": "宁夏", "65": "新疆", "71": "台湾", "81": "香港", "82": "澳门",
}


@dataclass(frozen=True)
class BranchPlace:
    """A branch as the rule sees it."""

    id: int
    code: str
    region_code: str | None


def province_code(stated: str | None) -> str | None:
    """The province code of a stated province ("江西省", "江西", "广西壮族自治区"), if it names one."""
    if not stated:
        return None
    text = stated.strip()
    for code, name in PROVINCES.items():
        if text.startswith(name):
            return code
    return None


def choose_branch(*, rule: str, branches: list[BranchPlace], default_branch_id: int | None,
                  resident: ResidentId, stated_province: str | None) -> tuple[int | None, str | None]:
    """The branch for an online registrant and how it was chosen ("region", "default"), or (None, None)."""
    default = default_branch_id if any(b.id == default_branch_id for b in branches) else None
    if rule == "none":
        return None, None
    if rule == "region":
        region = resident.region
        stated = province_code(stated_province)
        if stated is not None and stated != region[:2]:
            region = stated  # only the province is known: match at that level
        for digits in (6, 4, 2):
            if len(region) < digits:
                continue
            near = [b for b in branches if b.region_code and b.region_code[:digits] == region[:digits]]
            if near:
                if default is not None and any(b.id == default for b in near):
                    return default, "region"
                return min(near, key=lambda b: b.code).id, "region"
    if default is not None:
        return default, "default"
    return None, None
