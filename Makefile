# metasim — build, test, run.
#
#   make run        build and run examples/retry-storm.yaml
#   make test       build and run the whole test suite
#   make test-asan  the suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench      the performance benchmark (ratios against a hand-written loop)
#
# Outputs: build/ (release), build/debug/ (invariant checks), build/asan/.
# A missing Debian package is installed by scripts/deps.sh (as root) or named
# with the exact apt-get line.

CC      ?= cc
MODE    ?= release
WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter $(if $(WERROR),-Werror)
BASE    := -std=c11 -D_XOPEN_SOURCE=700 -Iinclude -MMD -MP
LIBS    := -lyaml -lgsl -lgslcblas -lm -lpthread

ifeq ($(MODE),release)
  OUT   := build
  # -fno-plt: libm, GSL and libyaml calls go straight through the GOT
  # (measured 4% faster on bench/retry-storm.yaml; the tight loop gains nothing)
  OPT   := -O2 -g -flto=auto -fno-plt
else ifeq ($(MODE),debug)
  OUT   := build/debug
  OPT   := -O0 -g -DMSIM_DEBUG
else ifeq ($(MODE),asan)
  OUT   := build/asan
  OPT   := -O1 -g -DMSIM_DEBUG -fsanitize=address,undefined -fno-sanitize-recover=undefined \
           -fno-omit-frame-pointer
else
  $(error MODE must be release, debug or asan)
endif

CFLAGS  := $(BASE) $(OPT) $(WARN) $(EXTRA_CFLAGS)
LDFLAGS := $(OPT) $(EXTRA_LDFLAGS)

LIB_SRC := $(wildcard src/engine/*.c src/scenario/*.c src/analysis/*.c src/report/*.c components/*.c)
CLI_SRC := $(wildcard cli/*.c)
TEST_SRC := $(wildcard tests/*.c tests/unit/*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(OUT)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(OUT)/obj/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(OUT)/obj/%.o)

LIB   := $(OUT)/libmetasim.a
BIN   := $(OUT)/metasim
TESTS := $(OUT)/metasim-tests
DEPS_OK := build/.deps-ok

.PHONY: all run test test-asan test-quick bench docs clean deps
all: $(BIN)

deps: $(DEPS_OK)
$(DEPS_OK): scripts/deps.sh
	@CC=$(CC) sh scripts/deps.sh
	@mkdir -p build && touch $@

# Objects depend on the Makefile: a change of flags rebuilds them.
$(OUT)/obj/%.o: %.c Makefile | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Isrc -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	gcc-ar rcs $@ $^ 2>/dev/null || ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS) $(CLI_OBJ) $(LIB) $(LIBS) -o $@

$(TESTS): $(TEST_OBJ) $(LIB) $(BIN)
	$(CC) $(LDFLAGS) $(TEST_OBJ) $(LIB) $(LIBS) -o $@

run: $(BIN)
	./$(BIN) run examples/retry-storm.yaml

# The whole suite: unit, theory, golden cases, examples — in the debug build
# (invariant checks after every event) and the release build.
test:
	@$(MAKE) --no-print-directory MODE=release $(BIN) build/metasim-tests
	@$(MAKE) --no-print-directory MODE=debug build/debug/metasim build/debug/metasim-tests
	./build/debug/metasim-tests --bin build/debug/metasim --tier quick
	./build/metasim-tests --bin build/metasim

test-quick: $(BIN) $(TESTS)
	./$(TESTS) --bin $(BIN) --tier quick

test-asan:
	@$(MAKE) --no-print-directory MODE=asan build/asan/metasim build/asan/metasim-tests
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ./build/asan/metasim-tests --bin build/asan/metasim --tier quick

bench: $(BIN)
	sh bench/run.sh

docs: $(BIN)
	./$(BIN) list --markdown > docs/scenario-reference.md

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d)

# ---- fuzz ---------------------------------------------------------------------
# The scenario loader under libFuzzer (tests/fuzz/, STYLE §15). Needs clang and
# its fuzzer runtime (Debian: libclang-rt-14-dev). The library sources are
# compiled straight into each target, instrumented, with ASan + UBSan.
#
#   make fuzz                      build build/fuzz/fuzz_scenario (scenario text)
#                                  and build/fuzz/fuzz_override (--set overrides)
#   make fuzz-run FUZZ_TIME=300    fuzz the loader for FUZZ_TIME seconds; new inputs
#                                  go to build/fuzz/corpus/, failures to tests/fuzz/crashes/
#   make fuzz-run-override         the same for overrides (build/fuzz/override-corpus/)
# Replay a failure: ./build/fuzz/fuzz_scenario tests/fuzz/crashes/FILE. Give a
# kept failure a name that says what it is; the test suite replays that
# directory (fuzz_corpus_replay). FUZZ_EXTRA adds compiler flags, e.g.
# FUZZ_EXTRA=-fno-sanitize=float-cast-overflow to look past a known finding.
FUZZ_CC    ?= clang
FUZZ_EXTRA ?=
FUZZ_TIME  ?= 300
FUZZ_BINS  := build/fuzz/fuzz_scenario build/fuzz/fuzz_override
FUZZ_FLAGS := -std=c11 -D_XOPEN_SOURCE=700 -Iinclude -Isrc -g -O1 -fno-omit-frame-pointer \
              -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_OPTS  := -dict=tests/fuzz/scenario.dict -max_total_time=$(FUZZ_TIME) -timeout=10 \
              -rss_limit_mb=2048 -artifact_prefix=tests/fuzz/crashes/

.PHONY: fuzz fuzz-run fuzz-run-override
fuzz: $(FUZZ_BINS)

build/fuzz/%: tests/fuzz/%.c tests/fuzz/roundtrip.h $(LIB_SRC) $(wildcard include/metasim/*.h src/*/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(FUZZ_EXTRA) $< $(LIB_SRC) -lyaml -lgsl -lgslcblas -lm -lpthread -o $@

fuzz-run: build/fuzz/fuzz_scenario
	@mkdir -p build/fuzz/corpus tests/fuzz/crashes
	./$< build/fuzz/corpus tests/fuzz/corpus $(FUZZ_OPTS) -max_len=4096

fuzz-run-override: build/fuzz/fuzz_override
	@mkdir -p build/fuzz/override-corpus tests/fuzz/crashes
	./$< build/fuzz/override-corpus tests/fuzz/override-corpus $(FUZZ_OPTS) -max_len=1024
