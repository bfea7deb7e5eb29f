# SOMS — two commands on a fresh Debian machine:
#   make sim    run the whole virtual office (installs what is missing first)
#   make test   run unit, integration and acceptance tests
GO ?= go
export PATH := $(PATH):/usr/local/go/bin
BIN := bin/soms

.PHONY: all deps build sim test lint bench docs clean

all: build

deps: ## install missing Debian packages (apt-get, as root) and Go modules
	@./infra/scripts/deps.sh

build: ## build the one binary
	$(GO) build -o $(BIN) ./cmd/soms

sim: deps build ## run the virtual office; Ctrl-C stops it (SOMS_SIM_SPEED=60 make sim runs faster; SCENARIO=scenarios/x.yaml runs a scenario)
	@if [ -n "$(SCENARIO)" ]; then ./$(BIN) scenario run $(SCENARIO); else ./$(BIN) sim; fi

# The two suites that run the whole stack (acceptance features, the browser
# test) each load both cores; they run one after the other, after the rest.
HEAVY := ./features ./services/frontend

test: deps lint ## everything CI runs: vet, gofmt, unit + integration + acceptance tests
	$(GO) test -count=1 -timeout 20m $$($(GO) list ./... | grep -v -e '/features$$' -e '/services/frontend$$')
	$(GO) test -count=1 -timeout 20m -p 1 $(HEAVY)

lint: ## gofmt and go vet must be clean
	@out=$$(find . -name '*.go' -not -path './.git/*' | xargs gofmt -l); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@# Every service but perception ships in a static image: keep the no-cgo build working.
	CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/soms

bench: deps ## benchmarks with memory figures
	$(GO) test -count=1 -run '^$$' -bench . -benchmem ./...

docs: build ## regenerate docs/config.md from the services' Config structs
	./$(BIN) env -markdown > docs/config.md

clean:
	rm -rf bin
