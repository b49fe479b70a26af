# Every target that runs code first installs the locked dependencies (npm ci) and builds.
SHELL := /bin/bash
NODE_BIN := node_modules/.bin

.PHONY: all deps build lint test schema run demo smoke bench soak clean

all: build

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.installed

build: deps
	$(NODE_BIN)/tsc -p tsconfig.json

lint: deps
	$(NODE_BIN)/eslint .

# Lint, type check (the build), then every test; ends with "N passed, M failed".
test: build lint
	node dist/test/run.js

schema: build
	node dist/schema/export.js --out schema

run: build
	./bin/epa-orchestrator demo

demo: run

smoke: build
	bash test/smoke.sh

bench: build
	node dist/bench/run.js

soak: build
	node dist/test/soak/run.js

clean:
	rm -rf dist
