# FruitPAK. `make run` serves the demo; `make test` runs the suite. See README.md.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
VAR := .var
SERVICES_ENV := $(VAR)/services.env
PORT ?= 8000
# nginx of `make serve`.
SERVE_PORT ?= 8080
BIND ?= 127.0.0.1:$(PORT)
# `make run` serves with DEBUG off, so its error pages are the product's own; `make run DEBUG=1` turns it on.
DEBUG ?=
RUN_DEBUG := $(if $(filter 1 true yes on True TRUE,$(DEBUG)),true,false)
# EMBEDDED=1 forces the private PostgreSQL and Redis under .var/.
EMBEDDED ?=
export EMBEDDED

# Every recipe that talks to the database loads the URLs services.py chose.
WITH_SERVICES = set -a && . ./$(SERVICES_ENV) && set +a &&

.PHONY: run test services services-down migrate demo lint clean help chromium pango vendor pg-client \
	web-tools serve serve-stop bench bench-tenants bench-pools chaos promtool

help:
	@echo "make run          build .venv, bring up PostgreSQL and Redis, migrate, load the demo, serve on :$(PORT)"
	@echo "                  with the job worker beside gunicorn; Ctrl-C stops both"
	@echo "make test         the same set-up, then the whole test suite"
	@echo "make run EMBEDDED=1   use private servers under .var/ even if localhost has its own"
	@echo "make run DEBUG=1      the same with Django's DEBUG on (debug pages instead of the product's error pages)"
	@echo "make services-down    stop the private servers"
	@echo "make serve        the production shape: gunicorn behind nginx on :$(SERVE_PORT) (make serve-stop)"
	@echo "make bench        load benchmark of that shape on a 1,000,000-batch company; make bench-tenants: 500 companies"
	@echo "make bench-pools  close a 100,000-batch pool as its job does, settle it, the season's report (after make bench)"
	@echo "make chaos        kill Redis and restart PostgreSQL (private servers) under load; see docs/RELIABILITY.md"
	@echo "make lint         ruff"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

services: $(VENV)/.runtime
	$(BIN)/python scripts/services.py up --var-dir $(VAR) --env-file $(SERVICES_ENV)

services-down: $(VENV)/.runtime
	$(BIN)/python scripts/services.py down --var-dir $(VAR)

migrate: services
	$(WITH_SERVICES) DJANGO_SETTINGS_MODULE=fruitpak.settings.dev $(BIN)/python manage.py migrate_schemas --executor=standard -v 0

demo: migrate
	$(WITH_SERVICES) DJANGO_SETTINGS_MODULE=fruitpak.settings.dev $(BIN)/python manage.py setup_demo --port $(PORT)

# gunicorn and the job worker side by side (Procfile, honcho); Ctrl-C stops both.
run: demo pango
	$(WITH_SERVICES) DJANGO_SETTINGS_MODULE=fruitpak.settings.dev DEBUG=$(RUN_DEBUG) BIND=$(BIND) exec $(BIN)/honcho start -f Procfile

# The browser tests (browser/) drive Debian's chromium, never a downloaded one. CI runs as root on Debian.
chromium:
	@test -x /usr/bin/chromium || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium)

# WeasyPrint (remittance advice PDFs) lays text out with Debian's pango (WeasyPrint's install docs for Debian).
pango:
	@ldconfig -p | grep -q libpangoft2-1.0.so.0 || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0)

# backup_company / restore_company and their tests run Debian's pg_dump and pg_restore.
pg-client:
	@command -v pg_restore >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-client)

# promtool checks deploy/prometheus/ in the tests (core/tests/test_deploy_monitoring.py). Only the binary, from
# Debian's prometheus package, unpacked under .var/tools: installing the package would start a Prometheus server.
PROMTOOL := $(VAR)/tools/promtool
promtool: $(PROMTOOL)
$(PROMTOOL):
	@mkdir -p $(VAR)/tools/deb
	@command -v apt-get >/dev/null || (echo "promtool: needs apt-get (Debian); put promtool at $@" && exit 1)
	cd $(VAR)/tools/deb && (apt-get download prometheus 2>/dev/null || (apt-get update && apt-get download prometheus))
	dpkg-deb -x $$(ls $(VAR)/tools/deb/prometheus_*.deb | head -1) $(VAR)/tools/deb/root
	cp $(VAR)/tools/deb/root/usr/bin/promtool $@
	rm -rf $(VAR)/tools/deb

# nginx for `make serve` and `make bench`, ab and wrk for the load: Debian's packages.
web-tools:
	@command -v nginx >/dev/null && command -v ab >/dev/null && command -v wrk >/dev/null || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx apache2-utils wrk)

# The production shape: gunicorn (gunicorn.conf.py, fruitpak.settings.prod) behind nginx (nginx.conf), and the
# job worker, in the foreground; Ctrl-C stops them all. `make serve-stop` stops one left running.
serve: migrate web-tools
	$(WITH_SERVICES) DJANGO_SETTINGS_MODULE=fruitpak.settings.dev $(BIN)/python manage.py setup_demo --port $(SERVE_PORT)
	$(WITH_SERVICES) exec $(BIN)/python scripts/serve.py run --listen 127.0.0.1:$(SERVE_PORT)

serve-stop: $(VENV)/.runtime
	$(BIN)/python scripts/serve.py stop

# The load benchmark on the production shape (bench/web.py; bench/results/http.json). BENCH_ARGS="--rounds 3".
bench: $(VENV)/.dev services web-tools
	$(WITH_SERVICES) $(BIN)/python bench/web.py $(BENCH_ARGS)

# Closing a 100,000-batch pool as the job does, settle() and the season's report, on the company `make bench`
# seeded (bench/pools.py; bench/results/pools.json). It gives the company pools first when it has none.
bench-pools: services
	$(WITH_SERVICES) $(BIN)/python bench/pools.py $(BENCH_ARGS)

# 500 companies from a dump of a template schema (psql, pg_dump), in their own database (bench/tenants.py).
bench-tenants: services web-tools pg-client
	$(WITH_SERVICES) $(BIN)/python bench/tenants.py $(BENCH_ARGS)

test: $(VENV)/.dev services chromium pango pg-client promtool
	$(BIN)/lint-imports --no-cache
	$(WITH_SERVICES) $(BIN)/pytest $(PYTEST_ARGS)

# Re-vendor the front-end files (package.json pins them) into static/vendor/. Their output is committed,
# so neither `make run` nor `make test` needs npm.
vendor:
	npm install --no-save --no-audit --no-fund
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx/htmx-$$(node -p 'require("htmx.org/package.json").version').min.js
	cp node_modules/htmx.org/LICENSE static/vendor/htmx/LICENSE

# Faults under load, on private PostgreSQL and Redis servers it starts and stops itself (never the shared ones).
chaos: $(VENV)/.runtime
	@command -v redis-server >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server)
	$(BIN)/python scripts/chaos.py $(CHAOS_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
