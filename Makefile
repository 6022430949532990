# Metronome: `make run` (the main job against the bundled simulated server) and `make test`.
SWIFT ?= swift
# Release builds: the generator's timing is the product, and tests measure it too.
CONFIG := -c release
TESTING := -Xswiftc -enable-testing
BIN = $(shell $(SWIFT) build $(CONFIG) --show-bin-path)

# The main job (override on the command line, e.g. make run RATE=50 DURATION=1m).
RATE ?= 20
RAMP ?= 10s
DURATION ?= 30s
RUN_ARGS ?=

.PHONY: build test run bench clean help-options

build:
	$(SWIFT) build $(CONFIG)

test:
	$(SWIFT) build $(CONFIG) $(TESTING)
	$(SWIFT) test $(CONFIG) $(TESTING) --skip-build

# Starts llmsim on a free port, runs Metronome against it, stops llmsim (by its pid).
run: build
	@bash bench/run-against-llmsim.sh "$(BIN)" --rate $(RATE) --ramp $(RAMP) --duration $(DURATION) $(RUN_ARGS)

# Metronome beside Locust, coordinated omission shown, the generator's own cost (about 10 min;
# BENCH_QUICK=1 about 2). Tables go to stdout and experiments/bench/<timestamp>/compare.{md,json}.
bench: build
	@python3 bench/bench.py "$(BIN)"

# The bench's own test (seconds, no Locust/nginx/wrk): every step on tiny loads, report checked.
# Built like `test` (same flags), so running it after the tests rebuilds nothing.
.PHONY: bench-smoke
bench-smoke:
	$(SWIFT) build $(CONFIG) $(TESTING)
	@BENCH_SMOKE=1 python3 bench/bench.py "$(BIN)"

help-options: build
	@$(BIN)/metronome help-options

clean:
	rm -rf .build
