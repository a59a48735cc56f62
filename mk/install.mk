# install: the programs and the sample configuration (PREFIX, DESTDIR).

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	install -m 0755 $(PROBE) $(DESTDIR)$(BINDIR)/tlsverify-probe
	$(if $(wildcard $(MILTER)),install -m 0755 $(MILTER) $(DESTDIR)$(SBINDIR)/tlsverify-milter)
	install -d $(DESTDIR)$(SYSCONFDIR)/tlsverify-milter
	install -m 0644 conf/tlsverify-milter.conf $(DESTDIR)$(SYSCONFDIR)/tlsverify-milter/tlsverify-milter.conf

