# fuzz.mk - libFuzzer targets and the load test (included by GNUmakefile).
#
#   make fuzz                   build fuzz/fuzz_*.c with clang
#                               (-fsanitize=fuzzer,address,undefined) and run
#                               each target FUZZ_SECONDS (default 60) seconds
#   make fuzz FUZZ_TARGETS=dns  only some targets (conf dns smtp_reply ident
#                               mtasts)
#   make fuzz-build             build only
#   make fuzz-merge             minimise the work corpus into tests/fuzz/<t>/
#   make load                   200 milter sessions for LOAD_SECONDS (60) s
#
# Seeds and regression inputs live in tests/fuzz/<target>/ (replayed by
# `make check` through tests/unit/test_fuzz_corpus.c). A run writes new
# inputs to $(O)/fuzz/corpus/<target>/ (never to tests/), crashes to
# $(O)/fuzz/artifacts/, and a log with libFuzzer's final stats to
# $(O)/fuzz/<target>.log. A crash fails `make fuzz`: fix it, then copy the
# artifact into tests/fuzz/<target>/.

FUZZ_CC		?= clang
FUZZ_SECONDS	?= 60
FUZZ_TARGETS	?= conf dns smtp_reply ident mtasts
FUZZ_DIR	:= $(O)/fuzz
FUZZ_SAN	:= -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		   -fno-omit-frame-pointer
FUZZ_CFLAGS	:= -g -O1 -std=gnu11 -Wall -Wextra -Wno-unused-parameter \
		   -Iinclude -D_GNU_SOURCE -DTV_VERSION=\"$(VERSION)\" -pthread \
		   $(FUZZ_SAN) -MMD -MP
FUZZ_LIB_OBJS	:= $(patsubst milter/%.c,$(FUZZ_DIR)/obj/%.o,$(LIB_SRCS))
FUZZ_BINS	:= $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_TARGETS))
# Longest input per target (bytes), TARGET=N.
FUZZ_MAXLEN	:= conf=4096 dns=2048 smtp_reply=4096 ident=8192 mtasts=8192
FUZZ_ML		= ml=$$(for x in $(FUZZ_MAXLEN); do echo $$x; done | \
		    sed -n "s/^$$t=//p"); ml=$${ml:-4096}
LOAD_SECONDS	?= 60
LOAD_SESSIONS	?= 200

.PHONY: fuzz fuzz-build fuzz-merge load

$(FUZZ_DIR)/obj/%.o: milter/%.c | $(FUZZ_DIR)/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_LIB_OBJS) | $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
	    $(FUZZ_LIB_OBJS) $(LDLIBS)

$(FUZZ_DIR) $(FUZZ_DIR)/obj:
	mkdir -p $@

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@mkdir -p $(FUZZ_DIR)/artifacts
	@rc=0; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$t; $(FUZZ_ML); \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s (log $(FUZZ_DIR)/$$t.log)"; \
	  $(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	    -max_len=$$ml -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t- \
	    $(FUZZ_DIR)/corpus/$$t tests/fuzz/$$t \
	    >$(FUZZ_DIR)/$$t.log 2>&1 || { rc=1; echo "fuzz: $$t FAILED:"; \
	      grep -E 'ERROR|SUMMARY|Test unit written' $(FUZZ_DIR)/$$t.log; }; \
	  grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' \
	    $(FUZZ_DIR)/$$t.log | sed "s/^/fuzz: $$t: /"; \
	done; exit $$rc

fuzz-merge: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  $(FUZZ_ML); \
	  $(FUZZ_DIR)/fuzz_$$t -merge=1 -max_len=$$ml \
	    tests/fuzz/$$t $(FUZZ_DIR)/corpus/$$t 2>&1 | tail -1; \
	done

-include $(FUZZ_LIB_OBJS:.o=.d) $(FUZZ_BINS:=.d)

load: all
	$(PYTHON) tests/load/load.py --build $(O) --seconds $(LOAD_SECONDS) \
	    --sessions $(LOAD_SESSIONS)
