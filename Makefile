# nodeinspect: `make demo` shows it on a leaky Node.js server; `make test` is what CI runs.
GO        ?= go
BIN       := bin/nodeinspect
FUZZTIME  ?= 3s
PKGS      := ./...

.PHONY: all build install uninstall test unit integration fuzz fuzz-long bench demo lint clean

all: build

build:
	$(GO) build -o $(BIN) .

# `make install` puts the binary in $(PREFIX)/bin (default /usr/local/bin; PREFIX=$$HOME/.local
# for your own bin); DESTDIR stages it for a package.
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin

install: build
	install -d "$(DESTDIR)$(BINDIR)"
	install -m 0755 $(BIN) "$(DESTDIR)$(BINDIR)/nodeinspect"
	@echo "installed $(DESTDIR)$(BINDIR)/nodeinspect"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/nodeinspect"

# Everything CI runs: formatting, vet, staticcheck, unit tests on fake /proc trees (with the
# race detector: it roughly doubles their time, about 40 s more here on 2 cores), the
# integration tests on real Node.js processes (./e2e, without -race: they time real
# processes and run the binary, which -race would not instrument anyway), and a short pass
# of every fuzz target.
#
# The fuzz pass runs beside the tests, with one fuzz worker (-parallel 1): a fuzz target
# runs for FUZZTIME whatever its worker count, and e2e, the long pole, mostly waits on real
# processes, so this saves the whole fuzz pass (about 3.5 minutes) for the load of one CPU
# burner beside the tests. Its output is printed after theirs.
UNIT_PKGS = $(shell $(GO) list ./... | grep -v '/e2e$$')
FUZZFLAGS ?=

test: lint
	@fuzzlog=$$(mktemp); \
	$(MAKE) --no-print-directory fuzz FUZZFLAGS=-parallel=1 > "$$fuzzlog" 2>&1 & fuzzpid=$$!; \
	trap 'kill $$fuzzpid 2>/dev/null; rm -f "$$fuzzlog"' EXIT; \
	echo "make fuzz (beside the tests; its output follows theirs)"; \
	echo "$(GO) test -race -count=1 -timeout 8m <every package but e2e>"; \
	$(GO) test -race -count=1 -timeout 8m $(UNIT_PKGS); unitrc=$$?; \
	echo "$(GO) test -count=1 -timeout 8m ./e2e/"; \
	$(GO) test -count=1 -timeout 8m ./e2e/; e2erc=$$?; \
	wait $$fuzzpid; fuzzrc=$$?; \
	cat "$$fuzzlog"; [ $$fuzzrc -eq 0 ] && echo "fuzz: every target passed"; \
	[ $$unitrc -eq 0 ] && [ $$e2erc -eq 0 ] && [ $$fuzzrc -eq 0 ]

# staticcheck is where `go install` puts it ($(go env GOPATH)/bin, the first GOPATH entry);
# .ci/run installs the pinned version there. Without it lint says so and goes on, except
# under CI, where a missing staticcheck fails the run.
STATICCHECK ?= $(firstword $(subst :, ,$(shell $(GO) env GOPATH)))/bin/staticcheck

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	@if [ -x "$(STATICCHECK)" ]; then \
		echo "$(STATICCHECK) $(PKGS)"; "$(STATICCHECK)" $(PKGS); \
	elif [ -n "$$CI" ]; then \
		echo "lint: staticcheck not found at $(STATICCHECK) (CI is set; .ci/run installs it)"; exit 1; \
	else \
		echo "lint: note: staticcheck not found at $(STATICCHECK): skipped (install the version .ci/run pins)"; \
	fi

# Each fuzz target of each package, briefly (FUZZTIME=60s make fuzz for a longer run). A
# crasher fails the run at once (it is written under testdata/fuzz: commit it as a
# regression case). A run that ends with a bare "context deadline exceeded" and no input is
# Go 1.26's fuzz coordinator racing its own -fuzztime deadline (golang/go#75804): it fuzzed
# for the whole time and found nothing, so it passes. A run that ends otherwise (a fuzz
# worker the kernel starved past Go's hang detector on a loaded machine) is shown and
# retried once.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			out=$$($(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) $$pkg 2>&1) && continue; \
			if echo "$$out" | grep -q 'Failing input written to'; then \
				echo "$$out" | tail -25; echo "fuzz $$target found a failing input: rerun: go test -run '^$$' -fuzz '^$$target$$' $$pkg"; exit 1; \
			fi; \
			if echo "$$out" | tail -6 | grep -q 'context deadline exceeded'; then \
				echo "fuzz $$target: ran its $(FUZZTIME), ended with Go's coordinator race at the deadline (golang/go#75804, fixed in Go 1.27), no failing input"; continue; \
			fi; \
			echo "fuzz $$target did not end cleanly (no failing input); once more:"; echo "$$out" | tail -5; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) $$pkg >/dev/null 2>&1 || \
				{ echo "fuzz $$target failed twice: rerun: go test -run '^$$' -fuzz '^$$target$$' $$pkg"; exit 1; }; \
		done; \
	done

fuzz-long:
	$(MAKE) fuzz FUZZTIME=60s

bench: build
	$(GO) build -o bin/floor ./scripts/floor
	$(GO) build -o bin/bigproc ./scripts/bigproc
	$(GO) test -run '^$$' -bench . -benchmem ./probes/ ./inspect/
	$(GO) test -run '^$$' -bench . -benchmem ./inspect/v8prof/ ./inspect/heapsnap/
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 5x ./internal/fleet/
	scripts/bench.sh
	scripts/snapbench.sh
	scripts/bench_fleet.sh

# Build, start the bundled leaky demo, report on it, stop it (by pid, whatever happens).
demo: build
	@scripts/demo.sh $(BIN)

clean:
	rm -rf bin
