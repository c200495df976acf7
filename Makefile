# gridlite: build, run and test.
#
#   make run      install missing system packages, build release, serve on 127.0.0.1:27017
#   make test     swift unit tests, then the Python/C integration tests against the debug binary
#   make install  build release and copy the binary to $(PREFIX)/bin/gridlite (PREFIX=/usr/local)
#   make help     every target
#
# Every target fails (non-zero) on the first error.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

# System packages (Debian/Ubuntu names) the package and the C tests link against, and the tools the
# integration tests run (haproxy: test_load_balanced.py runs it in front of the daemon; openssl: the TLS tests make their certificates with it; postgresql: the PostgreSQL engine's tests start a
# throw-away cluster with it, IntegrationTests/postgres/pgcluster.sh).
APT_PACKAGES := libbson-dev libmongoc-dev libpcre2-dev libsqlite3-dev libsnappy-dev zlib1g-dev libzstd-dev libssl-dev pkg-config openssl curl nginx-light chromium chromium-driver haproxy postgresql
# The same, as pkg-config modules (used where dpkg is not available).
PKG_MODULES  := libbson-1.0 libmongoc-1.0 libpcre2-8 sqlite3 libcrypto

PYTHON    ?= python3
VENV      := .venv
VENV_PY   := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.requirements.installed
REQUIREMENTS := IntegrationTests/requirements.txt

HOST      ?= 127.0.0.1
PORT      ?= 27017
DATA_DIR  ?= ./gridlite-data
LOG_LEVEL ?= info
# `make install` copies the release binary to $(DESTDIR)$(PREFIX)/bin/gridlite.
PREFIX    ?= /usr/local
DESTDIR   ?=

# Extra flags for every swift build/test (e.g. SWIFT_FLAGS="--scratch-path /tmp/gridlite-build").
SWIFT_FLAGS ?=
# The integration tests run against the debug binary that `swift build` produces for the unit tests.
GRIDLITE_BIN ?= $(shell swift build $(SWIFT_FLAGS) --show-bin-path)/gridlite
PYTEST_ARGS  ?=

