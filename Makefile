# The two commands of the README. Everything else is a helper they call.
.PHONY: demo test setup lint web-build web-client clean

demo: ## virtualenv, install, build the web app, migrate, load demo data, serve on :8000
	scripts/setup.sh --python --web
	$(MAKE) --no-print-directory web-build
	MICROCREDIT_MODE=demo .venv/bin/microcredit demo

test: ## everything CI runs (installs what it needs, starts and stops the database servers)
	scripts/test.sh

setup:
	scripts/setup.sh --python --web

lint: setup
	.venv/bin/ruff check src tests bench scripts
	.venv/bin/mypy
	.venv/bin/lint-imports
	.venv/bin/python scripts/house_rules.py
	.venv/bin/python scripts/audit_actions.py --check

web-build:
	@if [ -f web/package.json ]; then cd web && npm run --silent build; fi

web-client: ## regenerate the web app's API client from the OpenAPI document
	cd web && npm run --silent gen-client

clean:
	rm -rf .stamps web/dist var/test-services
