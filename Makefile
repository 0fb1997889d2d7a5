# The two commands a newcomer needs: `make run` (a world to join) and `make test`.
SHELL := /bin/bash
.PHONY: run test build install bench clean

node_modules/.package-lock.json: package.json package-lock.json
	npm ci

install: node_modules/.package-lock.json

build/flux.wasm: wasm/assembly/index.ts wasm/assembly/memory.ts wasm/asconfig.json wasm/portable.ts node_modules/.package-lock.json
	npm run -s build

# The console page (lib/web) that `make run` serves; `npm run build` makes it too.
build/web/index.html: lib/web/console.ts lib/web/index.html lib/web/console.css lib/web/build.ts node_modules/.package-lock.json
	npm run -s build:web

build: build/flux.wasm build/web/index.html

# A private Prosody, the component and an embedded database; prints how to connect.
run: build
	bin/flux demo

# Every spec: unit, property and end-to-end (real Prosody, real PostgreSQL when DATABASE_URL is set).
test: build
	npx tsc --noEmit -p .
	npx mocha

bench: build
	npm run -s bench

clean:
	rm -rf build data .flux
