# dist.mk - `make dist`: the source tarball $(O)/tlsverify-milter-VERSION.tar.gz
#
# Contents: the files git tracks (`git ls-files`, plus files not yet
# committed that .gitignore does not exclude) in a git checkout; in an
# unpacked tarball, the files listed in its MANIFEST (written by `make
# dist`), so `make dist` works there too. Everything sits under
# tlsverify-milter-VERSION/.
#
# `make dist-check` builds the tarball, unpacks it in a temporary
# directory and runs `make all` and the C unit tests there, then checks
# that its own `make dist` lists the same files. The integration tests
# (`make check`) are not run a second time: the tarball holds exactly the
# files of the tree, which `make check` has just tested (CI runs both).

DIST_NAME	:= tlsverify-milter-$(VERSION)
DIST_TARBALL	:= $(O)/$(DIST_NAME).tar.gz

.PHONY: dist dist-check $(DIST_TARBALL)
dist: $(DIST_TARBALL)

$(DIST_TARBALL): | $(O)
	@set -e; list=$(O)/dist-files; \
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	  git ls-files --cached --others --exclude-standard | \
	    while IFS= read -r f; do [ -f "$$f" ] && printf '%s\n' "$$f"; done | \
	    grep -v '^MANIFEST$$' | LC_ALL=C sort -u > $$list; \
	elif [ -f MANIFEST ]; then \
	  grep -v '^MANIFEST$$' MANIFEST > $$list; \
	else \
	  echo "dist: neither a git checkout nor a MANIFEST"; exit 1; \
	fi; \
	echo MANIFEST >> $$list; \
	rm -rf $(O)/dist-stage; mkdir -p $(O)/dist-stage/$(DIST_NAME); \
	grep -v '^MANIFEST$$' $$list | tar -cf - --verbatim-files-from -T - | \
	  tar -xf - -C $(O)/dist-stage/$(DIST_NAME); \
	cp $$list $(O)/dist-stage/$(DIST_NAME)/MANIFEST; \
	tar -C $(O)/dist-stage --sort=name --owner=0 --group=0 --numeric-owner \
	  -czf $@ $(DIST_NAME); \
	rm -rf $(O)/dist-stage; \
	echo "dist: $@ ($$(wc -l < $$list) files)"

dist-check: $(DIST_TARBALL)
	@set -e; t=$$(mktemp -d /tmp/tlsverify-dist.XXXXXX); \
	trap 'rm -rf "$$t"' EXIT; \
	tar -xzf $(DIST_TARBALL) -C $$t; cd $$t/$(DIST_NAME); \
	echo "dist-check: make all in $$t/$(DIST_NAME)"; \
	$(MAKE) --no-print-directory O=build all >build.log 2>&1 || { tail -30 build.log; exit 1; }; \
	n=0; for u in build/tests/test_*; do [ -x "$$u" ] || continue; \
	  "$$u" > "$$u.log" 2>&1 || { cat "$$u.log"; echo "dist-check: $$u failed"; exit 1; }; \
	  n=$$((n + $$(grep -c '^ok' "$$u.log"))); done; \
	echo "dist-check: unit tests: $$n passed"; \
	$(MAKE) --no-print-directory O=build dist >/dev/null; \
	tar -tzf build/$(DIST_NAME).tar.gz | LC_ALL=C sort > new.list; \
	tar -tzf $(CURDIR)/$(DIST_TARBALL) | LC_ALL=C sort > old.list; \
	cmp -s old.list new.list || { diff old.list new.list; echo "dist-check: make dist in the tarball differs"; exit 1; }; \
	echo "dist-check: OK"
