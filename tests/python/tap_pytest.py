"""Runs pytest on the test files given and prints one TAP line per test
case on stdout, so that meson's TAP parser and scripts/count_tests.py
count every case; pytest's own report goes to stderr.

    tap_pytest.py test_a.py [test_b.py ...]

Without pytest (Debian: apt-get install python3-pytest) it prints a TAP
skip plan saying so."""
import os
import sys


def main():
    tap = os.fdopen(os.dup(1), "w", buffering=1)
    try:
        import pytest
    except ImportError:
        tap.write("1..0 # SKIP %s has no pytest (apt-get install "
                  "python3-pytest)\n" % sys.executable)
        return 0
    os.dup2(2, 1)            # pytest's terminal output: stderr
    sys.stdout = sys.stderr

    class Tap:
        def __init__(self):
            self.n = 0
            self.failed = 0

        def emit(self, ok, name, directive=""):
            self.n += 1
            if not ok:
                self.failed += 1
            tap.write("%s %d - %s%s\n" % ("ok" if ok else "not ok", self.n,
                                          name, directive))

        def pytest_collectreport(self, report):
            if report.failed:
                self.emit(False, "collect " + report.nodeid)

        def pytest_runtest_logreport(self, report):
            name = report.nodeid
            if report.when == "call":
                if report.skipped:
                    why = report.longrepr[2] if isinstance(
                        report.longrepr, tuple) else "skipped"
                    self.emit(True, name, " # SKIP " + str(why))
                else:
                    self.emit(report.passed, name)
            elif report.when == "setup" and report.skipped:
                why = report.longrepr[2] if isinstance(
                    report.longrepr, tuple) else "skipped"
                self.emit(True, name, " # SKIP " + str(why))
            elif report.failed:
                self.emit(False, "%s (%s)" % (name, report.when))

    plugin = Tap()
    here = os.path.dirname(os.path.abspath(__file__))
    files = [a if os.path.isabs(a) else os.path.join(here, a)
             for a in sys.argv[1:]]
    rc = pytest.main(["-p", "no:cacheprovider", "-q", "-rfEs",
                      "--rootdir", here] + files, plugins=[plugin])
    tap.write("1..%d\n" % plugin.n)
    # 5: nothing collected, a failure too.
    return 0 if rc == 0 and plugin.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
