# jetrpc: `make run` starts the server, `make test` passes the tests.
GO            ?= go
BIN           := $(CURDIR)/bin
STATICCHECK   := $(BIN)/staticcheck
# Pinned; installed by this Makefile itself (see $(STATICCHECK)).
STATICCHECK_VERSION := v0.8.2
BENCHSTAT     := $(BIN)/benchstat
BENCHSTAT_VERSION := v0.0.0-20260908200009-22c9c6c9d4da
BASE          ?= HEAD
BENCHCOUNT    ?= 10
FUZZTIME      ?= 30s
SOAKTIME      ?= 3m
FUZZTARGETS   := FuzzParse FuzzHandle FuzzHTTP FuzzClientAnswer FuzzStream
BENCHOUT      ?= bench.txt
PEERSCOUNT    ?= 10
PEERSOUT      ?= peers-bench.txt
ARGS          ?=

.PHONY: run build test unit allocs timing peers-test lint bench bench-compare loopback vs-wrk peers peers-persistent loadtest cluster fuzz stress soak idle clean

## run: serve the demo methods on 127.0.0.1:8080/json-rpc (ARGS='-addr … -path …'); Ctrl-C stops it gracefully
run: build
	$(BIN)/jetrpc serve $(ARGS)

## build: build bin/jetrpc, without cgo: a static binary, and no glibc malloc arenas or pthread stacks
## eating the address space (under ulimit -v 1000000 a cgo build starts with ~15 MB to spare, this one ~250 MB)
build:
	CGO_ENABLED=0 $(GO) build -o $(BIN)/jetrpc ./cmd/jetrpc

## test: lint, the race-enabled suite in random order, the allocation guards without -race, the open-loop timing test alone, then bench/peers' own tests
test: lint unit allocs timing peers-test

unit:
	$(GO) test -race -shuffle=on -count=1 ./...

# The allocation tests are built with !race: -race allocates.
allocs:
	$(GO) test -count=1 -run 'Allocations' ./...

# The open-loop timing test needs the CPU to itself: run alone, after the others.
timing:
	$(GO) test -count=1 -run 'Timing' ./bench

# bench/peers is its own module (the peers stay out of the main go.mod): vetted and tested on its own.
peers-test: $(STATICCHECK)
	cd bench/peers && $(GO) vet ./... && $(STATICCHECK) ./... && $(GO) test -count=1 ./...

## lint: gofmt, go vet, staticcheck
lint: $(STATICCHECK)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

$(STATICCHECK):
	GOBIN=$(BIN) GOFLAGS= $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

## bench: the benchmark suite, -count $(BENCHCOUNT) for benchstat, written to $(BENCHOUT)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCHCOUNT) ./bench/... | tee $(BENCHOUT)

## bench-compare: the bench suite of BASE (a commit, default HEAD) against the working tree through benchstat, the two taking turns on
## one pinned core with a fresh copy of each binary per run (COUNT, BENCH, PKG: see bench/compare.sh)
bench-compare: $(BENCHSTAT)
	BENCHSTAT=$(BENCHSTAT) bench/compare.sh $(BASE)

$(BENCHSTAT):
	GOBIN=$(BIN) GOFLAGS= $(GO) install golang.org/x/perf/cmd/benchstat@$(BENCHSTAT_VERSION)

## cluster: 3 backends behind HAProxy (installed if missing): throughput vs one backend, then a rolling restart under load that must fail no call
cluster:
	bench/cluster/run.sh

## fuzz: each fuzz target in turn for FUZZTIME (their seed corpora also run in every `go test`)
fuzz:
	@for t in $(FUZZTARGETS); do echo "== $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) ./fuzz || exit 1; done

## stress: the concurrency stress test with GOGC=1, to flush out lifetime bugs in pooled memory
stress:
	GOGC=1 $(GO) test -count=1 -run 'Stress' -v ./fuzz

## soak: jetrpc serve under mixed traffic for SOAKTIME: nothing lost, RSS flat
soak:
	JETRPC_SOAK=$(SOAKTIME) $(GO) test -count=1 -run '^TestSoak$$' -v -timeout 2h ./fuzz

## loadtest: start jetrpc serve, load it with jetrpc bench for a few seconds, stop it
loadtest: build
	@$(BIN)/jetrpc serve -addr 127.0.0.1:18282 & pid=$$!; trap "kill -INT $$pid 2>/dev/null" EXIT; sleep 0.5; \
	  $(BIN)/jetrpc bench -url http://127.0.0.1:18282/json-rpc -method add -params '[1,2]' -duration 5s -c 64

## idle: the server's RSS with 10,000 idle keep-alive connections
idle:
	JETRPC_IDLE=10000 $(GO) test -count=1 -run '^TestIdleConnectionsRSS$$' -v ./fuzz

## peers-persistent: jetrpc, go-ethereum (WebSocket), jrpc2 and sourcegraph/jsonrpc2 (TCP streams) over loopback, 1×64 and 64×1 in flight, pinned, with CPU per call on each side; the table into README.md
peers-persistent: build
	cd bench/peers && $(GO) build -o $(BIN)/peers ./cmd/peers
	$(BIN)/peers persistent -jetrpc $(BIN)/jetrpc -readme README.md

## peers: jetrpc beside jrpc2, go-ethereum/rpc, gorilla/rpc and sourcegraph/jsonrpc2: in-process benchmarks, then each served in turn on loopback and loaded by jetrpc bench, pinned; both tables into README.md
peers: build
	cd bench/peers && $(GO) build -o $(BIN)/peers ./cmd/peers
	cd bench/peers && $(GO) test -run '^$$' -bench BenchmarkServers -benchmem -benchtime 0.5s -count $(PEERSCOUNT) . | tee $(CURDIR)/$(PEERSOUT)
	$(BIN)/peers table -readme README.md < $(PEERSOUT)
	$(BIN)/peers loopback -jetrpc $(BIN)/jetrpc -readme README.md

## vs-wrk: is jetrpc bench ever the bottleneck? It and wrk take turns loading jetrpc serve, pinned (needs wrk)
vs-wrk:
	bench/loopback/vs-wrk.sh

## loopback: requests/s over loopback HTTP, jetrpc vs the bare fasthttp handler, pinned to separate cores, loaded by jetrpc bench (GENERATOR=wrk: by wrk)
loopback:
	bench/loopback/run.sh

clean:
	rm -rf $(BIN) $(BENCHOUT) $(PEERSOUT)
