#!/usr/bin/env python3
"""run.py - the test runner: unit binaries (TAP) and integration modules.

usage: python3 tests/run.py --build DIR [-v] [--tmp DIR] [FILTER ...]

1. every executable DIR/tests/test_* (from tests/unit/*.c): each TAP line
   "ok N - d" / "not ok N - d" is one test; a binary that crashes, exits
   non-zero without a "not ok", prints a sanitizer report, produces no TAP
   line or fewer lines than its plan adds one failure. Timeout 300 s.
2. every tests/integration/test_*.py (sorted): setup_module(mctx), each
   test_*(ctx) in definition order (180 s each, SIGALRM), then
   teardown_module(mctx). ctx cleanups run after each test, mctx's after
   the module; children a test leaves running are stopped by PID.
FILTER words select unit binaries, modules or functions whose name
contains a word. Output: "PASS name" / "FAIL name: reason" per test, then
exactly one last line "N passed, M failed". Exit 1 if M > 0 or none ran.
-v prints full tracebacks and failing outputs on stderr. Per-test dirs:
TMPROOT/<module>/<test> (TMPROOT: --tmp, $TV_TMP or tests/tmp), each emptied
when its test starts.
"""

import argparse
import importlib.util
import inspect
import os
import re
import signal
import subprocess
import sys
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNIT_TIMEOUT = 300
TEST_TIMEOUT = 180
CLEANUP_TIMEOUT = 60
TMP_ROOT = None

SAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=86",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1:exitcode=87",
    "LSAN_OPTIONS": "exitcode=86",
}
TAP_RE = re.compile(r"^(not ok|ok)\s+(\d+)\s*(?:-\s*)?(.*)$")
PLAN_RE = re.compile(r"^1\.\.(\d+)")
SAN_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")


class Results:
    def __init__(self, verbose):
        self.passed = 0
        self.failed = 0
        self.verbose = verbose

    def ok(self, name):
        self.passed += 1
        print("PASS %s" % name, flush=True)

    def fail(self, name, reason, detail=None):
        self.failed += 1
        reason = " | ".join(ln.strip() for ln in str(reason).splitlines()
                            if ln.strip())[:700]
        print("FAIL %s: %s" % (name, reason), flush=True)
        if self.verbose and detail:
            sys.stderr.write("---- %s\n%s\n" % (name, detail))
            sys.stderr.flush()


def selected(name, filters):
    return not filters or any(w in name for w in filters)


# --------------------------------------------------------------------------
# unit binaries

def unit_binaries(build):
    d = os.path.join(build, "tests")
    if not os.path.isdir(d):
        return []
    out = []
    for fn in sorted(os.listdir(d)):
        p = os.path.join(d, fn)
        if not fn.startswith("test_") or "." in fn:
            continue
        if os.path.exists(os.path.join(ROOT, "tests", "helpers", fn + ".c")):
            continue
        if os.path.isfile(p) and os.access(p, os.X_OK):
            out.append((fn, p))
    return out


def run_unit(name, path, res):
    try:
        cp = subprocess.run([path], cwd=ROOT, capture_output=True, text=True,
                            errors="replace", timeout=UNIT_TIMEOUT,
                            stdin=subprocess.DEVNULL)
        out, err, rc = cp.stdout, cp.stderr, cp.returncode
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err, rc = "timeout after %d s" % UNIT_TIMEOUT, None
    ntap, nfail, plan = 0, 0, None
    for line in out.splitlines():
        m = TAP_RE.match(line)
        if m:
            ntap += 1
            tname = "%s %s - %s" % (name, m.group(2), m.group(3))
            if m.group(1) == "ok":
                res.ok(tname)
            else:
                nfail += 1
                res.fail(tname, line)
            continue
        m = PLAN_RE.match(line)
        if m:
            plan = int(m.group(1))
    problem = None
    san = next((m for m in SAN_MARKS if m in err or m in out), None)
    if rc is None:
        problem = "timeout after %d s" % UNIT_TIMEOUT
    elif san:
        text = err if san in err else out
        i = text.find(san)
        problem = "sanitizer report (exit %d): %s" % (rc, text[i:i + 400])
    elif rc < 0:
        problem = "killed by signal %d" % -rc
    elif rc in (86, 87):
        problem = "exit %d (sanitizer)" % rc
    elif ntap == 0:
        problem = "no TAP output (exit %d): %s" % (rc, (err or out)[-300:])
    elif rc != 0 and nfail == 0:
        problem = "exit %d without a failing TAP line: %s" % (rc, err[-300:])
    elif plan is not None and plan != ntap:
        problem = "plan 1..%d but %d TAP lines" % (plan, ntap)
    elif plan is None:
        problem = "no TAP plan line (exit %d; crashed midway?)" % rc
    if problem:
        res.fail(name, problem, err[-4000:])


