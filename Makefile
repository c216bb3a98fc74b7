# tide: the two commands are `make demo` and `make test`. Both install missing Debian packages
# (as root) or print the exact apt-get line to run, then configure, build and run.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_TSAN ?= build-tsan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

# Build dependencies, and what the test suite needs on top (real servers, a browser).
DEPS      := gcc make cmake pkg-config liblua5.4-dev libcurl4-openssl-dev libev-dev \
             libcjson-dev libssl-dev
TEST_DEPS := python3 python3-flask chromium nodejs@node npm@npm libxml2-utils strace@strace iproute2@ip openssh-client curl binutils age
# npm fetches the report's chart library at build time (engine/report/npm, pinned with its hash).
DEPS      += nodejs@node npm@npm
# the --stream json test validates every line against docs/stream-json.schema.json
TEST_DEPS += python3-jsonschema
# the libFuzzer targets of tests/fuzz: clang with its fuzzer and sanitizer runtimes
TEST_DEPS += clang libclang-rt-14-dev
# TLS tests make their own CA and certificates; the help test renders the man page (groff)
# and parses the zsh completion (zsh -n)
TEST_DEPS += openssl groff zsh
# --stream prometheus=URL compresses with snappy; its test pushes to a real Prometheus
DEPS      += libsnappy-dev
TEST_DEPS += prometheus
# the CI examples (examples/ci/*.yml) are parsed by their test
TEST_DEPS += python3-yaml
# both transports against nginx (tests/e2e/test_transport_peers.py), HTTP/2 (test_http2.py)
TEST_DEPS += nginx
# gzip/deflate response bodies are decoded (and request bodies compressed) with zlib
DEPS      += zlib1g-dev

.PHONY: all build demo test test-fast deps test-deps clean bench fuzz

all: build

deps:
	@scripts/ensure-debs $(DEPS)

test-deps:
	@scripts/ensure-debs $(DEPS) $(TEST_DEPS)

$(BUILD)/Makefile: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTIDE_WERROR=ON

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	./$(BUILD)/tide demo

# Every test, twice: a normal build, then under AddressSanitizer + UBSan; then the multi-thread
# tests (label tsan) a third time under ThreadSanitizer, where any report fails them (exit code
# 66, and the tests look for the warning). Only what those tests run is built there.
test: test-deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTIDE_WERROR=ON
	cmake --build $(BUILD) -j$(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DTIDE_WERROR=ON -DTIDE_SANITIZE=ON
	cmake --build $(BUILD_ASAN) -j$(JOBS)
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j$(JOBS) -LE no-asan
	cmake -S . -B $(BUILD_TSAN) -DCMAKE_BUILD_TYPE=Debug -DTIDE_WERROR=ON -DTIDE_TSAN=ON
	cmake --build $(BUILD_TSAN) -j$(JOBS) --target tide test_recorder test_stream test_prom_send test_resolver
	cd $(BUILD_TSAN) && TSAN_OPTIONS=halt_on_error=1:exitcode=66:second_deadlock_stack=1 \
	  ctest --output-on-failure -j$(JOBS) -L tsan

# The normal build's tests only (quicker while developing).
test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

bench: build
	bench/throughput.sh

# Every fuzz target of tests/fuzz for FUZZ_SECONDS each (make test runs them 5 s each).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := threshold duration urlname privacy data report compare target_http options car \
	init_locust config_file merge age s3 cookiejar http1 decode
FUZZ_TARGETS += http1_request
fuzz: test-deps
	tests/fuzz/run.sh build . $(BUILD)/fuzz-build
	set -e; for t in $(FUZZ_TARGETS); do \
	  tests/fuzz/run.sh run . $(BUILD)/fuzz-build $$t $(FUZZ_SECONDS); done

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_TSAN)
