# Wan PWA: `make run` serves the app on a fresh machine, `make test` runs the whole suite.
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
SIMULATOR_PORT ?= 8001
STRIPE_SIMULATOR_PORT ?= 8002
LOCAL_PG := postgres://postgres@127.0.0.1:5432/wan_pwa

.PHONY: install run test lint chromium node

$(VENV)/.installed: pyproject.toml sdks/python/pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	$(PY) -m pip install -q -e sdks/python
	touch $@

install: $(VENV)/.installed

run: install
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(PY) manage.py createcachetable
	DEBUG=$${DEBUG:-true} $(PY) manage.py create_demo_user
	DEBUG=$${DEBUG:-true} $(PY) manage.py run_local --port $(PORT) --simulator-port $(SIMULATOR_PORT) --stripe-simulator-port $(STRIPE_SIMULATOR_PORT)

chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

# Node and npm for the TypeScript SDK: tests/sdk_typescript/ runs `npm ci` and `node --test`.
node:
	@(command -v node && command -v npm) >/dev/null || (apt-get update -qq && apt-get install -y -qq nodejs npm)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy credits generations webhooks wan_pwa manage.py tests sdks/python/src

# The test database: DATABASE_URL if set, else PostgreSQL on 127.0.0.1:5432 if it answers,
# else SQLite (skipping PostgreSQL-only tests). With CI=true, PostgreSQL is required.
test: install chromium node lint
	@set -e; \
	if [ -z "$$DATABASE_URL" ]; then \
	  if $(PY) -c "import psycopg; psycopg.connect('postgresql://postgres@127.0.0.1:5432/postgres', connect_timeout=3).close()" 2>/dev/null; then \
	    export DATABASE_URL=$(LOCAL_PG); \
	  elif [ "$$CI" = "true" ]; then \
	    echo "CI=true but PostgreSQL does not answer on 127.0.0.1:5432. Start it: pg_ctlcluster --skip-systemctl-redirect \$$(ls /etc/postgresql) main start"; exit 1; \
	  else \
	    echo "PostgreSQL does not answer on 127.0.0.1:5432: running on SQLite, skipping PostgreSQL-only tests."; \
	  fi; \
	fi; \
	$(PY) manage.py collectstatic --noinput -v0; \
	$(PY) -m pytest
