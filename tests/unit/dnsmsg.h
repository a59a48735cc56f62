/*
 * dnsmsg.h - builds DNS answer messages by hand for the unit tests
 * (test_dns_parse, test_mtasts): start() a message with its question,
 * rr() answer records (rdata as bytes, or a name when name is not NULL),
 * msg_count() writes the answer count. At most sizeof(b) bytes, unchecked:
 * test data only.
 */
#ifndef TV_TEST_DNSMSG_H
#define TV_TEST_DNSMSG_H

#include <arpa/nameser.h>
#include <string.h>

struct msg {
	unsigned char	b[8192];
	size_t		len;
	unsigned	an;
};

static inline void
put16(struct msg *m, unsigned v)
{
	m->b[m->len++] = (unsigned char)(v >> 8);
	m->b[m->len++] = (unsigned char)v;
}

/* A name in wire form, uncompressed. */
static inline void
putname(struct msg *m, const char *name)
{
	const char	*p = name, *dot;
	size_t		 n;

	while (*p != '\0') {
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		m->b[m->len++] = (unsigned char)n;
		memcpy(m->b + m->len, p, n);
		m->len += n;
		p += n + (dot != NULL);
	}
	m->b[m->len++] = 0;
}

static inline void
start(struct msg *m, const char *qname, int qtype)
{
	memset(m, 0, sizeof(*m));
	put16(m, 0x1234);
	put16(m, 0x8180);
	put16(m, 1);			/* qd */
	put16(m, 0);			/* an: set by finish() */
	put16(m, 0);
	put16(m, 0);
	putname(m, qname);
	put16(m, (unsigned)qtype);
	put16(m, ns_c_in);
}

/* One answer record; rdata given as bytes or (name != NULL) a name. */
static inline void
rr(struct msg *m, const char *owner, int type, const void *rd, size_t rdlen,
    const char *name)
{
	size_t	at;

	putname(m, owner);
	put16(m, (unsigned)type);
	put16(m, ns_c_in);
	put16(m, 0);
	put16(m, 60);
	at = m->len;
	put16(m, 0);
	if (rdlen > 0) {
		memcpy(m->b + m->len, rd, rdlen);
		m->len += rdlen;
	}
	if (name != NULL)
		putname(m, name);
	m->b[at] = (unsigned char)((m->len - at - 2) >> 8);
	m->b[at + 1] = (unsigned char)(m->len - at - 2);
	m->an++;
}

static inline void
msg_count(struct msg *m)
{
	m->b[6] = (unsigned char)(m->an >> 8);
	m->b[7] = (unsigned char)m->an;
}

#endif
