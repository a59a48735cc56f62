# package.mk - Debian and RPM packages, and their end-to-end check.
#
#   make deb            $(O)/pkg/tlsverify-milter_VERSION_ARCH.deb
#                       (dpkg-buildpackage -us -uc -b in the unpacked
#                       `make dist` tarball, so it builds from a clean tree)
#   make rpm            $(O)/pkg/tlsverify-milter-VERSION-1.ARCH.rpm
#                       (rpmbuild -bb from the tarball; --nodeps on Debian,
#                       where rpm's database knows no BuildRequires)
#   make package-check  as root: dist-check (dist.mk), builds the .deb and
#                       the .rpm, lintian,
#                       installs the .deb on this machine, checks the
#                       installed programs, unit, man pages, a miltertest
#                       session, Debian's real Sendmail, and a private
#                       Postfix with smtpd chrooted set up exactly as
#                       README's "Connect Postfix" says, then purges the
#                       package (tests/package/package-check.sh). Ends with
#                       "N passed, M failed".
#   make package-deps   the Debian packages the three targets need.

PKG_OUT		:= $(O)/pkg
PKG_DEBS	:= debhelper dpkg-dev fakeroot lintian rpm m4 man-db groff-base \
		   systemd miltertest util-linux

.PHONY: deb rpm package-check package-deps
package-deps:
	@missing=""; for p in $(PKG_DEBS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "package-deps: installing$$missing"; \
	  if [ "$$(id -u)" -ne 0 ]; then echo "package-deps: run as root"; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	fi

deb: deps package-deps $(DIST_TARBALL)
	@set -e; rm -rf $(PKG_OUT)/deb; mkdir -p $(PKG_OUT)/deb; \
	tar -xzf $(DIST_TARBALL) -C $(PKG_OUT)/deb; \
	echo "deb: dpkg-buildpackage -us -uc -b (log: $(PKG_OUT)/deb/build.log)"; \
	( cd $(PKG_OUT)/deb/$(DIST_NAME) && dpkg-buildpackage -us -uc -b ) \
	  > $(PKG_OUT)/deb/build.log 2>&1 || { tail -40 $(PKG_OUT)/deb/build.log; exit 1; }; \
	cp $(PKG_OUT)/deb/tlsverify-milter_$(VERSION)_*.deb $(PKG_OUT)/; \
	ls $(PKG_OUT)/tlsverify-milter_$(VERSION)_*.deb

rpm: package-deps $(DIST_TARBALL)
	@set -e; rm -rf $(PKG_OUT)/rpm; mkdir -p $(PKG_OUT)/rpm; \
	nodeps=; [ -f /etc/debian_version ] && nodeps=--nodeps; \
	echo "rpm: rpmbuild -bb $$nodeps (log: $(PKG_OUT)/rpm/build.log)"; \
	rpmbuild -bb $$nodeps --define "_topdir $(abspath $(PKG_OUT))/rpm" \
	  --define "_sourcedir $(abspath $(O))" rpm/tlsverify-milter.spec \
	  > $(PKG_OUT)/rpm/build.log 2>&1 || { tail -40 $(PKG_OUT)/rpm/build.log; exit 1; }; \
	cp $(PKG_OUT)/rpm/RPMS/*/tlsverify-milter-$(VERSION)-*.rpm $(PKG_OUT)/; \
	ls $(PKG_OUT)/tlsverify-milter-$(VERSION)-*.rpm

package-check: dist-check deb rpm
	bash tests/package/package-check.sh $(O) $(VERSION)
