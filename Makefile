# lvgw: the two set-up commands are `make demo` and `make test`.
# Both install what is missing: Debian packages (apt, with sudo when not root)
# and a virtualenv in .venv built from pyproject.toml.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# command -> Debian package that provides it
SYSTEM_TOOLS := mosquitto:mosquitto mosquitto_sub:mosquitto-clients snmpd:snmpd \
	snmpget:snmp snmptrapd:snmptrapd mbpoll:mbpoll victoria-metrics:victoria-metrics \
	socat:socat systemd-analyze:systemd chromium:chromium prlimit:util-linux \
	pg_ctlcluster:postgresql prometheus-alertmanager:prometheus-alertmanager \
	pdftotext:poppler-utils
PYTHON_VENV_PKG := python3-venv
# A font with Chinese glyphs, for headless Chromium's zh-CN pages (screenshots, PDFs).
CJK_FONT_PKG := fonts-wqy-microhei
# The checks and tests run from caches: compiled modules and pytest's rewritten test
# modules in __pycache__ (a third of the unit tier's start-up when they are rebuilt on
# every run, once per worker), mypy's in .mypy_cache, ruff's in .ruff_cache. An
# environment that turns bytecode writing off would rebuild them all every time.
unexport PYTHONDONTWRITEBYTECODE
# Only the benchmarks' reference rows need these (Go snmp_exporter, net-snmp's C API).
BENCH_PACKAGES := prometheus-snmp-exporter libsnmp-dev gcc

.PHONY: demo test check lint bench benchdeps sysdeps venv clean install uninstall rollback credentials wheel screenshots catalogs

demo: sysdeps $(STAMP)
	$(BIN)/lvgw demo

# Every tier, over three workers (pytest-xdist): most tests wait on servers, timers and
# subprocesses rather than compute, so three share two cores well. A test file runs
# whole on one worker (--dist loadfile): its module's servers start once. Each worker
# has its own session fixtures (servers on free ports, its own temporary directories).
TEST_WORKERS ?= 3
test: sysdeps $(STAMP) lint
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile

# The quick loop while developing: lint and the unit tier (in-process tests), under a
# minute (property tests draw a tenth of their examples). `make test` runs every tier
# with all of them (docs/testing.md).
check: $(STAMP) lint
	LVGW_QUICK_EXAMPLES=1 $(BIN)/pytest -q -m unit -n auto

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

bench: sysdeps benchdeps $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

benchdeps:
	@missing=""; for pkg in $(BENCH_PACKAGES); do \
	  dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  echo "lvgw: installing benchmark packages:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# The screenshots in docs/images, taken by end-to-end tests in a real headless
# Chromium: lvgw-center's web app (docs/center.md), and the status page and the
# pre-visit report of the demo site at a phone's and a desktop's width
# (docs/status-page.md, docs/report.md).
screenshots: sysdeps $(STAMP)
	LVGW_SCREENSHOTS=docs/images $(BIN)/pytest -q tests/e2e/test_center_web_e2e.py \
	  tests/e2e/test_status_pages_e2e.py

# The language catalogs (docs/languages.md): every string the gateway marks for
# translation, extracted with Babel into gateway/i18n/locales/*/LC_MESSAGES/lvgw.po
# (new ones untranslated, gone ones dropped), then what still needs a translator.
catalogs: $(STAMP)
	$(BIN)/python -m gateway.i18n.catalogs

venv: $(STAMP)

sysdeps:
	@missing=""; \
	for pair in $(SYSTEM_TOOLS); do \
	  cmd=$${pair%%:*}; pkg=$${pair##*:}; \
	  PATH="$$PATH:/usr/sbin:/sbin" command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	$(PYTHON) -c 'import ensurepip, venv' >/dev/null 2>&1 || missing="$$missing $(PYTHON_VENV_PKG)"; \
	fc-list :lang=zh 2>/dev/null | grep -q . || missing="$$missing $(CJK_FONT_PKG)"; \
	if [ -n "$$missing" ]; then \
	  echo "lvgw: installing system packages:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

# On a box (docs/install.md): the gateway in /opt/lvgw, the unit, /etc/lvgw. Root or
# sudo; DESTDIR=dir lays the tree out there instead and enables nothing.
# WHEEL=file installs that wheel, PIP_OPTS= adds pip options, PURGE=1 (uninstall)
# removes configuration and state too.
INSTALL_ENV = DESTDIR="$(DESTDIR)" WHEEL="$(WHEEL)" PIP_OPTS="$(PIP_OPTS)" PYTHON="$(PYTHON)" \
	PURGE="$(PURGE)"
AS_ROOT := $(if $(DESTDIR),,$(SUDO))

install uninstall rollback credentials:
	$(AS_ROOT) env $(INSTALL_ENV) bash packaging/install.sh $@

wheel: $(STAMP)
	PYTHON=$(BIN)/python bash packaging/install.sh wheel

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
