"""A synthetic borrower population whose default model is known: `microcredit risk synth`.

Each borrower has a hidden standing `z ~ N(0, 1)` that ties the attributes together (better
standing: more schooling, steadier work, higher income, cleaner bureau file, more regular payments):

* profile: age (20–65), gender (protected: no effect on the outcome), region, education,
  employment, monthly income (log-normal; by standing, education, region, employment, age);
* bureau: open accounts, overdue events in the last 24 months, worst days past due, inquiries in
  the last 6 months (thin files — no accounts — have no overdue history: missing);
* behaviour: monthly e-commerce spend, payment regularity (0–1), social-channel score (0–100,
  a noisy reading of standing), share of activity at night;
* the loan asked for, as a share of annual income (`loan_to_income`).

The outcome is drawn from the **true model**, a logistic function of those observed columns:

    logit(PD) = -3.40
                - 0.55 · (ln income - 8.5)
                + 0.45 · min(overdue_24m, 4)
                + 0.012 · min(max_dpd, 120)         (0 when the file is thin)
                + 0.30 · thin_file
                + 0.18 · min(inquiries_6m, 6)
                - 1.40 · (payment_regularity - 0.7)
                - 0.015 · (social_score - 50)
                + 0.90 · max(loan_to_income - 0.5, 0)
                + 0.50 · night_share
                + 0.030 · max(30 - age, 0)
                + employment: salaried 0, self-employed 0.25, farmer 0.35, gig 0.45, unemployed 0.90
                + education:  graduate -0.30, college -0.15, secondary 0, primary 0.20

`default ~ Bernoulli(PD)`: the draw is the noise. The file carries `true_pd`, so a learnt model's
AUC can be set beside the true model's on the same rows; the spec written beside the file
excludes it (and the id), keeps gender for the fairness tables only, and names the month of
application as the time column.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REGIONS = ("east", "central", "west", "northeast")
EDUCATION = ("primary", "secondary", "college", "graduate")
EMPLOYMENT = ("salaried", "self_employed", "farmer", "gig", "unemployed")
EMPLOYMENT_LOGIT = {"salaried": 0.0, "self_employed": 0.25, "farmer": 0.35, "gig": 0.45, "unemployed": 0.90}
EDUCATION_LOGIT = {"graduate": -0.30, "college": -0.15, "secondary": 0.0, "primary": 0.20}

SPEC: dict[str, Any] = {
    "target": "default",
    "numeric": ["age", "income", "accounts", "overdue_24m", "max_dpd", "inquiries_6m", "ecommerce_spend",
                "payment_regularity", "social_score", "night_share", "loan_to_income"],
    "categorical": ["region", "education", "employment"],
    "exclude": ["id", "true_pd"],
    "time": "application_month",
    "protected": ["gender"],
    "fairness": {"gender": "gender", "age": "age"},
    "age_bands": [25, 35, 45, 55],
    "labels": {
        "age": {"zh-CN": "年龄", "en": "age"},
        "income": {"zh-CN": "月收入", "en": "monthly income"},
        "accounts": {"zh-CN": "征信账户数", "en": "credit accounts"},
        "overdue_24m": {"zh-CN": "近24个月逾期次数", "en": "overdue events, 24 months"},
        "max_dpd": {"zh-CN": "最长逾期天数", "en": "worst days past due"},
        "inquiries_6m": {"zh-CN": "近6个月查询次数", "en": "credit inquiries, 6 months"},
        "ecommerce_spend": {"zh-CN": "月电商消费", "en": "monthly e-commerce spend"},
        "payment_regularity": {"zh-CN": "缴费规律性", "en": "payment regularity"},
        "social_score": {"zh-CN": "社交渠道评分", "en": "social-channel score"},
        "night_share": {"zh-CN": "夜间活动占比", "en": "night-time activity share"},
        "loan_to_income": {"zh-CN": "申请金额/年收入", "en": "loan to annual income"},
        "region": {"zh-CN": "地区", "en": "region"},
        "education": {"zh-CN": "学历", "en": "education"},
        "employment": {"zh-CN": "就业类型", "en": "employment"},
    },
}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def true_logit(df: pd.DataFrame) -> np.ndarray:
    """The true model's log-odds of default for rows of the population (module docstring)."""
    thin = (df["accounts"].to_numpy() == 0).astype(np.float64)
    overdue = np.nan_to_num(df["overdue_24m"].to_numpy(dtype=np.float64))
    dpd = np.nan_to_num(df["max_dpd"].to_numpy(dtype=np.float64))
    return np.asarray(-3.40
            - 0.55 * (np.log(df["income"].to_numpy(dtype=np.float64)) - 8.5)
            + 0.45 * np.minimum(overdue, 4)
            + 0.012 * np.minimum(dpd, 120)
            + 0.30 * thin
            + 0.18 * np.minimum(df["inquiries_6m"].to_numpy(dtype=np.float64), 6)
            - 1.40 * (df["payment_regularity"].to_numpy(dtype=np.float64) - 0.7)
            - 0.015 * (df["social_score"].to_numpy(dtype=np.float64) - 50)
            + 0.90 * np.maximum(df["loan_to_income"].to_numpy(dtype=np.float64) - 0.5, 0)
            + 0.50 * df["night_share"].to_numpy(dtype=np.float64)
            + 0.030 * np.maximum(30 - df["age"].to_numpy(dtype=np.float64), 0)
            + df["employment"].map(EMPLOYMENT_LOGIT).to_numpy(dtype=np.float64)
            + df["education"].map(EDUCATION_LOGIT).to_numpy(dtype=np.float64))