# --------------------------------------------------------------------------
# integration modules

def _alarm(signum, frame):
    import tvtest
    raise tvtest.TestTimeout("timeout after %d s" % TEST_TIMEOUT)


def describe(exc):
    """First lines of an exception + the test file line it came from."""
    tb = traceback.extract_tb(exc.__traceback__)
    where = ""
    for fr in reversed(tb):
        if "tests/integration" in fr.filename or "/tests/lib/" in fr.filename:
            where = " (%s:%d)" % (os.path.basename(fr.filename), fr.lineno)
            if "tests/integration" in fr.filename:
                break
    msg = str(exc).strip()
    if isinstance(exc, AssertionError):
        head = msg or "assertion failed"
        if not msg and tb:
            head = "assert: %s" % (tb[-1].line or "")
    else:
        head = "%s: %s" % (type(exc).__name__, msg)
    lines = head.splitlines()[:4]
    return "\n".join(lines) + where


def direct_children():
    """PIDs of run.py's live (non-zombie) direct children."""
    me = os.getpid()
    out = set()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == me and fields[0] != "Z":
                out.add(int(d))
        except (OSError, ValueError, IndexError):
            continue
    return out


def reap_children(keep):
    """Stop direct children not in keep (by PID) and reap them."""
    killed = []
    for pid in direct_children() - set(keep):
        killed.append(pid)
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    for pid in killed:
        while True:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                break
            if done:
                break
            if time.monotonic() > deadline:
                try:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                except (ProcessLookupError, ChildProcessError):
                    pass
                break
            time.sleep(0.05)
    return killed


def after(ctx, keep_ctx, keep_pids=()):
    """Run ctx's cleanups, then stop what it left running (except keep_ctx's
    registered children and keep_pids). Returns errors."""
    import tvtest
    saved = sys.stdout
    sys.stdout = sys.stderr
    signal.alarm(CLEANUP_TIMEOUT)
    try:
        errors = ctx.run_cleanups()
    except tvtest.TestTimeout:
        errors = ["cleanups timed out"]
    finally:
        signal.alarm(0)
        sys.stdout = saved
    leaked = tvtest.stop_owned_by(ctx)
    keep = set(keep_pids)
    if keep_ctx is not None:
        keep |= {pid for pid, (p, owner, a) in tvtest._procs.items() if owner is keep_ctx}
    stray = reap_children(keep)
    for pid, args in leaked:
        sys.stderr.write("note: %s left pid %d running (%s): stopped\n"
                         % (ctx.name, pid, " ".join(args)[:120]))
    for pid in stray:
        sys.stderr.write("note: %s left unregistered child %d running: stopped\n"
                         % (ctx.name, pid))
    return errors


def load_module(path):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def module_tests(mod):
    return [(n, f) for n, f in vars(mod).items()
            if n.startswith("test_") and inspect.isfunction(f)
            and f.__module__ == mod.__name__]


