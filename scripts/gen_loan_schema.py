"""Print the JSON Schema of the loan description (the body of POST /api/v1/quotes).

    .venv/bin/python scripts/gen_loan_schema.py > /tmp/loan-description.schema.json

docs/lending-engine.md embeds its output; regenerate it there with
`.venv/bin/python scripts/gen_loan_schema.py --markdown` after a schema change.
"""

from __future__ import annotations

import json
import sys

from microcredit.products.schemas import LoanDescription


def main() -> None:
    """Write the schema as JSON (or as a fenced Markdown block with --markdown)."""
    text = json.dumps(LoanDescription.model_json_schema(), indent=2, ensure_ascii=False)
    if "--markdown" in sys.argv[1:]:
        text = f"```json\n{text}\n```"
    sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
