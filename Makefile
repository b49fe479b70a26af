# Every target that runs code first installs the locked dependencies (npm ci) and builds.
SHELL := /bin/bash
NODE_BIN := node_modules/.bin

.PHONY: all deps build lint test schema docs run demo smoke bench soak install clean

# make install PREFIX=/usr: the command in $(PREFIX)/bin (where the systemd unit runs it from), the
# package in $(PREFIX)/lib/node_modules, the units and the sysusers file for systemd.
PREFIX ?= /usr
SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system
SYSUSERS_DIR ?= $(PREFIX)/lib/sysusers.d

all: build

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.installed

build: deps
	$(NODE_BIN)/tsc -p tsconfig.json

lint: deps
	$(NODE_BIN)/eslint .

# The build, then every test, with lint running beside both (the tests wait on child processes
# and sockets much of the time, so the second core has room for it). Ends with "N passed, M failed";
# fails when lint does, printing what it found.
test: deps
	@lint_log=$$(mktemp); $(NODE_BIN)/eslint . >"$$lint_log" 2>&1 & lint=$$!; \
	$(NODE_BIN)/tsc -p tsconfig.json || { wait $$lint; rm -f "$$lint_log"; exit 1; }; \
	node dist/test/run.js; tests=$$?; \
	if ! wait $$lint; then cat "$$lint_log"; rm -f "$$lint_log"; echo "make test: lint failed"; exit 1; fi; \
	rm -f "$$lint_log"; exit $$tests

schema: build
	./bin/epa-orchestrator schema --out schema

# docs/api.md from the schemas and a real daemon on the sample host; a test fails when it is stale.
docs: build
	node dist/tools/docs/main.js

run: build
	./bin/epa-orchestrator demo

demo: run

smoke: build
	bash test/smoke.sh

bench: build
	node dist/bench/run.js

soak: build
	node dist/test/soak/run.js

install: build
	@set -eu; pack=$$(mktemp -d); trap 'rm -rf "$$pack"' EXIT; \
	npm pack --ignore-scripts --silent --pack-destination "$$pack" >/dev/null; \
	npm install --global --prefix "$(PREFIX)" --omit=dev --prefer-offline --no-audit --no-fund "$$pack"/epa-orchestrator-*.tgz; \
	install -d "$(SYSTEMD_UNIT_DIR)" "$(SYSUSERS_DIR)"; \
	sed 's#/usr/bin/epa-orchestrator#$(PREFIX)/bin/epa-orchestrator#' packaging/epa-orchestrator.service > "$(SYSTEMD_UNIT_DIR)/epa-orchestrator.service"; \
	install -m 0644 packaging/epa-orchestrator.socket "$(SYSTEMD_UNIT_DIR)/epa-orchestrator.socket"; \
	install -m 0644 packaging/epa-orchestrator.sysusers "$(SYSUSERS_DIR)/epa-orchestrator.conf"; \
	echo "installed $(PREFIX)/bin/epa-orchestrator and the systemd units in $(SYSTEMD_UNIT_DIR)"

clean:
	rm -rf dist
