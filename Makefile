# Thin wrapper over meson: everything real lives in meson.build and scripts/.
# `make demo` and `make test` work on a fresh Debian 12 machine as root.

BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 20

# Exactly the Debian packages sluice needs to build, test and benchmark.
DEPS := build-essential meson ninja-build pkg-config cmake clang \
	libclang-rt-14-dev python3 sqlite3 \
	libdpdk-dev dpdk dpdk-dev liburing-dev librocksdb-dev \
	libmimalloc-dev libcmocka-dev libfyaml-dev libjansson-dev \
	libxxhash-dev libsystemd-dev prometheus gnuplot-nox

.PHONY: all deps build build-asan demo test test-unit fuzz bench bench-memif bench-latency bench-ckpt bench-inproc chaos hugepages clean

all: build

deps:
	@scripts/deps.sh $(DEPS)

$(BUILD)/build.ninja:
	meson setup $(BUILD)

$(BUILD_ASAN)/build.ninja:
	meson setup $(BUILD_ASAN) -Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debug

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

build-asan: deps $(BUILD_ASAN)/build.ninja
	ninja -C $(BUILD_ASAN)

hugepages:
	@scripts/hugepages.sh

demo: build hugepages
	@scripts/demo.sh $(BUILD)

test: build build-asan hugepages
	meson test -C $(BUILD) --suite unit --suite integration --print-errorlogs
	# UBSan only prints by default: a report must fail the test.
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C $(BUILD_ASAN) --suite unit --suite integration --print-errorlogs \
		--timeout-multiplier 3

test-unit: build
	meson test -C $(BUILD) --suite unit --print-errorlogs

$(BUILD_FUZZ)/build.ninja:
	CC=clang meson setup $(BUILD_FUZZ) -Dfuzz=true -Db_lundef=false -Dtests=false \
		-Db_sanitize=address,undefined

fuzz: deps $(BUILD_FUZZ)/build.ninja
	ninja -C $(BUILD_FUZZ)
	@scripts/fuzz.sh $(BUILD_FUZZ) $(FUZZ_SECONDS)

# The standard suite (memif, in-process, checkpoints), each beside its
# reference, into perf/results/<date>-<host>/summary.md.
bench: build hugepages
	@perf/bench/suite.sh $(BUILD)

bench-memif: build hugepages
	@perf/bench/run.sh $(BUILD)

bench-latency: build hugepages
	@perf/bench/latency.sh $(BUILD)

bench-ckpt: build
	@perf/bench/ckpt.sh $(BUILD)

# Operator throughput per core with no transport (type: gen), beside the
# plain C keyed count of perf/ref; medians of RUNS (5) runs.
# Every scenario also with a checkpoint a second and on rocksdb (the
# standard suite, `make bench`, runs them plain).
bench-inproc: build
	@VARIANTS="$${VARIANTS:-plain ckpt rocksdb rocksdb-ckpt}" perf/bench/inproc.sh $(BUILD)

chaos: build hugepages
	@scripts/chaos.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
