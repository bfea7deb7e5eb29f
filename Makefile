# SOMS — two commands on a fresh Debian machine:
#   make sim    run the whole virtual office (installs what is missing first)
#   make test   run unit, integration and acceptance tests
GO ?= go
export PATH := $(PATH):/usr/local/go/bin
BIN := bin/soms

.PHONY: all deps deps-compose build sim test test-native test-load test-compose images lint bench bench-compose docs clean

all: build

deps: ## install missing Debian packages (apt-get, as root) and Go modules
	@./infra/scripts/deps.sh

deps-compose: ## a Docker engine that answers (installs and starts Debian's docker.io if none does) and the compose v2 CLI
	@./infra/scripts/engine.sh
	@./infra/scripts/compose-cli.sh

build: ## build the one binary
	$(GO) build -o $(BIN) ./cmd/soms

sim: deps build ## run the virtual office; Ctrl-C stops it (SOMS_SIM_SPEED=60 make sim runs faster; SCENARIO=scenarios/x.yaml runs a scenario)
	@if [ -n "$(SCENARIO)" ]; then ./$(BIN) scenario run $(SCENARIO); else ./$(BIN) sim; fi

# The two suites that run the whole stack (acceptance features, the browser
# test) each load both cores; they run one after the other, after the rest,
# without the race detector (it would multiply their time; the packages they
# drive run under it in the unit and integration run before them).
HEAVY := ./features ./services/frontend

# The static analyser, installed from the module proxy at a pinned version
# into bin/ (not a module dependency: it does not move the build's versions).
STATICCHECK_VERSION := v0.8.2
STATICCHECK := bin/tools/staticcheck-$(STATICCHECK_VERSION)/staticcheck

test: deps lint test-native test-compose ## everything CI runs: vet, gofmt, unit + integration + acceptance tests, natively and on compose

test-native: deps ## unit and integration tests under the race detector, then the native whole-stack suites
	$(GO) test -race -count=1 -timeout 30m $$($(GO) list ./... | grep -v -e '/features$$' -e '/services/frontend$$')
	cd infra && $(GO) test -race -count=1 -timeout 15m ./compose/ ./stack/
	$(GO) test -count=1 -timeout 20m -p 1 $(HEAVY)

test-load: deps ## the acceptance features while another suite loads both cores: the closed-loop clock keeps results the same (not in `make test`)
	@setsid sh -c 'while :; do $(GO) test -count=1 -p 2 ./services/wallet/... ./services/backend/... >/dev/null 2>&1; done' & load=$$!; \
	trap 'kill -- -$$load 2>/dev/null' EXIT; \
	$(GO) test -count=1 -timeout 30m -p 1 ./features

images: deps-compose ## build every image locally, no registry needed (infra/scripts/images.sh)
	@./infra/scripts/images.sh

test-compose: images ## the @compose features and the container tests against the compose stacks (infra/e2e)
	cd infra && TESTCONTAINERS_RYUK_DISABLED=true $(GO) test -count=1 -timeout 40m ./e2e

bench-compose: images ## compose figures: image sizes, cold/warm compose up, memory per container idle and busy
	cd infra && TESTCONTAINERS_RYUK_DISABLED=true $(GO) test -count=1 -run '^$$' -bench ComposeFigures -benchtime 1x -timeout 30m ./e2e

lint: $(STATICCHECK) ## gofmt, go vet and staticcheck must be clean (both modules, both builds)
	@out=$$(find . -name '*.go' -not -path './.git/*' -not -path './.soms/*' | xargs gofmt -l); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags prod ./cmd/... ./services/...
	cd infra && $(GO) vet ./...
	$(STATICCHECK) ./...
	$(STATICCHECK) -tags prod ./cmd/... ./services/...
	cd infra && $(CURDIR)/$(STATICCHECK) ./...
	@# The production images: static (every service but perception) and without the simulator.
	CGO_ENABLED=0 $(GO) build -tags prod -o /dev/null ./cmd/soms
	$(GO) test -count=1 -tags prod ./cmd/soms

$(STATICCHECK):
	GOBIN=$(CURDIR)/$(dir $@) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

bench: deps ## benchmarks with memory figures
	$(GO) test -count=1 -run '^$$' -bench . -benchmem ./...

docs: build ## regenerate docs/config.md (Config structs), infra/mosquitto/aclfile and docs/mqtt-acl.md (internal/mqttacl), infra/nginx/*.conf and docs/security.md (the frontend's route table)
	./$(BIN) env -markdown > docs/config.md
	$(GO) test -count=1 ./internal/mqttacl -run GeneratedFileIsCurrent -update
	$(GO) test -count=1 ./services/frontend -run 'NginxConfsAreCurrent|SecurityDocIsCurrent' -update

clean:
	rm -rf bin
