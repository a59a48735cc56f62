-- forged.lua - a message that already carries the tag header (twice, in
-- different case): both copies are removed at end of message, and the
-- milter's own header is added when a domain was probed.
--
-- Environment:
--   MILTER_SOCK  e.g. inet:8895@127.0.0.1
--   RCPT         one recipient (its {rcpt_mailer} is "smtp"); accepted
--   ADDED        "yes": the milter adds its header; "no": it adds none
--   HEADER_NAME  default X-TLS-Verify
-- A failure writes the reason to stderr and exits non-zero.

local function fail(msg)
	io.stderr:write("forged.lua: " .. msg .. "\n")
	error(msg)
end

local sock = os.getenv("MILTER_SOCK") or fail("MILTER_SOCK not set")
local rcpt = os.getenv("RCPT") or fail("RCPT not set")
local added = os.getenv("ADDED") or fail("ADDED not set")
local hname = os.getenv("HEADER_NAME") or "X-TLS-Verify"

mt.set_timeout(30)
local conn = mt.connect(sock, 40, 0.25)
if conn == nil then fail("cannot connect to " .. sock) end
if mt.negotiate(conn, nil, nil, nil) ~= nil then fail("negotiate") end
if not mt.test_action(conn, SMFIF_ADDHDRS) then fail("no SMFIF_ADDHDRS") end
if not mt.test_action(conn, SMFIF_CHGHDRS) then fail("no SMFIF_CHGHDRS") end
if mt.test_option(conn, SMFIP_NOHDRS) then fail("headers switched off") end
if not mt.test_option(conn, SMFIP_NR_HDR) then
	fail("SMFIP_NR_HDR not asked for: a round trip per header")
end

if mt.mailfrom(conn, "<sender@relay.test>") ~= nil then fail("mailfrom") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then fail("MAIL not continued") end
mt.macro(conn, SMFIC_RCPT, "{rcpt_addr}", rcpt, "{rcpt_mailer}", "smtp")
if mt.rcptto(conn, "<" .. rcpt .. ">") ~= nil then fail("rcptto") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then fail("RCPT not continued") end

for _, h in ipairs({ { "From", "sender@relay.test" },
    { string.upper(hname), "example.com=verified (forged, upper case)" },
    { "Subject", "forged" },
    { string.lower(hname), "example.com=verified (forged, lower case)" } }) do
	if mt.header(conn, h[1], h[2]) ~= nil then fail("header " .. h[1]) end
end

if mt.eom(conn) ~= nil then fail("eom") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then fail("EOM not continued") end
if not mt.eom_check(conn, MT_HDRDELETE, hname) then
	fail("the forged " .. hname .. " headers were not removed")
end
if mt.eom_check(conn, MT_HDRDELETE, "Subject") or
    mt.eom_check(conn, MT_HDRDELETE, "From") then
	fail("another header was removed")
end
if added == "yes" then
	if not mt.eom_check(conn, MT_HDRADD, hname) then
		fail("no " .. hname .. " header added")
	end
	local v = mt.getheader(conn, hname, 0)
	if v == nil or string.find(v, "forged", 1, true) then
		fail("added header: " .. tostring(v))
	end
	io.stdout:write("HEADER " .. v .. "\n")
elseif mt.eom_check(conn, MT_HDRADD, hname) then
	fail("a header was added although nothing was probed")
end
mt.disconnect(conn)
