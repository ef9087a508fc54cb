"""The validation report as one self-contained HTML file: tables and inline SVG charts, no network.

Headings in Chinese or English (`lang`); the figures are those of `report.json`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

WORDS = {
    "title": {"zh-CN": "模型验证报告", "en": "Model validation report"},
    "summary": {"zh-CN": "区分度与准确度（交叉验证，样本外）",
                "en": "Discrimination and accuracy (cross-validated, out of fold)"},
    "folds": {"zh-CN": "各折结果", "en": "Folds"},
    "calibration": {"zh-CN": "校准", "en": "Calibration"},
    "distribution": {"zh-CN": "分数分布", "en": "Score distribution"},
    "fairness": {"zh-CN": "公平性（按性别、年龄段）", "en": "Fairness (by gender and age band)"},
    "bins": {"zh-CN": "分箱表", "en": "Bin tables"},
    "characteristics": {"zh-CN": "特征分析（训练 vs 验证）", "en": "Characteristic analysis (training vs held-out)"},
    "params": {"zh-CN": "超参数", "en": "Hyper-parameters"},
    "predicted": {"zh-CN": "预测违约率", "en": "predicted PD"},
    "observed": {"zh-CN": "实际违约率", "en": "observed default rate"},
    "count": {"zh-CN": "人数", "en": "count"},
    "bad_rate": {"zh-CN": "违约率", "en": "default rate"},
}


def _w(key: str, lang: str) -> str:
    return WORDS[key].get(lang) or WORDS[key]["en"]


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4f}"
    return "—" if v is None else html.escape(str(v))


def _table(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in r.values()) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def calibration_svg(rows: Sequence[Mapping[str, Any]], lang: str, size: int = 320) -> str:
    """Predicted against observed default rate per PD bin, with the diagonal."""
    top = max([0.05] + [max(r["mean_pd"], r["observed"]) for r in rows]) * 1.05
    pad = 40
    span = size - 2 * pad

    def xy(p: float, o: float) -> tuple[float, float]:
        return pad + p / top * span, size - pad - o / top * span

    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#1f6feb"><title>{r["mean_pd"]:.3f} → '
                   f'{r["observed"]:.3f}</title></circle>' for r in rows for x, y in [xy(r["mean_pd"], r["observed"])])
    x0, y0 = xy(0, 0)
    x1, y1 = xy(top, top)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" role="img" '
            f'aria-label="{_w("calibration", lang)}">'
            f'<rect x="{pad}" y="{pad}" width="{span}" height="{span}" fill="none" stroke="#999"/>'
            f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y1}" stroke="#999" stroke-dasharray="4"/>{dots}'
            f'<text x="{size / 2}" y="{size - 8}" text-anchor="middle" font-size="12">{_w("predicted", lang)}</text>'
            f'<text x="12" y="{size / 2}" font-size="12" transform="rotate(-90 12 {size / 2})" '
            f'text-anchor="middle">{_w("observed", lang)}</text>'
            f'<text x="{pad}" y="{size - pad + 14}" font-size="10">0</text>'
            f'<text x="{size - pad}" y="{size - pad + 14}" font-size="10" text-anchor="end">{top:.2f}</text></svg>')


def distribution_svg(rows: Sequence[Mapping[str, Any]], lang: str, width: int = 560, height: int = 260) -> str:
    """Bars of applicants per score band, and each band's default rate as a line."""
    pad = 40
    n = max(len(rows), 1)
    most = max([1] + [r["count"] for r in rows])
    bw = (width - 2 * pad) / n
    bars, line = [], []
    for i, r in enumerate(rows):
        h = r["count"] / most * (height - 2 * pad)
        x = pad + i * bw
        label = f'{r["low"] if r["low"] is not None else ""}–{r["high"] if r["high"] is not None else ""}'
        bars.append(f'<rect x="{x + 2:.1f}" y="{height - pad - h:.1f}" width="{bw - 4:.1f}" height="{h:.1f}" '
                    f'fill="#8ab4f8"><title>{label}: {r["count"]}</title></rect>'
                    f'<text x="{x + bw / 2:.1f}" y="{height - pad + 14}" font-size="9" text-anchor="middle">'
                    f'{html.escape(label)}</text>')
        if r["bad_rate"] is not None:
            line.append(f'{x + bw / 2:.1f},{height - pad - r["bad_rate"] * (height - 2 * pad):.1f}')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
            f'aria-label="{_w("distribution", lang)}">{"".join(bars)}'
            f'<polyline points="{" ".join(line)}" fill="none" stroke="#d93025" stroke-width="2"/>'
            f'<text x="{pad}" y="16" font-size="11">■ {_w("count", lang)}  '
            f'<tspan fill="#d93025">— {_w("bad_rate", lang)}</tspan></text></svg>')


def render(report: Mapping[str, Any], lang: str = "zh-CN") -> str:
    """The report as one HTML page."""
    m = report["metrics"]
    parts = [f"<h1>{_w('title', lang)} — {html.escape(report['model'])}</h1>",
             f"<p>rows {report['rows']} · cv {report['cv']} ({report['split']}) · seed {report['seed']}"
             f" · {report.get('seconds', '')} s</p>",
             f"<h2>{_w('summary', lang)}</h2>",
             _table([{"AUC": m["auc"], "KS": m["ks"], "Gini": m["gini"], "Brier": m["brier"]}]),
             f"<h2>{_w('folds', lang)}</h2>", _table(report["folds"]),
             f"<h2>{_w('calibration', lang)}</h2>", calibration_svg(report["calibration"], lang),
             _table(report["calibration"]),
             f"<h2>{_w('distribution', lang)}</h2>", distribution_svg(report["score_distribution"], lang),
             _table(report["score_distribution"]),
             f"<h2>{_w('fairness', lang)}</h2>"]
    fair = report["fairness"]
    parts.append(f"<p>approve if PD &lt; {fair['approve_if_pd_below']:.3f}</p>")
    for key in ("gender", "age"):
        if key in fair:
            parts += [f"<h3>{key}</h3>", _table(fair[key])]
    if "bins" in report:
        parts.append(f"<h2>{_w('bins', lang)}</h2>")
        for name, rows in report["bins"].items():
            parts += [f"<h3>{html.escape(name)}</h3>", _table(rows)]
    if "characteristics" in report:
        parts.append(f"<h2>{_w('characteristics', lang)}</h2>")
        parts.append(_table([{"feature": c["feature"], "points_shift": c["points_shift"]}
                             for c in report["characteristics"]]))
    parts += [f"<h2>{_w('params', lang)}</h2>", f"<pre>{html.escape(repr(report['hyper_parameters']))}</pre>"]
    style = ("body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;"
             "font-size:12px;text-align:right}")
    return (f'<!doctype html><html lang="{html.escape(lang)}"><head><meta charset="utf-8">'
            f"<title>{_w('title', lang)}</title><style>{style}</style></head><body>{''.join(parts)}</body></html>")
