# install.mk - `make install`: programs, configuration, man pages, systemd.
#
#   make install PREFIX=/usr DESTDIR=/tmp/root
#
# Installs (paths for PREFIX=/usr; PREFIX defaults to /usr/local):
#   $(SBINDIR)/tlsverify-milter          /usr/sbin
#   $(BINDIR)/tlsverify-probe            /usr/bin
#   $(SYSCONFDIR)/tlsverify-milter/tlsverify-milter.conf   /etc/...
#       made from the sample conf/tlsverify-milter.conf (which `make run`
#       uses unchanged) by $(INSTALLED_CONF_SED): socket
#       local:/run/tlsverify-milter/tlsverify-milter.sock, user
#       tlsverify-milter, pid file in /run/tlsverify-milter/. Not
#       overwritten when DESTDIR is empty and the file exists (the new one
#       goes beside it as tlsverify-milter.conf.new).
#   $(MANDIR)/man8/tlsverify-milter.8, man5/tlsverify-milter.conf.5,
#   man1/tlsverify-probe.1
#   $(UNITDIR)/tlsverify-milter.service  (systemd's own dir, /lib/... on
#       Debian 12: pkg-config systemd systemdsystemunitdir)
#   $(TMPFILESDIR)/tlsverify-milter.conf (the runtime directory at boot)
# It does not create the system user: packages do (debian/postinst, the
# rpm %pre); by hand: useradd --system --no-create-home --home-dir
# /nonexistent --shell /usr/sbin/nologin tlsverify-milter.

UNITDIR		?= $(or $(shell pkg-config --variable=systemdsystemunitdir \
		     systemd 2>/dev/null),/lib/systemd/system)
TMPFILESDIR	?= $(or $(shell pkg-config --variable=tmpfilesdir \
		     systemd 2>/dev/null),/usr/lib/tmpfiles.d)
INSTALLED_CONF	:= $(O)/tlsverify-milter.conf.installed
MANPAGES	:= man/tlsverify-milter.8 man/tlsverify-milter.conf.5 \
		   man/tlsverify-probe.1

# Each expression must change exactly one line of the sample; the rule
# below fails when one of the resulting lines is missing.
INSTALLED_CONF_SED := \
	-e 's|^; tlsverify-milter.conf - sample configuration (used by `make run`).|; tlsverify-milter.conf - installed configuration (see tlsverify-milter.conf(5)).|' \
	-e 's|^socket\( *\)= .*|socket\1= local:/run/tlsverify-milter/tlsverify-milter.sock|' \
	-e 's|^user\( *\)=.*|user\1= tlsverify-milter|' \
	-e 's|^pidfile\( *\)=.*|pidfile\1= /run/tlsverify-milter/tlsverify-milter.pid|' \
	-e 's|^; Postfix: smtpd_milters = inet:127.0.0.1:8895|; Postfix: smtpd_milters = unix:/run/tlsverify-milter/tlsverify-milter.sock|'

.PHONY: install installed-conf
installed-conf: $(INSTALLED_CONF)

$(INSTALLED_CONF): conf/tlsverify-milter.conf mk/install.mk | $(O)
	sed $(INSTALLED_CONF_SED) conf/tlsverify-milter.conf > $@.tmp
	@for l in '^socket *= local:/run/tlsverify-milter/tlsverify-milter.sock$$' \
	    '^user *= tlsverify-milter$$' \
	    '^pidfile *= /run/tlsverify-milter/tlsverify-milter.pid$$' \
	    '^default *= preferred$$'; do \
	  grep -q "$$l" $@.tmp || { echo "install.mk: the sample conf no longer has a line for $$l"; rm -f $@.tmp; exit 1; }; \
	done
	mv $@.tmp $@

install: $(PROGS) $(INSTALLED_CONF)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	install -m 0755 $(PROBE) $(DESTDIR)$(BINDIR)/tlsverify-probe
	install -m 0755 $(MILTER) $(DESTDIR)$(SBINDIR)/tlsverify-milter
	install -d $(DESTDIR)$(SYSCONFDIR)/tlsverify-milter
	@dst=$(DESTDIR)$(SYSCONFDIR)/tlsverify-milter/tlsverify-milter.conf; \
	if [ -z "$(DESTDIR)" ] && [ -e $$dst ]; then \
	  echo "install -m 0644 $(INSTALLED_CONF) $$dst.new  (keeping $$dst)"; \
	  install -m 0644 $(INSTALLED_CONF) $$dst.new; \
	else \
	  echo "install -m 0644 $(INSTALLED_CONF) $$dst"; \
	  install -m 0644 $(INSTALLED_CONF) $$dst; \
	fi
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	  $(DESTDIR)$(MANDIR)/man8
	install -m 0644 man/tlsverify-probe.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 man/tlsverify-milter.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 man/tlsverify-milter.8 $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(TMPFILESDIR)
	sed 's|@SBINDIR@|$(SBINDIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	  packaging/tlsverify-milter.service > $(DESTDIR)$(UNITDIR)/tlsverify-milter.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/tlsverify-milter.service
	install -m 0644 packaging/tlsverify-milter.tmpfiles \
	  $(DESTDIR)$(TMPFILESDIR)/tlsverify-milter.conf