def population(rows: int, seed: int = 0) -> pd.DataFrame:
    """`rows` borrowers with their attributes, `true_pd` and the drawn `default` (0/1)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(rows)
    age = np.clip(np.rint(36 + 10 * rng.standard_normal(rows) + 2 * z), 20, 65)
    gender = rng.choice(np.array(["F", "M"]), rows)
    region = rng.choice(np.array(REGIONS), rows, p=[0.4, 0.25, 0.2, 0.15])
    edu_level = np.clip(np.rint(1.3 + 0.8 * z + 0.7 * rng.standard_normal(rows)), 0, 3).astype(int)
    education = np.array(EDUCATION)[edu_level]
    work = 1.0 * z + rng.standard_normal(rows)
    employment = np.select([work > 0.3, work > -0.4, work > -1.0, work > -1.8],
                           ["salaried", "self_employed", "gig", "farmer"], "unemployed")
    region_shift = pd.Series(region).map({"east": 0.25, "central": 0.0, "west": -0.15, "northeast": -0.05})
    log_income = (8.4 + 0.35 * z + 0.15 * edu_level + region_shift.to_numpy()
                  + np.where(employment == "unemployed", -0.6, 0.0) + 0.01 * (age - 36)
                  + 0.35 * rng.standard_normal(rows))
    income = np.rint(np.exp(log_income))
    risk = -z + 0.6 * rng.standard_normal(rows)  # the bureau and behaviour read a noisy standing
    accounts = rng.poisson(np.clip(1.5 + 0.05 * (age - 20) + 0.4 * z, 0.1, None))
    thin = accounts == 0
    overdue = rng.poisson(np.exp(-1.2 + 0.8 * risk)).astype(np.float64)
    max_dpd = np.where(overdue > 0, np.rint(rng.gamma(1.5, 12 + 10 * np.maximum(risk, 0))) + 1, 0.0)
    overdue[thin] = np.nan
    max_dpd[thin] = np.nan
    inquiries = rng.poisson(np.exp(0.2 + 0.35 * risk))
    spend = np.rint(np.exp(log_income - 2.2 + 0.5 * rng.standard_normal(rows)))
    regularity = np.clip(rng.beta(6, 2, rows) - 0.08 * risk, 0, 1).round(3)
    social = np.clip(np.rint(50 + 12 * z + 15 * rng.standard_normal(rows)), 0, 100)
    night = np.clip(rng.beta(2, 8, rows) + 0.04 * np.maximum(risk, 0), 0, 1).round(3)
    loan_to_income = np.round(rng.gamma(2.0, 0.25, rows) * np.exp(-0.1 * z), 3)
    df = pd.DataFrame({
        "id": np.arange(1, rows + 1), "application_month": rng.integers(1, 25, rows), "age": age,
        "gender": gender, "region": region, "education": education, "employment": employment, "income": income,
        "accounts": accounts, "overdue_24m": overdue, "max_dpd": max_dpd, "inquiries_6m": inquiries,
        "ecommerce_spend": spend, "payment_regularity": regularity, "social_score": social,
        "night_share": night, "loan_to_income": loan_to_income})
    df["true_pd"] = _sigmoid(true_logit(df))
    df["default"] = (rng.random(rows) < df["true_pd"].to_numpy()).astype(np.int64)
    return df


def spec_path(out: Path) -> Path:
    """Where the spec of a data file goes: beside it, `NAME.spec.json`."""
    return out.with_name(out.stem + ".spec.json")


def write(out: Path, *, rows: int, seed: int = 0) -> dict[str, Any]:
    """Write the population (CSV or Parquet by extension) and its spec; the summary."""
    from microcredit.risk.learning.metrics import auc

    df = population(rows, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".parquet":
        df.to_parquet(out, index=False)
    else:
        df.to_csv(out, index=False)
    spec_file = spec_path(out)
    spec_file.write_text(json.dumps(SPEC, ensure_ascii=False, indent=1), encoding="utf-8")
    return {"rows": rows, "seed": seed, "out": str(out), "spec": str(spec_file),
            "default_rate": float(df["default"].mean()),
            "true_auc": auc(df["default"].to_numpy(), df["true_pd"].to_numpy())}