def run_one(fn, arg, timeout):
    """Call fn(arg) under an alarm; the test's own prints go to stderr so
    that stdout holds only the PASS/FAIL lines and the summary."""
    saved = sys.stdout
    sys.stdout = sys.stderr
    signal.alarm(timeout)
    try:
        fn(arg)
    finally:
        signal.alarm(0)
        sys.stdout = saved


def run_module(path, filters, build, res):
    import tvtest
    mname = os.path.splitext(os.path.basename(path))[0]
    mod_selected = selected(mname, filters)
    tmpdir = os.path.join(TMP_ROOT, mname)
    try:
        mod = load_module(path)
    except Exception as e:      # noqa: BLE001
        if mod_selected:
            res.fail(mname, "import failed: " + describe(e), traceback.format_exc())
        return
    tests = [(n, f) for n, f in module_tests(mod)
             if mod_selected or selected(n, filters)]
    if not tests:
        return
    mctx = tvtest.Context(build, os.path.join(tmpdir, "_module"), mname)
    setup_err = None
    if hasattr(mod, "setup_module"):
        try:
            run_one(mod.setup_module, mctx, TEST_TIMEOUT)
        except BaseException as e:   # noqa: BLE001
            if isinstance(e, KeyboardInterrupt):
                raise
            setup_err = (describe(e), traceback.format_exc())
    module_children = direct_children()     # started by setup_module
    for tname, fn in tests:
        full = "%s.%s" % (mname, tname)
        if setup_err:
            res.fail(full, "setup_module: " + setup_err[0], setup_err[1])
            continue
        ctx = tvtest.Context(build, os.path.join(tmpdir, tname), full)
        err = None
        try:
            run_one(fn, ctx, TEST_TIMEOUT)
        except BaseException as e:   # noqa: BLE001
            if isinstance(e, KeyboardInterrupt):
                raise
            err = (describe(e), traceback.format_exc())
        cerrs = after(ctx, mctx, module_children)
        if err is None and cerrs:
            err = ("cleanup: " + "; ".join(cerrs), None)
        if err:
            res.fail(full, err[0], err[1])
        else:
            res.ok(full)
    if hasattr(mod, "teardown_module"):
        try:
            run_one(mod.teardown_module, mctx, TEST_TIMEOUT)
        except BaseException as e:   # noqa: BLE001
            if isinstance(e, KeyboardInterrupt):
                raise
            res.fail(mname + ".teardown_module", describe(e), traceback.format_exc())
    cerrs = after(mctx, None)
    if cerrs:
        res.fail(mname + ".module_cleanup", "; ".join(cerrs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--tmp", help="root of the per-test dirs (default tests/tmp)")
    ap.add_argument("filters", nargs="*")
    opts = ap.parse_args()
    global TMP_ROOT
    build = os.path.abspath(opts.build)
    TMP_ROOT = os.path.abspath(opts.tmp or os.environ.get("TV_TMP") or
                               os.path.join(ROOT, "tests", "tmp"))
    os.chdir(ROOT)
    os.environ.update(SAN_ENV)
    os.environ["TV_BUILD"] = build
    sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    import tvtest
    signal.signal(signal.SIGALRM, _alarm)
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(143))
    res = Results(opts.verbose)
    filters = [w for w in opts.filters if w]
    try:
        for name, path in unit_binaries(build):
            if selected(name, filters):
                run_unit(name, path, res)
        idir = os.path.join(ROOT, "tests", "integration")
        mods = sorted(f for f in os.listdir(idir)
                      if f.startswith("test_") and f.endswith(".py")) \
            if os.path.isdir(idir) else []
        for f in mods:
            run_module(os.path.join(idir, f), filters, build, res)
    finally:
        for pid, args in tvtest.stop_all():
            sys.stderr.write("note: stopped leftover pid %d (%s)\n" % (pid, " ".join(args)[:120]))
        reap_children(set())
        sys.stderr.flush()
        print("%d passed, %d failed" % (res.passed, res.failed), flush=True)
    return 1 if res.failed or res.passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
