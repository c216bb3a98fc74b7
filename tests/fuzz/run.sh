#!/bin/sh
# run.sh: builds and runs the libFuzzer targets of tests/fuzz (README.md there).
#   run.sh build SRC FUZZ_BUILD              configure (clang, -DTIDE_FUZZ=ON) and build them all
#   run.sh run SRC FUZZ_BUILD TARGET SECONDS  run one on its seed corpus for SECONDS
# The project's normal build is gcc; the fuzzers need clang's libFuzzer, ASan and UBSan
# runtimes, hence a separate build tree. Exit 77 (a visible SKIP) when clang or its runtime
# (Debian: clang, libclang-rt-14-dev) is missing. A crash, leak, UBSan report, hang (25 s on
# one input: generous, as a busy CI machine must pass; the slowest inputs take 0.5 s of CPU
# under ASan) or more than 512 MB of RSS fails, and the input that did it is kept in
# FUZZ_BUILD/artifacts/ (add it to corpus/TARGET/ as crash-<what> once the bug is fixed).
set -eu
mode=$1 src=$2 build=$3
CC=${FUZZ_CC:-clang}

need_clang() {
    if ! command -v "$CC" >/dev/null 2>&1; then
        echo "SKIP: $CC not found (apt-get install clang libclang-rt-14-dev)"
        exit 77
    fi
    probe=$(mktemp -d)
    printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n);\n%s\n' \
        'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' >"$probe/p.c"
    if ! "$CC" -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" >/dev/null 2>&1; then
        rm -rf "$probe"
        echo "SKIP: $CC cannot link -fsanitize=fuzzer,address,undefined" \
            "(apt-get install libclang-rt-14-dev)"
        exit 77
    fi
    rm -rf "$probe"
}

case $mode in
build)
    need_clang
    if [ ! -f "$build/CMakeCache.txt" ]; then
        CC=$CC cmake -S "$src" -B "$build" -DTIDE_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
    fi
    nice cmake --build "$build" -j"${FUZZ_JOBS:-2}" --target fuzz_all
    ;;
run)
    target=$4 seconds=$5
    exe=$build/tests/fuzz/fuzz_$target
    if [ ! -x "$exe" ]; then
        need_clang
        echo "tide: fuzz: $exe is missing (run: $0 build $src $build)" >&2
        exit 1
    fi
    # New inputs the fuzzer finds go to a scratch copy, never into the committed seeds.
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/corpus" "$work/tmp" "$build/artifacts"
    export TMPDIR=$work/tmp
    # ASan keeps 256 MB of freed memory by default to catch uses after free; regcomp alone
    # frees that much in a minute, so the 512 MB limit would measure the quarantine, not tide.
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=64}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    # The seeds (crashers included: regressions) are run first, then mutated.
    "$exe" -max_total_time="$seconds" -rss_limit_mb=512 -timeout=25 -print_final_stats=1 \
        -artifact_prefix="$build/artifacts/$target-" \
        "$work/corpus" "$src/tests/fuzz/corpus/$target"
    ;;
*)
    echo "usage: $0 build SRC FUZZ_BUILD | run SRC FUZZ_BUILD TARGET SECONDS" >&2
    exit 2
    ;;
esac
