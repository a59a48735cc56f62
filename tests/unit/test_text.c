/*
 * test_text.c - text_printable(): what peers and users send, made safe.
 */
#include <string.h>

#include "t.h"
#include "text.h"

static const struct {
	const char	*src;
	size_t		 srclen;
	size_t		 dstlen;
	const char	*also;
	const char	*want;
} rows[] = {
	{ "220 mx.example ESMTP", 20, 64, NULL, "220 mx.example ESMTP" },
	{ "a\r\nb", 4, 64, NULL, "a??b" },
	{ "nul\0after", 9, 64, NULL, "nul?after" },
	{ "\x7f\x80\xff", 3, 64, NULL, "???" },
	{ "100% sure", 9, 64, "%", "100? sure" },
	{ "two words", 9, 64, " ", "two?words" },
	{ "cut here", 8, 4, NULL, "cut" },
	{ "x", 1, 1, NULL, "" },
	{ "b\xc3\xbc" "cher", 7, 64, NULL, "b??cher" },
};

int
main(void)
{
	char	buf[64];
	size_t	i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(buf, 'Z', sizeof(buf));
		(void)text_printable(buf, rows[i].dstlen, rows[i].src,
		    rows[i].srclen, rows[i].also);
		T_OK(strcmp(buf, rows[i].want) == 0, "row %zu: \"%s\" "
		    "(got \"%s\")", i, rows[i].want, buf);
	}
	strcpy(buf, "in\tplace");
	T_OK(strcmp(text_printable(buf, sizeof(buf), buf, strlen(buf), NULL),
	    "in?place") == 0, "in place: %s", buf);
	return T_DONE();
}
