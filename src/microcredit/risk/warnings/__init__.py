"""Early warning, 贷后预警: a behaviour score recomputed in close of business, rules that raise warnings on
running loans, and the actions a warning suggests, applied by maker-checker (docs/risk.md, "Early warning")."""
