"""Counts test cases in meson's testlog.json files: the TAP lines of each
test program ("ok", "not ok", "# SKIP"), or the program itself when it
printed no TAP.

    count_tests.py TESTLOG.json [TESTLOG.json ...]

Sums over every file given (scripts/test.sh passes the normal run's and
the sanitizer run's); a file that cannot be read counts as one failed test,
so a run that never wrote its log cannot pass unnoticed. With several files
it prints one line per file, then the total as its last line:
'N passed, N failed, N skipped'. Exit status 1 if any failed or nothing
ran."""
import json
import re
import sys

TAP = re.compile(r"^(not ok|ok)\b[^#]*(#\s*(SKIP|TODO)\b)?", re.I)


def count(path):
    passed = failed = skipped = 0
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            t = json.loads(line)
            out = t.get("stdout") or ""
            cases = [TAP.match(l) for l in out.splitlines()]
            cases = [m for m in cases if m]
            result = t.get("result", "")
            if not cases:
                if result == "SKIP":
                    skipped += 1
                elif result in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                else:
                    failed += 1
                continue
            for m in cases:
                # TAP: "not ok # TODO" is a known, reported bug, not a
                # failure; it is counted with the skipped ones.
                if m.group(3):
                    skipped += 1
                elif m.group(1).lower() == "not ok":
                    failed += 1
                else:
                    passed += 1
            # A program that crashed after some TAP lines still failed.
            if result not in ("OK", "SKIP", "EXPECTEDFAIL") and \
                    not any(m.group(1).lower() == "not ok" and not m.group(3)
                            for m in cases):
                failed += 1
    return passed, failed, skipped


def main():
    paths = sys.argv[1:]
    if not paths:
        print("usage: count_tests.py TESTLOG.json [TESTLOG.json ...]",
              file=sys.stderr)
        return 2
    total = [0, 0, 0]
    for path in paths:
        try:
            c = count(path)
        except (OSError, ValueError) as e:
            print("count_tests: %s" % e, file=sys.stderr)
            c = (0, 1, 0)
        if len(paths) > 1:
            print("%s: %d passed, %d failed, %d skipped" % ((path,) + c))
        total = [a + b for a, b in zip(total, c)]
    p, f, s = total
    print("%d passed, %d failed, %d skipped" % (p, f, s))
    return 1 if f or p == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
