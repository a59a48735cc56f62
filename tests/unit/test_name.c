/*
 * test_name.c - name_to_alabel(), name_is_hostname(), name_is_ip_literal()
 * (name.h): a table of cases including hostile ones (NUL, overlong
 * labels and names, spaces, invalid UTF-8, IP literals).
 */
#include <string.h>

#include "name.h"
#include "t.h"

#define L63 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define L64 L63 "b"
/* 4 labels of 63 + 3 dots = 255; 3 x 63 + 3 dots + 61 = 253 */
#define N253 L63 "." L63 "." L63 "." \
	"ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define N254 N253 "d"

struct acase {
	const char	*in;
	const char	*out;		/* NULL: must fail */
};

static const struct acase alabel[] = {
	{ "example.com", "example.com" },
	{ "EXAMPLE.Com", "example.com" },
	{ "example.com.", "example.com" },
	{ "example.com..", NULL },
	{ ".", NULL },
	{ "", NULL },
	{ ".example.com", NULL },
	{ "a..b", NULL },
	{ "bücher.example", "xn--bcher-kva.example" },
	{ "BÜCHER.example.", "xn--bcher-kva.example" },
	{ "XN--BCHER-KVA.example", "xn--bcher-kva.example" },
	{ "münchen.de", "xn--mnchen-3ya.de" },
	{ "straße.de", "xn--strae-oqa.de" },	/* non-transitional */
	{ "例え.テスト", "xn--r8jz45g.xn--zckzah" },
	/*
	 * UTS#46 non-transitional, the A-label Postfix (ICU 72
	 * uidna_nameToASCII_UTF8, UIDNA_NONTRANSITIONAL_TO_ASCII) sends
	 * mail to, also where IDNA2008 refuses the U-label.
	 */
	{ "\xe2\x98\x83.net", "xn--n3h.net" },		/* U+2603 */
	{ "\xe2\x98\x83.NET.", "xn--n3h.net" },
	{ "a_b.\xe2\x98\x83.net", "a_b.xn--n3h.net" },	/* no STD3 */
	{ "\xf0\x9f\x92\xa9.la", "xn--ls8h.la" },		/* U+1F4A9 */
	{ "\xc2\xbd.net", "xn--12-c6t.net" },		/* U+00BD */
	{ "\xd9\xa1\xd9\xa2\xd9\xa3.com", "xn--9hbcd.com" },	/* bidi */
	{ "\xe2\x98\x83-.net", NULL },			/* hyphen */
	{ "\xe2\x92\x88.com", NULL },			/* U+2488 */
	/* deviation characters with a refused label: never "ss" etc. */
	{ "\xe2\x98\x83\xc3\x9f.de", NULL },		/* U+00DF */
	{ "\xe2\x98\x83\xcf\x82.gr", NULL },		/* U+03C2 */
	{ "a\xe2\x80\x8d\xe2\x98\x83.net", NULL },	/* U+200D */
	{ "a\xe2\x80\x8d" "b.net", NULL },			/* CONTEXTJ */
	{ "\xcf\x82.gr", "xn--3xa.gr" },
	{ "_dmarc.example.com", "_dmarc.example.com" },
	{ "mx_1.example.com", "mx_1.example.com" },
	{ "-bad.example", NULL },
	{ "bad-.example", NULL },
	{ "ex ample.com", NULL },
	{ "example.com ", NULL },
	{ "ex@mple.com", NULL },
	{ "exa*mple.com", NULL },
	{ "*.example.com", NULL },
	{ L63 ".example", L63 ".example" },
	{ L64 ".example", NULL },
	{ N253, N253 },
	{ N253 ".", N253 },
	{ N254, NULL },
	{ "b\xfc" "cher.example", NULL },	/* Latin-1, not UTF-8 */
	{ "\xc3", NULL },			/* truncated UTF-8 */
	{ "192.0.2.1", "192.0.2.1" },		/* LDH-valid text */
	{ "[192.0.2.1]", NULL },
	{ "2001:db8::1", NULL },
	{ NULL, NULL }
};

