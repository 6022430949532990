# Metronome: `make run` (the main job against the bundled simulated server) and `make test`.
SWIFT ?= swift
# Release builds: the generator's timing is the product, and tests measure it too.
CONFIG := -c release
# The shipped binaries carry the Swift runtime inside them (metronome imports no Foundation; llmsim
# carries it too): start-up costs less, and they run on a machine without the toolchain. A small run's
# peak resident memory is about 9.7 MiB (with Foundation linked it was 14 MiB static, about 21 MB
# dynamic). Tests link dynamically (.build-test); the code is the same.
STATIC := --static-swift-stdlib
TESTING := -Xswiftc -enable-testing
BIN = $(shell $(SWIFT) build $(CONFIG) --show-bin-path)
TEST_BIN = $(shell $(SWIFT) build $(CONFIG) $(TESTING) --scratch-path .build-test --show-bin-path)

# The main job: the 200/200 streaming workload against the bundled simulated vLLM (llmsim), short
# enough to watch (override on the command line, e.g. make run RATE=50 DURATION=1m).
RATE ?= 20
RAMP ?= 10s
DURATION ?= 30s
ARRIVAL ?= poisson
RUN_ARGS ?= --ignore-eos --slo 'p95<=5s,errors<=0.1%'
LLMSIM_ARGS ?= --ttft 100ms --itl 10ms --max-num-seqs 64
# make loadtest: the same against a real server (replaces the old scripts/run_loadtest.sh).
URL ?= http://127.0.0.1:8000
FUZZ_SECONDS ?= 60
SOAK_MINUTES ?= 10

.PHONY: build test run loadtest bench bench-speed bench-smoke clean help-options fuzz sanitize soak grid web-check

build:
	$(SWIFT) build $(CONFIG) $(STATIC)

# Tests build apart (.build-test) so that switching between `make test` and `make run` does not
# rebuild everything for the -enable-testing flag.
# The bench's smoke run comes last, so CI catches a broken bench too.
test:
	$(SWIFT) build --build-tests $(CONFIG) $(TESTING) --scratch-path .build-test
	$(SWIFT) test $(CONFIG) $(TESTING) --scratch-path .build-test --skip-build
	@BENCH_SMOKE=1 python3 bench/bench.py "$(TEST_BIN)"

# Starts llmsim on a free port, runs Metronome against it, stops llmsim (by its pid).
run: build
	@LLMSIM_ARGS="$(LLMSIM_ARGS)" bash bench/run-against-llmsim.sh "$(BIN)" \
		--rate $(RATE) --ramp $(RAMP) --duration $(DURATION) --arrival $(ARRIVAL) $(RUN_ARGS)

loadtest: build
	$(BIN)/metronome run $(URL) --rate $(RATE) --ramp $(RAMP) --duration $(DURATION) --arrival $(ARRIVAL) $(RUN_ARGS)

# Metronome beside Locust, coordinated omission shown, the generator's own cost (about 10 min;
# BENCH_QUICK=1 about 2). Tables go to stdout and experiments/bench/<timestamp>/compare.{md,json}.
bench: build
	@python3 bench/bench.py "$(BIN)"

# The speed table alone (section 4): generator CPU per 10k requests at 1k/10k/30k rps beside Debian's
# wrk, send-lag p99, instructions and allocations per request and per SSE event (valgrind), peak RSS.
# About 4 minutes (BENCH_QUICK=1 about 2); BENCH_SECTIONS=3,4 adds the sustained-rate search.
bench-speed: build
	@BENCH_SECTIONS=4 python3 bench/bench.py "$(BIN)"

# The bench's own test (seconds, no Locust/nginx/wrk): every step on tiny loads, report checked.
# Built like `test` (same flags and folder), so running it after the tests rebuilds nothing.
bench-smoke:
	$(SWIFT) build $(CONFIG) $(TESTING) --scratch-path .build-test
	@BENCH_SMOKE=1 python3 bench/bench.py "$(TEST_BIN)"

# libFuzzer targets for the parsers and scanners, with AddressSanitizer, FUZZ_SECONDS each (default
# 60; 6 targets). A package of its own (Tests/Fuzz), so nothing here changes `build` or `test`.
fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) bash Tests/Fuzz/run.sh

# The whole suite under AddressSanitizer (release with testing, as `test`), then the progress
# reader (a second thread reading the engine's lock-free counters and histograms while the engine
# writes them) under ThreadSanitizer. Each in its own scratch folder; the Swift backtracer is off
# so that the sanitizer's report is the one printed. Skipped under ASan: the allocation counts
# (valgrind, malloc_stats) cannot see through ASan's allocator, and the two tests that time tokens
# to the millisecond would be timing a 2-3x slower binary; resident memory includes ASan's shadow of
# every histogram slot a report reads, so the many-stages memory test is skipped too. Leak checking is off: XCTest keeps test cases in retain cycles,
# so LeakSanitizer's report is mostly the harness; the soak checks the product's memory instead.
ASAN := $(CONFIG) $(TESTING) -Xswiftc -sanitize=address --scratch-path .build-asan
ASAN_SKIP := --skip testHotPathAllocatesNothingPerRequest --skip testScanningDoesNotGrowTheHeap \
	--skip testTwoHundredStreamsKeepTimeWithinOneMillisecondAtP99 --skip testStreamingMetricsMatchTheModel \
	--skip testManyStagesCostWhatTheyRecord
TSAN := -Xswiftc -sanitize=thread --scratch-path .build-tsan
sanitize:
	$(SWIFT) build --build-tests $(ASAN)
	SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 $(SWIFT) test --skip-build $(ASAN) $(ASAN_SKIP)
	$(SWIFT) build --build-tests $(TSAN)
	SWIFT_BACKTRACE=enable=no TSAN_OPTIONS=halt_on_error=1 $(SWIFT) test --skip-build $(TSAN) --filter ProgressLineTests

# The capacity grid (the harness's Milestone 4) on the bundled llmsim (TTFT 100 ms, ITL 10 ms): for each
# --max-num-seqs in GRID_SEQS, find-max the 200/200 workload under p95<=5s,errors<=0.1% tagged
# max_num_seqs=K, then `metronome report --grid` over the results (experiments/runs/grid-<time>_grid.*).
# About 20 minutes (Poisson arrivals, 30 s holds, 5 % precision); GRID_QUICK=1 about 3 minutes (constant
# arrivals, 7 s holds, 25 %: a check of the workflow; holds that short let rates above capacity pass).
GRID_SEQS ?= 16 32 64
grid: build
	@GRID_SEQS="$(GRID_SEQS)" python3 bench/grid.py "$(BIN)"

# Not part of `test`: SOAK_MINUTES (default 10) of the 200/200 workload at 50 rps against a faulty
# llmsim, with 10,000 connections held for a minute beside it; checks flat memory and that every
# request is accounted for (bench/soak.py).
soak: build
	@SOAK_MINUTES=$(SOAK_MINUTES) python3 bench/soak.py "$(BIN)"

# The live web view (`run --web`) in headless Chromium: --dump-dom checked for the server-rendered figures
# and charts, a screenshot at experiments/web-check/web-check.png; skips with a message without Chromium.
web-check: build
	@bash bench/web-check.sh "$(BIN)"

help-options: build
	@$(BIN)/metronome help-options

clean:
	rm -rf .build .build-test
