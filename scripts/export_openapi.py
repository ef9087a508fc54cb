"""Print the API's OpenAPI document as sorted, indented JSON (the web app's client is generated from it).

    .venv/bin/python scripts/export_openapi.py > web/openapi.json

The app is built in test mode on a throw-away data directory, with the SMS and
OAuth simulators on, so the document is the same on every machine.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from microcredit.api.app import create_app
from microcredit.config import Settings


def main() -> None:
    """Build the app and write its OpenAPI document to stdout."""
    with tempfile.TemporaryDirectory(prefix="mc-openapi-") as tmp:
        settings = Settings(
            mode="test", data_dir=Path(tmp), web_dist=Path(tmp) / "no-web", sms_simulator=True, oauth_simulators=True
        )
        app = create_app(settings)
        document = app.openapi()
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
