-- installed.lua - the installed milter answers: MAIL, RCPT to a domain
-- whose setting does not probe (the shipped configuration: default =
-- preferred) -> continue, end of message -> continue, no header added.
-- Environment: MILTER_SOCK (e.g. local:/run/tlsverify-milter/tlsverify-milter.sock).
-- miltertest does not print a Lua error: the reason goes to stderr first.

local function fail(msg)
	io.stderr:write("installed.lua: " .. msg .. "\n")
	error(msg)
end

local sock = os.getenv("MILTER_SOCK") or fail("MILTER_SOCK not set")
mt.set_timeout(30)

local conn = mt.connect(sock, 40, 0.25)
if conn == nil then fail("cannot connect to " .. sock) end
if mt.negotiate(conn, nil, nil, nil) ~= nil then fail("negotiate") end

if mt.mailfrom(conn, "<sender@relay.example>") ~= nil then fail("mailfrom") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then fail("MAIL not continued") end

mt.macro(conn, SMFIC_RCPT, "{rcpt_addr}", "user@example.net",
    "{rcpt_mailer}", "smtp")
if mt.rcptto(conn, "<user@example.net>") ~= nil then fail("rcptto") end
local r = mt.getreply(conn)
if r ~= SMFIR_CONTINUE then
	fail(string.format("RCPT: want continue, got %q", string.char(r)))
end

if mt.eom(conn) ~= nil then fail("eom") end
r = mt.getreply(conn)
if r ~= SMFIR_CONTINUE and r ~= SMFIR_ACCEPT then
	fail(string.format("EOM: want continue, got %q", string.char(r)))
end
if mt.eom_check(conn, MT_HDRADD, "X-TLS-Verify") then
	fail("a header was added although no domain was probed")
end
mt.disconnect(conn)