C_SRC_DIR := IntegrationTests/integration/c
C_BIN_DIR := IntegrationTests/integration/bin
C_PROGRAMS := $(patsubst $(C_SRC_DIR)/%.c,$(C_BIN_DIR)/%,$(wildcard $(C_SRC_DIR)/*.c))
CC     ?= cc
CFLAGS ?= -O1 -g -Wall -Wextra -Werror -std=gnu11

.PHONY: help deps venv build build-debug run install uninstall test test-steps unit-test c-programs integration-test integration-test-auth conformance-test postgres-integration-test clean

help:
	@echo "gridlite make targets (variables in brackets):"
	@echo "  make run               build (release) and serve on $(HOST):$(PORT), data in $(DATA_DIR) [HOST PORT DATA_DIR LOG_LEVEL]"
	@echo "  make install           build (release) and install it as $(PREFIX)/bin/gridlite [PREFIX DESTDIR]"
	@echo "  make uninstall         remove $(PREFIX)/bin/gridlite"
	@echo "  make test              unit + conformance + integration tests against the debug build"
	@echo "  make unit-test         swift test (after make build-debug)"
	@echo "  make integration-test  pytest IntegrationTests/integration against the debug binary [PYTEST_ARGS]"
	@echo "  make integration-test-auth  the integration tests with --auth and authenticated clients (GRIDLITE_TEST_AUTH=1)"
	@echo "  make conformance-test  MongoDB's unified-format GridFS tests against a fresh daemon"
	@echo "  make postgres-integration-test  the integration + conformance suites on PostgreSQL-backed daemons"
	@echo "                         (inside IntegrationTests/postgres/pgcluster.sh run ..., as make test does)"
	@echo "  make test-tls          the whole integration suite with every daemon in requireTLS, every client over TLS [PYTEST_ARGS]"
	@echo "  make bench-integrity   checksum CPU share, backup/fsck MiB/s idle and while serving (release)"
	@echo "  make bench-tls         TLS cost as ratios of plain in one run: 256 MiB up/down, connections/s (release)"
	@echo "  make c-programs        build the libmongoc test programs"
	@echo "  make bench             release benchmarks against the peers (docs/benchmarks.md), then bench-downloads, bench-tls, bench-integrity, bench-http [BENCH_RUNS]"
	@echo "  make bench-downloads   issue 16: downloads vs the ceiling (pymongo + libmongoc, /proc, perf), part of make bench"
	@echo "  make bench-postgres    the PostgreSQL engine vs the SQLite engine in one run (docs/scaling.md)"
	@echo "  make bench-http        the HTTP gateway against nginx (throughput, ranges, 64 clients) [HTTP_BENCH_ARGS]"
	@echo "  make fuzz              libFuzzer campaign: wire, commands (SQLite), bson, frames, query [FUZZ_SECONDS, FUZZ_TARGETS]"
	@echo "  make soak              soak and abuse suite: many clients, hostile traffic, RSS/descriptor checks"
	@echo "  make deps              install only the missing system packages: $(APT_PACKAGES)"
	@echo "  make venv              create .venv with $(REQUIREMENTS)"
	@echo "  make build             swift build -c release"
	@echo "  make build-debug       swift build --build-tests"
	@echo "  make clean             remove build products, .venv and test binaries (never the data dir)"
	@echo "  [SWIFT_FLAGS] is passed to every swift build/test"

deps:
	@missing=""; \
	if command -v dpkg-query >/dev/null 2>&1; then \
	  for p in $(APT_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | grep -q '^install ok installed$$' || missing="$$missing $$p"; \
	  done; \
	else \
	  if ! command -v pkg-config >/dev/null 2>&1; then \
	    echo "deps: pkg-config not found; install pkg-config, libbson, libmongoc, pcre2 and sqlite3 development files" >&2; exit 1; \
	  fi; \
	  for m in $(PKG_MODULES); do \
	    pkg-config --exists "$$m" || { echo "deps: pkg-config module $$m not found; install its development package" >&2; exit 1; }; \
	  done; \
	  exit 0; \
	fi; \
	if [ -z "$$missing" ]; then echo "deps: all system packages present"; exit 0; fi; \
	if [ "$$(id -u)" = "0" ]; then \
	  echo "deps: installing$$missing (nothing else is upgraded)"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends --no-upgrade $$missing; \
	else \
	  echo "deps: missing system packages:$$missing" >&2; \
	  echo "deps: run:  sudo apt-get update && sudo apt-get install -y --no-install-recommends --no-upgrade$$missing" >&2; \
	  exit 1; \
	fi

# Reuses .venv while it works and IntegrationTests/requirements.txt is unchanged (compared by content).
venv:
	@if [ -x "$(VENV_PY)" ] && "$(VENV_PY)" -c 'import sys' >/dev/null 2>&1 \
	    && [ -f "$(VENV_STAMP)" ] && cmp -s "$(REQUIREMENTS)" "$(VENV_STAMP)"; then \
	  echo "venv: $(VENV) up to date"; \
	else \
	  if ! [ -x "$(VENV_PY)" ] || ! "$(VENV_PY)" -c 'import sys' >/dev/null 2>&1; then \
	    rm -rf "$(VENV)"; \
	    echo "venv: creating $(VENV) with $$($(PYTHON) --version 2>&1)"; \
	    "$(PYTHON)" -m venv "$(VENV)"; \
	  fi; \
	  rm -f "$(VENV_STAMP)"; \
	  "$(VENV_PY)" -m pip install --quiet -r "$(REQUIREMENTS)"; \
	  cp "$(REQUIREMENTS)" "$(VENV_STAMP)"; \
	  echo "venv: installed $(REQUIREMENTS)"; \
	fi

build:
	swift build $(SWIFT_FLAGS) -c release

build-debug:
	swift build $(SWIFT_FLAGS) --build-tests

run: deps build
	@mkdir -p "$(DATA_DIR)"
	exec "$$(swift build $(SWIFT_FLAGS) -c release --show-bin-path)/gridlite" serve --host $(HOST) --port $(PORT) --data-dir "$(DATA_DIR)" --log-level $(LOG_LEVEL)

# The release binary, installed as $(DESTDIR)$(PREFIX)/bin/gridlite (it links the system libbson,
# libpcre2 and libsqlite3 and the Swift runtime of the toolchain that built it).
install: build
	install -d "$(DESTDIR)$(PREFIX)/bin"
	install -m 0755 "$$(swift build $(SWIFT_FLAGS) -c release --show-bin-path)/gridlite" "$(DESTDIR)$(PREFIX)/bin/gridlite"
	@echo "installed $(DESTDIR)$(PREFIX)/bin/gridlite"

uninstall:
	rm -f "$(DESTDIR)$(PREFIX)/bin/gridlite"

# One debug build serves both the unit tests and the integration tests. Everything after the build
# runs inside a throw-away PostgreSQL cluster (initdb + pg_ctl in a temp directory, on a free port,
# stopped afterwards), which GRIDLITE_TEST_POSTGRES_URL names: the storage conformance suite runs
# against it, and the integration suite runs a second time on PostgreSQL-backed daemons.
test: deps venv
	$(MAKE) --no-print-directory build-debug
	IntegrationTests/postgres/pgcluster.sh run $(MAKE) --no-print-directory test-steps

test-steps:
	$(MAKE) --no-print-directory unit-test
	$(MAKE) --no-print-directory c-programs
	$(MAKE) --no-print-directory conformance-test
	$(MAKE) --no-print-directory integration-test
	$(MAKE) --no-print-directory postgres-integration-test POSTGRES_PYTEST_ARGS='-m "not slow"'
	$(MAKE) --no-print-directory integration-test-auth

unit-test:
	swift test $(SWIFT_FLAGS) --skip-build

c-programs: $(C_PROGRAMS)

$(C_BIN_DIR)/%: $(C_SRC_DIR)/%.c $(wildcard $(C_SRC_DIR)/*.h)
	@mkdir -p $(C_BIN_DIR)
	$(CC) $(CFLAGS) -o $@ $< $$(pkg-config --cflags --libs libmongoc-1.0)

# pytest exits 5 when it collects no tests; that is a failure here like any other non-zero status.
integration-test:
	@test -x "$(GRIDLITE_BIN)" || { echo "integration-test: $(GRIDLITE_BIN) not found; run make build-debug" >&2; exit 1; }
	GRIDLITE_BIN="$(GRIDLITE_BIN)" GRIDLITE_C_BIN_DIR="$(CURDIR)/$(C_BIN_DIR)" \
	  "$(VENV_PY)" -m pytest IntegrationTests/integration $(PYTEST_ARGS)

# The integration suite and the GridFS unified-format suite again, every daemon on a PostgreSQL
# database of its own (GRIDLITE_TEST_STORAGE=postgresql; tests of the SQLite engine's files are skipped).
# Measured at load 12-19 on the 2 shared cores: 14 min for the whole suite, 6.5 min without the
# `slow` tests (2 GiB files); `make test` runs it without them (the SQLite pass runs them) to stay
# near 30 minutes in all. POSTGRES_PYTEST_ARGS adds pytest arguments to this pass only.
POSTGRES_PYTEST_ARGS ?=
postgres-integration-test:
	@test -n "$${GRIDLITE_TEST_POSTGRES_URL:-}" || { echo "postgres-integration-test: GRIDLITE_TEST_POSTGRES_URL is not set; run it as IntegrationTests/postgres/pgcluster.sh run make postgres-integration-test" >&2; exit 1; }
	$(MAKE) --no-print-directory conformance-test \
	  CONFORMANCE_SERVE_ARGS="--storage $$(cd IntegrationTests/integration && "$(CURDIR)/$(VENV_PY)" -c 'import postgres_support; print(postgres_support.fresh_database_url("conf"))')"
	GRIDLITE_TEST_STORAGE=postgresql GRIDLITE_BIN="$(GRIDLITE_BIN)" GRIDLITE_C_BIN_DIR="$(CURDIR)/$(C_BIN_DIR)" \
	  "$(VENV_PY)" -m pytest IntegrationTests/integration $(PYTEST_ARGS) $(POSTGRES_PYTEST_ARGS)

# The same suite with every fixture daemon started with --auth and a root user, the tests' clients
# authenticated (GRIDLITE_TEST_AUTH=1, see conftest.py): nothing may silently depend on being anonymous.
# The soak test starts its own unauthenticated daemon, so it runs only in integration-test.
integration-test-auth:
	@test -x "$(GRIDLITE_BIN)" || { echo "integration-test-auth: $(GRIDLITE_BIN) not found; run make build-debug" >&2; exit 1; }
	GRIDLITE_TEST_AUTH=1 GRIDLITE_BIN="$(GRIDLITE_BIN)" GRIDLITE_C_BIN_DIR="$(CURDIR)/$(C_BIN_DIR)" \
	  "$(VENV_PY)" -m pytest IntegrationTests/integration --deselect IntegrationTests/integration/test_soak.py $(PYTEST_ARGS)
# The same integration suite with GRIDLITE_TEST_TLS=1: every daemon requires TLS (certificates made
# at test time), every fixture client connects over TLS (docs/security.md).
.PHONY: test-tls
# The soak test starts its own plain daemon, so it runs only in integration-test. About 6 minutes.
test-tls: deps venv
	$(MAKE) --no-print-directory build-debug
	$(MAKE) --no-print-directory c-programs
	GRIDLITE_TEST_TLS=1 $(MAKE) --no-print-directory integration-test \
	  PYTEST_ARGS="--deselect IntegrationTests/integration/test_soak.py $(PYTEST_ARGS)"

# The GridFS unified-format suite against a fresh daemon; prints the runner's `N passed, N failed` line.
CONFORMANCE_SERVE_ARGS ?=
conformance-test:
	@test -x "$(GRIDLITE_BIN)" || { echo "conformance-test: $(GRIDLITE_BIN) not found; run make build-debug" >&2; exit 1; }
	@dir=$$(mktemp -d); \
	"$(GRIDLITE_BIN)" serve --port 0 --data-dir "$$dir/data" --setParameter enableTestCommands=1 $(CONFORMANCE_SERVE_ARGS) >"$$dir/log" 2>&1 & pid=$$!; \
	port=""; for i in $$(seq 100); do \
	  port=$$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$$dir/log" | head -n 1); \
	  [ -n "$$port" ] && break; sleep 0.1; \
	done; \
	if [ -z "$$port" ]; then cat "$$dir/log" >&2; kill $$pid 2>/dev/null || true; rm -rf "$$dir"; exit 1; fi; \
	rc=0; "$(VENV_PY)" IntegrationTests/conformance/run_gridfs.py --host 127.0.0.1 --port "$$port" || rc=$$?; \
	kill -TERM $$pid; wait $$pid || true; rm -rf "$$dir"; exit $$rc

clean:
	rm -rf .build $(C_BIN_DIR) $(VENV) .pytest_cache IntegrationTests/integration/.pytest_cache
	find IntegrationTests -name __pycache__ -type d -prune -exec rm -rf {} +

# --- make bench: gridlite (release) against the in-memory ceiling server, NX-27017 and NeoSQLite --------
# Writes docs/benchmarks.md, docs/benchmarks-throughput.png and bench/results/last-run.json.
BENCH_REQUIREMENTS := bench/requirements.txt
BENCH_STAMP        := $(VENV)/.bench-requirements.installed
BENCH_RUNS         ?= 5
BENCH_ARGS         ?=

.PHONY: bench
bench: deps venv
	swift build -c release --product gridlite
	swift build -c release --product gridlite-ceiling
	@if ! cmp -s "$(BENCH_REQUIREMENTS)" "$(BENCH_STAMP)"; then \
	  "$(VENV_PY)" -m pip install --quiet -r "$(BENCH_REQUIREMENTS)" && cp "$(BENCH_REQUIREMENTS)" "$(BENCH_STAMP)"; \
	fi
	"$(VENV_PY)" bench/run_bench.py --gridlite .build/release/gridlite \
	  --ceiling .build/release/gridlite-ceiling --runs $(BENCH_RUNS) $(BENCH_ARGS)
	$(MAKE) --no-print-directory bench-downloads-run
	$(MAKE) --no-print-directory bench-tls-run
	$(MAKE) --no-print-directory bench-integrity-run
	$(MAKE) --no-print-directory bench-http-run

# --- make bench-downloads: issue 16's targets against the ceiling, with /proc CPU, context switches and
# RSS per workload, a libmongoc (C) 1 GiB round trip, the machine's durable write and loopback speeds and
# a perf profile per workload (bench/ceiling_bench.py -> docs/benchmarks-downloads.md; part of make bench).
DOWNLOADS_BENCH_ARGS ?= --profile

.PHONY: bench-downloads bench-downloads-run
bench-downloads: deps venv
	swift build -c release --product gridlite
	swift build -c release --product gridlite-ceiling
	$(MAKE) --no-print-directory bench-downloads-run

bench-downloads-run:
	"$(VENV_PY)" bench/ceiling_bench.py --gridlite .build/release/gridlite \
	  --ceiling .build/release/gridlite-ceiling $(DOWNLOADS_BENCH_ARGS)

# --- make bench-postgres: the PostgreSQL engine vs the SQLite engine, same run (docs/scaling.md) ---------
.PHONY: bench-postgres
bench-postgres: deps venv
	swift build -c release --product gridlite
	PGCLUSTER_OPTS="-c fsync=on $(PGCLUSTER_OPTS)" IntegrationTests/postgres/pgcluster.sh run "$(VENV_PY)" bench/postgres_bench.py \
	  --gridlite "$$(swift build -c release --show-bin-path)/gridlite" $(BENCH_ARGS)
# --- make bench-tls: TLS against plain on one allowTLS daemon, as ratios (bench/tls_bench.py) -------------
TLS_BENCH_ARGS ?=

.PHONY: bench-tls bench-tls-run
bench-tls: deps venv
	swift build $(SWIFT_FLAGS) -c release --product gridlite
	$(MAKE) --no-print-directory bench-tls-run

# (also run by make bench, after the downloads bench)
bench-tls-run:
	"$(VENV_PY)" bench/tls_bench.py --gridlite .build/release/gridlite $(TLS_BENCH_ARGS)

# --- make bench-http: the HTTP gateway against nginx serving the same bytes from disk ----------------------
# (bench/http_bench.py: download and upload throughput, range latency, 64 concurrent clients; ratios with
# the load average; writes bench/results/http-last-run.json). HTTP_BENCH_ARGS e.g. "--range-mib 1024".
HTTP_BENCH_ARGS ?=

.PHONY: bench-http bench-http-run
bench-http: deps venv
	swift build -c release --product gridlite
	$(MAKE) --no-print-directory bench-http-run

# (also run by make bench, last)
bench-http-run:
	"$(VENV_PY)" bench/http_bench.py --gridlite .build/release/gridlite $(HTTP_BENCH_ARGS)

# --- make bench-integrity: checksum CPU share, backup and fsck throughput (bench/integrity_bench.py) -------
INTEGRITY_BENCH_ARGS ?=
.PHONY: bench-integrity bench-integrity-run
bench-integrity: deps venv
	swift build $(SWIFT_FLAGS) -c release --product gridlite
	$(MAKE) --no-print-directory bench-integrity-run

# (also run by make bench, after bench-tls)
bench-integrity-run:
	"$(VENV_PY)" bench/integrity_bench.py --gridlite .build/release/gridlite $(INTEGRITY_BENCH_ARGS)

# --- make soak: 200 connections of GridFS/CRUD/cursor load plus hostile sockets for SOAK_SECONDS -----------
# (IntegrationTests/soak/soak.py; a 60-second run of it is IntegrationTests/integration/test_soak.py in `make test`.)
SOAK_SECONDS ?= 600
SOAK_ARGS    ?=

.PHONY: soak
soak: deps venv build-debug
	"$(VENV_PY)" IntegrationTests/soak/soak.py --binary "$(GRIDLITE_BIN)" --seconds $(SOAK_SECONDS) $(SOAK_ARGS)

# --- make fuzz: libFuzzer on the harnesses, FUZZ_SECONDS each (docs/reliability.md) -----------------------
# Builds the fuzz executables with -sanitize=fuzzer,address (and -D FUZZING, which swaps their replay
# `main` for libFuzzer's entry point) in their own scratch path, then runs FUZZ_TARGETS one after the
# other: wire and commands run the daemon's path against a SQLite store (hundreds of inputs/s), bson,
# frames and query need no storage (thousands/s).
# New coverage goes to Fuzz/corpus/<target> (not in git); seeds and regressions are read as corpora too
# (frames also starts from the wire seeds, query from the command seeds: the same input formats).
# A crash, timeout or out-of-memory input is copied into Fuzz/regressions/<target>/, which `make test`
# replays (FuzzTests): fix the bug, keep the input. Exits non-zero when anything was found.
FUZZ_SECONDS ?= 300
FUZZ_TARGETS ?= wire commands bson frames query
FUZZ_SCRATCH ?= .build-fuzz
FUZZ_ARGS    ?=
# Lowest priority: the machine is shared, and a campaign should only take idle CPU.
FUZZ_NICE    ?= 19
# ASan tuned for throughput (measured +~20% executions per CPU-second on both targets): no allocation
# stack per malloc (a crash report still has the faulting stack; replay the input for more) and no
# fill of new allocations. Leak checking is off: the store and caches live for the whole process.
FUZZ_ASAN_OPTIONS ?= detect_leaks=0:malloc_context_size=0:max_malloc_fill_size=0
# -Xswiftc -sanitize=fuzzer,address must come last, as ONE flag: SwiftPM's --sanitize=fuzzer
# --sanitize=address become two swiftc flags, of which the last wins, leaving no coverage
# instrumentation (libFuzzer then ran blind at "cov: 3"). The --sanitize flags stay for C targets and the link.
FUZZ_BUILD    = swift build $(SWIFT_FLAGS) -c release --scratch-path $(FUZZ_SCRATCH) \
                --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
# target name -> executable
fuzz_exe = $(patsubst wire,FuzzWire,$(patsubst commands,FuzzCommands,$(patsubst bson,FuzzBSON,$(patsubst frames,FuzzFrames,$(patsubst query,FuzzQuery,$(1))))))

.PHONY: fuzz fuzz-build
fuzz-build: deps
	for exe in $(foreach t,$(FUZZ_TARGETS),$(call fuzz_exe,$(t))); do $(FUZZ_BUILD) --product $$exe || exit 1; done

fuzz: fuzz-build
	@bin=$$($(FUZZ_BUILD) --show-bin-path); found=0; \
	for target in $(FUZZ_TARGETS); do \
	  case $$target in wire) exe=FuzzWire;; commands) exe=FuzzCommands;; bson) exe=FuzzBSON;; frames) exe=FuzzFrames;; query) exe=FuzzQuery;; \
	    *) echo "fuzz: unknown target $$target" >&2; exit 2;; esac; \
	  case $$target in frames) extra=Fuzz/seeds/wire;; query) extra=Fuzz/seeds/commands;; *) extra=;; esac; \
	  mkdir -p Fuzz/corpus/$$target Fuzz/seeds/$$target Fuzz/regressions/$$target Fuzz/crashes/$$target; \
	  echo "fuzz: $$exe for $(FUZZ_SECONDS) s"; \
	  rc=0; ASAN_OPTIONS=$(FUZZ_ASAN_OPTIONS) nice -n $(FUZZ_NICE) "$$bin/$$exe" -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1 -artifact_prefix=Fuzz/crashes/$$target/ $(FUZZ_ARGS) \
	    Fuzz/corpus/$$target Fuzz/seeds/$$target Fuzz/regressions/$$target $$extra >Fuzz/crashes/$$target/last-run.log 2>&1 || rc=$$?; \
	  grep -E '^(#[0-9]+ +(INITED|DONE)|stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|==[0-9]+==ERROR|SUMMARY|Fatal error)' \
	    Fuzz/crashes/$$target/last-run.log || true; \
	  for artifact in Fuzz/crashes/$$target/crash-* Fuzz/crashes/$$target/timeout-* Fuzz/crashes/$$target/oom-* Fuzz/crashes/$$target/leak-*; do \
	    [ -f "$$artifact" ] || continue; \
	    mv "$$artifact" Fuzz/regressions/$$target/; found=1; \
	    echo "fuzz: $$artifact moved to Fuzz/regressions/$$target/ (replay: $$bin/$$exe Fuzz/regressions/$$target/$$(basename $$artifact))"; \
	  done; \
	  [ $$rc -eq 0 ] || found=1; \
	done; \
	if [ $$found -ne 0 ]; then echo "fuzz: found problems (see Fuzz/crashes/*/last-run.log)" >&2; exit 1; fi
