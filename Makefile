# abonent — two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
PORT ?= 8000
UV_VERSION := 0.13.9
VENV := .venv
TOOLS := .tools
UV := $(TOOLS)/bin/uv
BIN := $(VENV)/bin
DEMO_ACCOUNTS ?= 300
DEMO_SEED ?= 2026
PYTEST_ARGS ?=

export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test install lint migrate seed e2e-browser clean cluster cluster-stop cluster-status

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON) --quiet
	@touch $@

install: $(VENV)/.synced

migrate: install
	$(BIN)/abonent migrate --noinput

seed: migrate
	$(BIN)/abonent seed --accounts $(DEMO_ACCOUNTS) --seed $(DEMO_SEED)

run: seed
	@echo "Портал: http://127.0.0.1:$(PORT)/   бэк-офис: http://127.0.0.1:$(PORT)/backoffice/   API: http://127.0.0.1:$(PORT)/api/v1/docs"
	$(BIN)/abonent runserver 127.0.0.1:$(PORT)

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

# the scaled set-up on this machine (PostgreSQL, Redis, nginx, 2 app servers, 2 workers, beat),
# from Debian's packages postgresql, redis-server and nginx: deploy/README.md
CLUSTER_PORT ?= 8080
cluster: install
	$(BIN)/python deploy/local/cluster.py start --port $(CLUSTER_PORT) --accounts $(DEMO_ACCOUNTS)

cluster-stop:
	$(BIN)/python deploy/local/cluster.py stop

cluster-status:
	$(BIN)/python deploy/local/cluster.py status

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/abonent makemigrations --check --dry-run

clean:
	rm -rf $(VENV) $(TOOLS) var/abonent.sqlite3*