struct hcase {
	const char	*s;
	size_t		 len;
	int		 want;
};

#define H(s, w)	{ s, sizeof(s) - 1, w }

static const struct hcase host[] = {
	H("example.com", 1),
	H("Example.COM", 1),
	H("example.com.", 1),
	H("example.com..", 0),
	H("a", 1),
	H(".", 0),
	H("", 0),
	H(".a", 0),
	H("a..b", 0),
	H("_srv._tcp.example", 1),
	H("-a.example", 0),
	H("a-.example", 0),
	H("a-b.example", 1),
	H("xn--bcher-kva.example", 1),
	H(L63, 1),
	H(L64, 0),
	H(N253, 1),
	H(N253 ".", 1),
	H(N254, 0),
	H("exa\0mple.com", 0),		/* NUL inside the length */
	H("example.com\0", 0),
	H("exa mple.com", 0),
	H("example.com ", 0),
	H("bücher.example", 0),
	H("*.example.com", 0),
	H("a/b", 0),
	{ NULL, 0, 0 }
};

static void
test_alabel(void)
{
	char	out[NAME_BUFLEN];
	int	i, rv;

	for (i = 0; alabel[i].in != NULL; i++) {
		memset(out, 'X', sizeof(out));
		rv = name_to_alabel(alabel[i].in, out, sizeof(out));
		if (alabel[i].out != NULL)
			T_OK(rv == 0 && strcmp(out, alabel[i].out) == 0,
			    "name_to_alabel(\"%.40s\") = \"%.40s\" (got %d "
			    "\"%.40s\")", alabel[i].in, alabel[i].out, rv, out);
		else
			T_OK(rv == -1 && out[0] == '\0', "name_to_alabel("
			    "\"%.40s\") fails with \"\" (got %d)",
			    alabel[i].in, rv);
	}
	T_OK(name_to_alabel(NULL, out, sizeof(out)) == -1, "NULL input");
	T_OK(name_to_alabel("example.com", out, 11) == -1 && out[0] == '\0',
	    "result that does not fit fails");
	T_OK(name_to_alabel("example.com", out, 12) == 0 &&
	    strcmp(out, "example.com") == 0, "result that just fits");
}

static void
test_hostname(void)
{
	int	i;

	for (i = 0; host[i].s != NULL; i++)
		T_OK(name_is_hostname(host[i].s, host[i].len) == host[i].want,
		    "name_is_hostname(\"%.40s\", %zu) = %d", host[i].s,
		    host[i].len, host[i].want);
	T_OK(name_is_hostname(NULL, 0) == 0, "NULL is not a host name");
	T_OK(name_is_hostname("example.com", 7) == 1,
	    "only len bytes are looked at");
}

static void
test_ip(void)
{
	T_OK(name_is_ip_literal("192.0.2.1"), "IPv4 literal");
	T_OK(name_is_ip_literal("::1"), "IPv6 literal ::1");
	T_OK(name_is_ip_literal("2001:db8::25"), "IPv6 literal");
	T_OK(name_is_ip_literal("::ffff:192.0.2.1"), "v4-mapped IPv6");
	T_OK(!name_is_ip_literal("[::1]"), "brackets are not an address");
	T_OK(!name_is_ip_literal("192.0.2.256"), "octet out of range");
	T_OK(!name_is_ip_literal("192.0.2"), "three octets");
	T_OK(!name_is_ip_literal("example.com"), "host name");
	T_OK(!name_is_ip_literal("fe80::1%eth0"), "zone index");
	T_OK(!name_is_ip_literal(""), "empty");
	T_OK(!name_is_ip_literal(NULL), "NULL");
}

int
main(void)
{
	test_alabel();
	test_hostname();
	test_ip();
	return T_DONE();
}
