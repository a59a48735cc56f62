#!/usr/bin/env bash
# package-check.sh - the built packages, installed and run on this machine.
#
#   bash tests/package/package-check.sh BUILD_DIR VERSION   (as root)
#
# Called by `make package-check` after `make deb rpm`: BUILD_DIR/pkg holds
# the .deb and the .rpm. Each check prints "PASS name" or "FAIL name:
# why"; the last line is "N passed, M failed"; exit 1 when any failed.
#
#  1. lintian on the .deb: no errors (warnings are printed, not counted);
#     the .rpm: contents, %config(noreplace), scriptlets.
#  2. dpkg -i (apt-get -f install for missing dependencies); the user and
#     group tlsverify-milter, the conffile, /run/tlsverify-milter.
#  3. man -l of the installed pages without warnings; systemd-analyze
#     verify of the installed unit (systemd is not PID 1 here: the unit is
#     checked, not started).
#  4. tlsverify-milter -n on the shipped configuration exits 0.
#  5. The installed milter with the shipped configuration, started by hand
#     with -f (a) as the tlsverify-milter user, as the unit does (setpriv),
#     (b) as root, dropping to [milter] user: a miltertest session
#     (tests/package/installed.lua) gets "continue" for RCPT and EOM; the
#     socket belongs to tlsverify-milter and is removed at stop (SIGTERM
#     by PID).
#  6. Debian's real Sendmail against the installed milter
#     (tests/package/sendmail_check.py), with README's sendmail.mc lines:
#     one recipient accepted, one deferred; binding: a required-verify
#     message stays queued while its server shows a self-signed
#     certificate (TLS_Rcpt from the policy socket), delivered when fixed.
#  6b. README "3. Connect Postfix" with a chrooted smtpd (a private Postfix
#     instance, tests/package/postfix_chroot_check.py): socket in the queue
#     directory, adduser postfix tlsverify-milter; 250 and 451 4.4.1 at RCPT.
#  7. dpkg --purge; nothing of the package is left. The system user is
#     removed too when this script created it.
# A tlsverify-milter package installed before the run is not touched: the
# script stops at once (it would be replaced and purged).
set -u
cd "$(dirname "$0")/../.."
B=${1:?usage: package-check.sh BUILD_DIR VERSION}
V=${2:?usage: package-check.sh BUILD_DIR VERSION}
PKG=tlsverify-milter
SOCK=/run/tlsverify-milter/tlsverify-milter.sock
CONF=/etc/tlsverify-milter/tlsverify-milter.conf
passed=0 failed=0 installed=0 made_user=0 mpid=
WORK=$(mktemp -d /tmp/tlsverify-pkgcheck.XXXXXX)

pass() { passed=$((passed + 1)); echo "PASS package.$1"; }
fail() { failed=$((failed + 1)); echo "FAIL package.$1: $2"; }
check() {	# check NAME COMMAND...: PASS when COMMAND exits 0
	local name=$1; shift
	if "$@" > "$WORK/$name.out" 2>&1; then pass "$name"
	else fail "$name" "$(tail -5 "$WORK/$name.out" | tr '\n' ' ')"; fi
}

stop_milter() {
	[ -n "$mpid" ] || return 0
	kill -TERM "$mpid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$mpid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$mpid" 2>/dev/null
	wait "$mpid" 2>/dev/null
	mpid=
}

