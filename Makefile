# The two commands: `make demo` and `make test`. Both work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PATIENTS ?= 300

.PHONY: demo worker test install install-dev lint check security screenshots bench bench-hl7 bench-selfreport clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files: reinstall only when the requirements change.
$(VENV)/.installed: requirements.txt | $(BIN)/python
	./scripts/system-deps.sh
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	./scripts/system-deps.sh
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make demo: install, migrate, load the demo data, serve on http://127.0.0.1:8000; on PostgreSQL
## (DATABASE_URL) the alerts worker runs beside the server, and Ctrl-C stops both
demo: export DEBUG ?= 1
# The demo's own accounts log in with a password alone (refused unless DEBUG=1). README: how to try the
# authenticator app in the demo.
demo: export DEMO_ACCOUNTS_WITHOUT_MFA ?= 1
demo: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo --patients $(DEMO_PATIENTS)
	@case "$$DATABASE_URL" in \
	postgres*) \
		echo "Starting the alerts worker beside the web server (Ctrl-C stops both); emails go to var/mail/."; \
		$(BIN)/python manage.py procrastinate worker & worker=$$!; \
		trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
		$(BIN)/python manage.py runserver $(HOST):$(PORT);; \
	*) \
		echo "Alerts: the worker that sends them needs PostgreSQL (set DATABASE_URL). On SQLite alerts are"; \
		echo "recorded and wait, queued (admin: Alerts), until a worker on PostgreSQL runs."; \
		$(BIN)/python manage.py runserver $(HOST):$(PORT);; \
	esac

## make worker: the background worker that sends alerts and runs their schedules (PostgreSQL only)
worker: install
	@case "$$DATABASE_URL" in \
	postgres*) $(BIN)/python manage.py procrastinate worker;; \
	*) echo "The worker needs PostgreSQL: set DATABASE_URL (README, Alerts and the worker)."; exit 1;; \
	esac

## make test: install the test tools and run the whole suite (DATABASE_URL picks the database)
test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## make security: bandit, and Django's deployment checks with production-like settings
security: install-dev
	$(BIN)/bandit -q -r clinic followup accounts contacts tasks letters mdt integration alerts selfreport scripts -x followup/migrations,accounts/migrations,contacts/migrations,tasks/migrations,letters/migrations,mdt/migrations,integration/migrations,alerts/migrations,selfreport/migrations
	DEBUG=0 SECURE_SSL_REDIRECT=1 ALLOWED_HOSTS=followup.example.nhs.uk \
	SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

check: export DEBUG ?= 1
check: install-dev
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

## make screenshots: demo data, a server on port 8765, Debian's Chromium -> docs/screenshots/
screenshots: export DEBUG ?= 1
screenshots: export DEMO_ACCOUNTS_WITHOUT_MFA ?= 1
screenshots: install-dev
	$(BIN)/python manage.py migrate --no-input -v0
	$(BIN)/python manage.py seed_demo -v0
	$(BIN)/python manage.py runserver 127.0.0.1:8765 --noreload > /dev/null 2>&1 & server=$$!; \
	trap "kill $$server" EXIT; \
	for i in $$(seq 1 30); do curl -fs -o /dev/null http://127.0.0.1:8765/accounts/login/ && break; sleep 1; done; \
	$(BIN)/python scripts/screenshots.py http://127.0.0.1:8765

## make bench: the scale benchmark on PostgreSQL (docs/performance.md): 100,000 patients,
## pages against EXPLAIN ANALYZE, 8 clients with wrk, a 1,000,000-row CSV against COPY
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/followup_bench
BENCH_PATIENTS ?= 100000
BENCH_RESULTS ?= bench/results
bench: export DATABASE_URL = $(BENCH_DATABASE_URL)
bench: export DEBUG = 0
bench: export SECRET_KEY ?= bench-only-not-secret
bench: install-dev
	@command -v wrk > /dev/null || apt-get install -y wrk || { echo "Install wrk (apt-get install wrk)"; exit 1; }
	mkdir -p $(BENCH_RESULTS)
	$(BIN)/python bench/prepare.py --patients $(BENCH_PATIENTS)
	$(BIN)/python bench/pages.py --indexes --json $(BENCH_RESULTS)/pages.json
	$(BIN)/python bench/load.py --parallel-workers 0 --json $(BENCH_RESULTS)/load.json
	$(BIN)/python bench/load.py --parallel-workers "" --json $(BENCH_RESULTS)/load-parallel.json
	$(BIN)/python bench/export.py --repeat 3 --json $(BENCH_RESULTS)/export.json

## make bench-hl7: HL7v2 results through POST /api/hl7/v2/ (4 senders, gunicorn 2x2) against plain
## inserts of the inbox row, on a small database of its own (docs/performance.md, issue 15)
BENCH_HL7_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/followup_bench_hl7
bench-hl7: export DATABASE_URL = $(BENCH_HL7_DATABASE_URL)
bench-hl7: export DEBUG = 0
bench-hl7: export SECRET_KEY ?= bench-only-not-secret
bench-hl7: install-dev
	mkdir -p $(BENCH_RESULTS)
	cd bench && ../$(BIN)/python hl7.py --seconds 20 --json ../$(BENCH_RESULTS)/hl7.json

## make bench-selfreport: the patient's page under 8 clients for 30 s (gunicorn 2x4, loopback), and the
## lock-out holding under it, on a small database of its own (docs/operations.md, issue 16)
BENCH_SELFREPORT_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/followup_bench_selfreport
bench-selfreport: export DATABASE_URL = $(BENCH_SELFREPORT_DATABASE_URL)
bench-selfreport: export DEBUG = 0
bench-selfreport: export SECRET_KEY ?= bench-only-not-secret
bench-selfreport: install-dev
	cd bench && ../$(BIN)/python selfreport_load.py --seconds 30

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache
