# bench.mk - `make bench` (issues 6, 10): what the milter costs, measured on this
# machine (included by GNUmakefile; not part of `make check`).
#
#   make bench              install missing packages (deps), build, run
#                           bench/bench.py (about 10 minutes on 2 cores),
#                           print the table and write docs/BENCHMARKS.md
#   make bench BENCH_ARGS=--quick   small sizes, prints only (smoke test)
#   make bench-build        build $(O)/bench/nullmilter, $(O)/bench/rcptlat
#                           and $(O)/bench/policyload
#   make bench-wan          only bench/wan.py (issue 14): probes on an
#                           emulated WAN, its section of docs/BENCHMARKS.md
#
# Needs root (a private Postfix instance's master); only loopback is used.

BENCH_BINS	:= $(O)/bench/nullmilter $(O)/bench/rcptlat $(O)/bench/policyload
BENCH_ARGS	?=

.PHONY: bench bench-build bench-wan

$(O)/bench:
	mkdir -p $@

$(O)/bench/nullmilter: bench/nullmilter.c | $(O)/bench
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< -lmilter

$(O)/bench/rcptlat: bench/rcptlat.c $(LIB) | $(O)/bench
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(O)/bench/policyload: bench/policyload.c | $(O)/bench
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< -lm

bench-build: $(PROGS) $(BENCH_BINS)

bench: deps
	$(MAKE) --no-print-directory bench-build
	$(PYTHON) bench/bench.py --build $(O) $(BENCH_ARGS)
	$(PYTHON) bench/wan.py --build $(O) $(BENCH_ARGS)

bench-wan: $(PROGS)
	$(PYTHON) bench/wan.py --build $(O) $(BENCH_ARGS)

# Shared verdicts (SPEC 13): two relays and Redis, bench/fleet.py
# (docs/BENCHMARKS-FLEET.md); also part of `make bench`.
.PHONY: bench-fleet
bench-fleet: deps
	$(MAKE) --no-print-directory bench-build
	$(PYTHON) bench/fleet.py --build $(O) $(if $(filter --quick,$(BENCH_ARGS)),--quick)
bench: bench-fleet
