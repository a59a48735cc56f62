-- rcpt.lua - one SMTP session through the milter, checked per recipient.
--
-- Environment:
--   MILTER_SOCK  e.g. inet:8895@127.0.0.1
--   RCPTS        recipients separated by spaces, each ADDR|MAILER|EXPECT
--                (MAILER "-" sends no {rcpt_mailer}); EXPECT is
--                "continue", "tempfail" or "reject": the reply expected
--                (tempfail/reject must come as SMFIR_REPLYCODE, i.e. with
--                smfi_setreply's code).
--   QUEUE_ID     optional value of the "i" macro from the second RCPT on
--   HEADER       optional: the expected X-TLS-Verify value (unfolded);
--                "none" means no header may be added
--   HEADER_NAME  default X-TLS-Verify
--   TIMEOUT      read timeout in seconds (default 30)
-- A failure writes the reason to stderr and exits non-zero (miltertest does
-- not print the Lua error itself).

local function fail(msg)
	io.stderr:write("rcpt.lua: " .. msg .. "\n")
	error(msg)
end

local sock = os.getenv("MILTER_SOCK") or fail("MILTER_SOCK not set")
local rcpts = os.getenv("RCPTS") or fail("RCPTS not set")
local want_hdr = os.getenv("HEADER")
local hname = os.getenv("HEADER_NAME") or "X-TLS-Verify"
local qid = os.getenv("QUEUE_ID")

mt.set_timeout(tonumber(os.getenv("TIMEOUT") or "30"))

local conn = mt.connect(sock, 40, 0.25)
if conn == nil then fail("cannot connect to " .. sock) end

if mt.negotiate(conn, nil, nil, nil) ~= nil then fail("negotiate") end
if not mt.test_action(conn, SMFIF_ADDHDRS) then
	fail("SMFIF_ADDHDRS not requested")
end
if not mt.test_option(conn, SMFIP_NOCONNECT) then
	fail("connect step not switched off")
end
if not mt.test_option(conn, SMFIP_NOBODY) then
	fail("body step not switched off")
end

if mt.mailfrom(conn, "<sender@relay.test>") ~= nil then fail("mailfrom") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then fail("MAIL not continued") end

local n = 0
for item in string.gmatch(rcpts, "%S+") do
	local addr, mailer, expect = string.match(item, "^([^|]*)|([^|]*)|(%a+)$")
	if addr == nil then fail("bad RCPTS item " .. item) end
	local macros = { "{rcpt_addr}", (string.gsub(addr, "^<(.*)>$", "%1")) }
	if mailer ~= "-" then
		table.insert(macros, "{rcpt_mailer}")
		table.insert(macros, mailer)
	end
	if n > 0 and qid ~= nil then
		table.insert(macros, "i")
		table.insert(macros, qid)
	end
	mt.macro(conn, SMFIC_RCPT, (table.unpack or unpack)(macros))
	if mt.rcptto(conn, addr) ~= nil then fail("rcptto " .. addr) end
	local r = mt.getreply(conn)
	local ok
	if expect == "continue" then
		ok = (r == SMFIR_CONTINUE)
	else
		ok = (r == SMFIR_REPLYCODE)
	end
	if not ok then
		fail(string.format("%s: want %s, got reply %q", addr, expect,
		    string.char(r)))
	end
	n = n + 1
end

-- DATA, end of headers and body were switched off in the negotiation
-- (miltertest refuses to send a step the filter declined); headers are
-- asked for without a reply (forged.lua sends some).
for _, step in ipairs({ SMFIP_NODATA, SMFIP_NOEOH, SMFIP_NR_HDR }) do
	if not mt.test_option(conn, step) then
		fail("a message step the milter does not need was not switched off")
	end
end
if mt.eom(conn) ~= nil then fail("eom") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then fail("EOM not continued") end

if want_hdr ~= nil then
	if want_hdr == "none" then
		if mt.eom_check(conn, MT_HDRADD, hname) then
			fail("a header was added although nothing was probed")
		end
	else
		if not mt.eom_check(conn, MT_HDRADD, hname) then
			fail("no " .. hname .. " header added")
		end
		local v = mt.getheader(conn, hname, 0)
		if v == nil then fail("getheader " .. hname) end
		local unfolded = string.gsub(v, "\r?\n", "")
		if unfolded ~= want_hdr then
			fail(string.format("header: want [%s], got [%s]",
			    want_hdr, v))
		end
		io.stdout:write("HEADER " .. v .. "\n")
	end
end

mt.disconnect(conn)