cleanup() {
	stop_milter
	if [ "$installed" = 1 ]; then
		dpkg --purge "$PKG" > "$WORK/purge.out" 2>&1 || cat "$WORK/purge.out"
	fi
	if [ "$made_user" = 1 ] && getent passwd "$PKG" >/dev/null; then
		deluser --system --quiet "$PKG" >/dev/null 2>&1
		getent group "$PKG" >/dev/null && delgroup --system --quiet "$PKG" >/dev/null 2>&1
		rm -rf /run/tlsverify-milter	# made by systemd-tmpfiles
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then echo "package-check: run as root"; exit 1; fi
if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q installed; then
	echo "package-check: $PKG is installed on this machine; remove it first"
	echo "0 passed, 1 failed"; exit 1
fi
deb=$(ls "$B"/pkg/${PKG}_${V}_*.deb 2>/dev/null | head -1)
rpmf=$(ls "$B"/pkg/${PKG}-${V}-*.rpm 2>/dev/null | head -1)
[ -n "$deb" ] && pass deb_built || fail deb_built "no $B/pkg/${PKG}_${V}_*.deb"
[ -n "$rpmf" ] && pass rpm_built || fail rpm_built "no $B/pkg/${PKG}-${V}-*.rpm"

# 1. lintian, rpm contents
if [ -n "$deb" ]; then
	lintian --allow-root --fail-on error "$deb" > "$WORK/lintian.out" 2>&1
	rc=$?
	grep -E '^[EW]:' "$WORK/lintian.out" | sed 's/^/  lintian: /'
	[ $rc -eq 0 ] && pass lintian_no_errors || fail lintian_no_errors "$(grep '^E:' "$WORK/lintian.out" | tr '\n' ' ')"
fi
if [ -n "$rpmf" ]; then
	rpm -qlp "$rpmf" > "$WORK/rpm.list" 2>/dev/null
	ok=1; for f in /usr/sbin/tlsverify-milter /usr/bin/tlsverify-probe $CONF \
	    /usr/lib/systemd/system/tlsverify-milter.service \
	    /usr/lib/tmpfiles.d/tlsverify-milter.conf; do
		grep -qx "$f" "$WORK/rpm.list" || { ok=0; fail rpm_files "missing $f"; }
	done; [ $ok = 1 ] && pass rpm_files
	rpm -qp --configfiles "$rpmf" 2>/dev/null | grep -qx "$CONF" &&
	    rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' "$rpmf" 2>/dev/null | grep -q "^$CONF cn$" &&
	    pass rpm_config_noreplace || fail rpm_config_noreplace "$CONF is not %config(noreplace)"
	rpm -qp --scripts "$rpmf" > "$WORK/rpm.scripts" 2>/dev/null
	grep -q 'useradd -r -g tlsverify-milter' "$WORK/rpm.scripts" &&
	    grep -q 'preinstall' "$WORK/rpm.scripts" &&
	    grep -q 'systemctl' "$WORK/rpm.scripts" &&
	    pass rpm_scriptlets || fail rpm_scriptlets "no %pre useradd or systemd scriptlets"
fi
[ -n "$deb" ] || { echo "$passed passed, $((failed + 1)) failed"; exit 1; }

# 2. install
getent passwd "$PKG" >/dev/null || made_user=1
installed=1
if ! dpkg -i "$deb" > "$WORK/dpkg.out" 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get -f install -y -qq >> "$WORK/dpkg.out" 2>&1
fi
check dpkg_installed sh -c "dpkg-query -W -f='\${Status}' $PKG | grep -qx 'install ok installed'"
check system_user sh -c "getent passwd $PKG && id -gn $PKG | grep -qx $PKG && [ \"\$(getent passwd $PKG | cut -d: -f3)\" -lt 1000 ]"
check conffile sh -c "dpkg-query -W -f='\${Conffiles}' $PKG | grep -q ' $CONF '"
check runtime_dir sh -c "[ \"\$(stat -c '%U:%G %a' /run/tlsverify-milter)\" = 'tlsverify-milter:tlsverify-milter 750' ]"
check shipped_conf grep -qx 'socket *= local:/run/tlsverify-milter/tlsverify-milter.sock' $CONF

# 3. man pages, unit
for m in /usr/share/man/man8/tlsverify-milter.8.gz \
    /usr/share/man/man5/tlsverify-milter.conf.5.gz \
    /usr/share/man/man1/tlsverify-probe.1.gz; do
	n=$(basename "$m" .gz)
	check "man_$n" sh -c "MANWIDTH=80 man --warnings -l $m 2>&1 >/dev/null | (! grep .) && man -l $m | grep -q 'SEE ALSO'"
done
check systemd_analyze_verify sh -c "out=\$(systemd-analyze verify /lib/systemd/system/tlsverify-milter.service 2>&1); echo \"\$out\"; [ -z \"\$out\" ]"

# 4. -n on the shipped configuration
check milter_n /usr/sbin/tlsverify-milter -n
check probe_runs sh -c "/usr/bin/tlsverify-probe --json example.net | grep -q '\"action\": \"accept\"'"

# 5. the installed milter, started by hand, answers miltertest
run_milter() {	# run_milter NAME PREFIX...: start, miltertest, stop
	local name=$1; shift
	rm -f "$SOCK"
	"$@" /usr/sbin/tlsverify-milter -f > "$WORK/$name.log" 2>&1 &
	mpid=$!
	for _ in $(seq 100); do [ -S "$SOCK" ] && break; kill -0 $mpid 2>/dev/null || break; sleep 0.1; done
	check "${name}_socket" sh -c "[ \"\$(stat -c '%U %a' $SOCK)\" = 'tlsverify-milter 770' ]"
	check "${name}_process_user" sh -c "[ \"\$(ps -o user= -p $mpid)\" = tlsverify-milter ]"
	check "${name}_miltertest" env MILTER_SOCK="local:$SOCK" miltertest -s tests/package/installed.lua
	stop_milter
	check "${name}_socket_removed" test ! -e "$SOCK"
}
run_milter as_user setpriv --reuid=$PKG --regid=$PKG --init-groups --
run_milter as_root env

# Count a check script's "PASS tag.name" / "FAIL tag.name: why" lines as
# ours (name_tag); "must" is a check that proves the script ran at all.
count_script() {	# tag out must
	while read -r st name rest; do
		name=${name%:}
		case $st in
		PASS) pass "${name#"$1".}_$1" ;;
		FAIL) fail "${name#"$1".}_$1" "$rest" ;;
		esac
	done < "$2"
	grep -q "^PASS $1.$3" "$2" ||
	    fail "$1_run" "$(tail -5 "$2" | tr '\n' ' ')"
}

# 6. real Sendmail
python3 tests/package/sendmail_check.py /usr/sbin/tlsverify-milter "$WORK/sendmail" > "$WORK/sendmail.out" 2>&1
count_script sendmail "$WORK/sendmail.out" queue_one_recipient

# 6b. Postfix with smtpd chrooted, as README "3. Connect Postfix" says
python3 tests/package/postfix_chroot_check.py > "$WORK/chroot.out" 2>&1
count_script chroot "$WORK/chroot.out" rcpt_deferred

# 7. purge
installed=0
check dpkg_purge dpkg --purge $PKG
check nothing_left sh -c "! dpkg -s $PKG >/dev/null 2>&1 && for f in /usr/sbin/tlsverify-milter /usr/bin/tlsverify-probe /etc/tlsverify-milter /lib/systemd/system/tlsverify-milter.service /usr/lib/tmpfiles.d/tlsverify-milter.conf; do [ ! -e \$f ] || { echo \$f left; exit 1; }; done"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
