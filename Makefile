# crmbackup — every command a developer or CI needs. Tools the project uses
# are installed from the project's own files (go.mod, package-lock.json, and
# Debian packages for Node.js and Java when the machine lacks them), never by hand.

GO      ?= go
PKGS    ?= ./...
# The race detector guards the shared rate budget and the emulator's store.
TESTFLAGS ?= -race -count=1 -timeout 15m

.PHONY: all test vet fmt-check fmt bench fuzz reliability demo local cli console emulator build lambdas node-check synth deploy destroy tools clean

# The CDK CLI (aws-cdk, pinned in package-lock.json) runs the Go app of infra/
# (cdk.json). Under a Node release past its end of life, jsii prints a
# 12-line banner on every run (synth, and the infra tests): node-check says
# it once, in one line.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
CDK = npx --no-install cdk --no-notices

all: test

## test: vet, gofmt check and the whole test suite (what CI runs)
## (the console's browser tests leave a screenshot of each page in build/screenshots)
test: tools console vet fmt-check
	CONSOLE_SCREENSHOTS=$(CURDIR)/build/screenshots $(GO) test $(TESTFLAGS) $(PKGS)

# Debian packages when a command is missing (as root, or through sudo).
APT_INSTALL = sh -c 'if [ "$$(id -u)" -ne 0 ]; then S=sudo; fi; $$S apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$S apt-get install -y -qq --no-install-recommends "$$@"' apt-install

## tools: Go modules, the Node tools of package-lock.json (the local Step Functions
## runner, asl-validator, DynamoDB Local, the CDK CLI, the console's TypeScript toolchain), the
## Java JDK DynamoDB Local needs and the chromium the console's browser tests drive
## (a JDK, not only a runtime: javac compiles the launcher that keeps it on loopback)
tools: node_modules/.installed
	@command -v $(GO) >/dev/null || { echo "Go is required (go.mod says which version)"; exit 1; }
	$(GO) mod download
	@command -v javac >/dev/null || $(APT_INSTALL) default-jdk-headless
	@# The console's browser tests drive Debian's chromium (chromedp).
	@command -v chromium >/dev/null || $(APT_INSTALL) chromium

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || $(APT_INSTALL) nodejs npm
	npm ci --no-audit --no-fund --loglevel=error
	@# aws-cdk ships Go templates: a module file keeps them out of ./...
	@printf 'module node_modules\n' > node_modules/go.mod
	@touch $@

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

fmt:
	gofmt -w $$(git ls-files '*.go')

## bench: the benchmarks (figures go into issue closing notes)
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## fuzz: each request decoder's fuzz target for FUZZTIME (default 1m) each;
## their seed corpora (testdata/fuzz/) run with every `make test`
FUZZTIME ?= 1m
FUZZ_TARGETS := internal/api:FuzzRequests internal/api:FuzzDecode internal/listing:FuzzCursor
fuzz:
	@for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; name=$${t##*:}; \
		echo "$$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) ./$$pkg || exit 1; done

## reliability: the fault suite of docs/reliability.md at full strength:
## RELIABILITY_TRIALS crash points per test (`make test` runs 4), the fault
## and race tests, and each fuzz target for FUZZTIME
RELIABILITY_TRIALS ?= 50
reliability: tools
	RELIABILITY_TRIALS=$(RELIABILITY_TRIALS) $(GO) test -count=1 -v -run . ./internal/reliability/ 2>&1 | grep -E '^(---|ok|FAIL|PASS)|trials'
	$(GO) test -count=1 -v -run 'TestFullPagingUnderLimitsAndFaults' ./internal/hubspot/ 2>&1 | grep -E '^(---|ok|FAIL)|requests'
	$(GO) test -count=1 -v -run 'TestBackupThroughTheLocalStack|TestRestoreThroughTheLocalStack' ./internal/localstack/ 2>&1 | grep -E '^(---|ok|FAIL)'
	$(GO) test -count=1 -v -run 'TestConformance/concurrent|TestRestoreConformance/concurrent' ./internal/memstore/ ./internal/dynamo/ 2>&1 | grep -E '^(---|ok|FAIL)|concurrent'
	$(MAKE) fuzz

## demo: the main job on this machine: a real backup through the local stack,
## downloaded into ./backups and verified (flags: make demo ARGS='-records 50000')
demo: tools console cli
	bin/crmbackup demo $(ARGS)

## local: the local stack (API, CRM emulator, DynamoDB Local, S3 stand-in) until Ctrl-C
## (run as a binary, not through `go run`, which ends a clean Ctrl-C with status 1)
local: tools console cli
	bin/crmbackup local $(ARGS)

## console: the admin console (console/, TypeScript + Preact), type-checked and
## bundled by esbuild into internal/console/dist, which the Go binary embeds
CONSOLE_DIST := internal/console/dist
CONSOLE_SRC := $(wildcard console/src/*.ts console/src/*.tsx) console/index.html console/styles.css console/tsconfig.json
console: $(CONSOLE_DIST)/console.js
$(CONSOLE_DIST)/console.js: node_modules/.installed $(CONSOLE_SRC)
	node_modules/.bin/tsc -p console
	node_modules/.bin/esbuild console/src/main.tsx --bundle --minify --format=esm --target=es2022 --log-level=warning --outfile=$(CONSOLE_DIST)/console.js
	cp console/index.html $(CONSOLE_DIST)/index.html
	cp console/styles.css $(CONSOLE_DIST)/console.css

## cli: the crmbackup command, bin/crmbackup (the operators' and admins' tool)
cli:
	@echo "building bin/crmbackup (the first time on a machine, Go compiles the AWS SDK and the rest for a few minutes)…"
	$(GO) build -o bin/crmbackup ./cmd/crmbackup

## emulator: the CRM emulator alone, HubSpot's limits on (100 req/10 s)
emulator:
	$(GO) run ./cmd/crmemu -rate-limit 100

## lambdas: one static bootstrap per function for provided.al2023 on arm64, in
## $(LAMBDA_DIR)/<name>/ (the infra tests build them too, into a temporary folder)
FUNCTIONS := $(notdir $(patsubst %/main.go,%,$(wildcard functions/*/main.go)))
LAMBDA_DIR ?= build
lambdas:
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -trimpath -tags lambda.norpc -ldflags='-s -w' -o $(LAMBDA_DIR)/bin/ ./functions/...
	@for f in $(FUNCTIONS); do mkdir -p $(LAMBDA_DIR)/$$f && cp -p $(LAMBDA_DIR)/bin/$$f $(LAMBDA_DIR)/$$f/bootstrap && echo "$(LAMBDA_DIR)/$$f/bootstrap"; done

node-check:
	@node -e 'const m = +process.versions.node.split(".")[0]; if (m < 22) console.error("note: Node " + m + " is past its end of life for the CDK; it works, but Node 22 or later is supported")'

## synth: the CloudFormation template and assets into cdk.out/, offline (no AWS
## credentials needed), checked by cdk-nag (flags: make synth CDK_ARGS='-c stage=dev')
synth: tools node-check lambdas console
	$(CDK) synth --quiet $(CDK_ARGS)

## deploy: deploy the stack with the current AWS credentials (after `cdk bootstrap`)
deploy: tools node-check lambdas console
	$(CDK) deploy $(CDK_ARGS)

## destroy: delete the stack (retained resources stay: see README)
destroy: tools
	$(CDK) destroy $(CDK_ARGS)

build:
	$(GO) build $(PKGS)

clean:
	rm -rf build bin cdk.out
	$(GO) clean -testcache
