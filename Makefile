# vtlb — GNU Makefile.
#
# Knobs:
#   MODE=rel|prof|dbg|asan|ubsan|san|tsan|cov   build flavour (prof = rel with -g,
#                                     for callgrind); objects go to build/$(MODE)/
#                                     (san = ASan + UBSan together, used by `make check`;
#                                     tsan = ThreadSanitizer, for `explore --jobs N`)
#   CC=gcc|clang                      compiler
#   WERROR=1                          treat warnings as errors (always on in `make check`)
#   JOBS=N                            parallel test jobs for `make check`
#   V=1                               show full compiler command lines
#   MPICC=mpicc                       MPI compiler wrapper; where it exists, build/vtlb-mpi is built
#                                     too (Open MPI: apt-get install openmpi-bin libopenmpi-dev)
#
# Targets:
#   make            build/vtlb and build/libvtlb.a (MODE=rel)
#   make run        build, then run the bundled scenario suite (the main job):
#                   every script with `vtlb run`, every exploration scenario
#                   (scenarios/explore/) with `vtlb explore` within its bounds
#   make check      build under ASan+UBSan with -Werror and pass every test
#   make bench      run the benchmarks in bench/ (with SPIN and MPI where installed,
#                   and BASE=rev side by side)
#   make clean

MODE   ?= rel
CC     ?= cc
WERROR ?= 0
JOBS   ?= 2

WARN := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wwrite-strings -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN += -Werror
endif

CFLAGS_rel   := -O2 -DNDEBUG
CFLAGS_prof  := -O2 -DNDEBUG -g
CFLAGS_dbg   := -O0 -g3
CFLAGS_asan  := -O1 -g -fsanitize=address -fno-omit-frame-pointer
CFLAGS_ubsan := -O1 -g -fsanitize=undefined -fno-sanitize-recover=undefined
CFLAGS_san   := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
CFLAGS_tsan  := -O1 -g -fsanitize=thread
CFLAGS_cov   := -O0 -g --coverage

ALL_CFLAGS  = $(WARN) $(CFLAGS_$(MODE)) -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc $(CFLAGS)
ALL_LDFLAGS = $(CFLAGS_$(MODE)) $(LDFLAGS)
LDLIBS     += -lpthread -lm

O := build/$(MODE)

# build/vtlb-mpi only where an MPI compiler wrapper exists; the rest never needs MPI.
# Open MPI's mpicc compiles with $(OMPI_CC), so CC=clang carries over.
MPICC ?= mpicc
HAVE_MPI := $(if $(shell command -v $(MPICC) 2>/dev/null),1,)
export OMPI_CC := $(CC)
MPI_BIN := $(if $(HAVE_MPI),$(O)/vtlb-mpi,)

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_SRC := $(wildcard src/*.c src/arch/*.c src/hv/*.c src/guest/*.c src/oracle/*.c src/probe/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(O)/%.o)
TOOL_OBJ := $(patsubst %.c,$(O)/%.o,$(filter-out tools/vtlb_mpi.c,$(wildcard tools/*.c)))
TEST_SRC := $(wildcard tests/unit/*.c)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(O)/tests/%)
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(O)/bench/%)

.PHONY: all run check check-build bench clean
.SUFFIXES:
# Keep intermediate objects (tests/unit/*.o): no stray 'rm' after a build.
.SECONDARY:

all: build/vtlb build/libvtlb.a $(if $(HAVE_MPI),build/vtlb-mpi,)

$(O)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(O)/libvtlb.a: $(LIB_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(O)/vtlb: $(TOOL_OBJ) $(O)/libvtlb.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/tools/mpi/%.o: tools/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  MPICC   $<")
	$(Q)$(MPICC) $(ALL_CFLAGS) -DVTLB_MPI -MMD -MP -c -o $@ $<

# vtlb-mpi is vtlb.c built with -DVTLB_MPI plus the transport; the other tools/ objects are shared.
$(O)/vtlb-mpi: $(O)/tools/mpi/vtlb.o $(O)/tools/mpi/vtlb_mpi.o $(filter-out $(O)/tools/vtlb.o,$(TOOL_OBJ)) $(O)/libvtlb.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(MPICC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/tests/%: $(O)/tests/unit/%.o $(O)/libvtlb.a
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/bench/%: $(O)/bench/%.o $(O)/libvtlb.a
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

# The default (rel) build is also published at build/vtlb and build/libvtlb.a.
ifeq ($(MODE),rel)
build/vtlb: $(O)/vtlb
	$(Q)cp $< $@
build/vtlb-mpi: $(O)/vtlb-mpi
	$(Q)cp $< $@
build/libvtlb.a: $(O)/libvtlb.a
	$(Q)cp $< $@
else
build/vtlb build/libvtlb.a build/vtlb-mpi:
	$(Q)$(MAKE) --no-print-directory MODE=rel $@
endif

# Both halves run even when the first fails; the target fails if either did.
run: all
	@st=0; \
	echo "build/vtlb run scenarios/"; build/vtlb run scenarios/ || st=$$?; \
	echo "build/vtlb explore scenarios/explore/"; build/vtlb explore scenarios/explore/ || st=$$?; \
	exit $$st

# Every test runs against the sanitizer build; tests find the binaries
# through VTLB and VTLB_TESTS.
check-build:
	$(Q)$(MAKE) --no-print-directory MODE=san WERROR=1 build/san/vtlb $(TEST_BIN:$(O)/%=build/san/%) \
		$(if $(HAVE_MPI),build/san/vtlb-mpi,)

check: check-build
	VTLB=build/san/vtlb VTLB_TESTS=build/san/tests VTLB_MPI=build/san/vtlb-mpi \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	prove -j$(JOBS) tests/

# BASE: the revision `make bench` measures side by side with this tree
# (built in build/base/ from `git archive`); skipped when git cannot find it.
# ea00764 is main before issue 8's store and breadth-first search.
BASE ?= ea00764
# seconds per search and build in the side-by-side run (the large searches take
# minutes on an idle machine: they are compared at the same cut)
BENCH_TIME_LIMIT ?= 90

bench: $(BENCH_BIN) $(O)/vtlb $(MPI_BIN)
	$(O)/bench/explore scenarios/explore/*.vtlb bench/scenarios/*.vtlb
	$(O)/bench/cost scenarios/cost/*.vtlb
	@if git rev-parse -q --verify '$(BASE)^{commit}' >/dev/null 2>&1; then \
		rm -rf build/base && mkdir -p build/base && git archive '$(BASE)' | tar -x -C build/base && \
		$(MAKE) --no-print-directory -C build/base MODE=rel build/rel/vtlb >/dev/null && \
		echo "before: $(BASE) ($$(git rev-parse --short '$(BASE)')), after: this tree" && \
		perl bench/compare.pl --time-limit $(BENCH_TIME_LIMIT) build/base/build/rel/vtlb $(O)/vtlb bench/scenarios/*.vtlb bench/scenarios/large/*.vtlb; \
	else echo "bench: no revision '$(BASE)' to compare with (BASE=rev)"; fi
	sh bench/spin/run.sh $(O)/vtlb
	sh bench/mpi.sh

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(TOOL_OBJ:.o=.d) $(O)/tools/mpi/vtlb.d $(O)/tools/mpi/vtlb_mpi.d $(TEST_SRC:%.c=$(O)/%.d) $(BENCH_SRC:%.c=$(O)/%.d)
