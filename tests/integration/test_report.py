"""sweepctl report against a real sweepd, rendered by headless Chromium.

A small sweep of the fake trainer with several verdicts (a normal run, a
diverging one that reports NaN, one that peaks early) is written out with
`sweepctl report`; Chromium loads the file, and the test checks that the
page ran without console errors and that its DOM holds what the report
promises: the optimization-history chart, one learning-curve panel per
trial, one scatter per searched hyperparameter, the sortable table with a
row per trial, the best trial's diagnosis and advice.

Skipped when chromium is not installed (Debian: apt-get install chromium).
"""
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweeplib import Daemon, Skip, fake_spec, run_tests, with_daemon

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0",
]


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    raise Skip("chromium is not installed")


def run_chromium(url, *args, timeout=120):
    """Runs headless Chromium on url; returns (stdout, console lines)."""
    exe = chromium()
    profile = tempfile.mkdtemp(prefix="sweepd-chromium-")
    try:
        p = subprocess.run([exe] + CHROMIUM_FLAGS + ["--user-data-dir=" + profile]
                           + list(args) + [url], capture_output=True,
                           text=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert p.returncode == 0, (p.returncode, p.stderr[-2000:])
    return p.stdout, console_lines(p.stderr, url)


def console_lines(stderr, url):
    """The page's console messages: Chromium logs each one (console.log,
    console.error and uncaught exceptions alike) as ...:CONSOLE...] "text",
    source: URL. The report writes none, so any of them is a fault."""
    return [l for l in stderr.splitlines()
            if (":CONSOLE" in l and url in l) or "Uncaught" in l]


class Dom(html.parser.HTMLParser):
    """What the checks need from the dumped DOM, by section (the id of
    the last <h2> seen)."""

    def __init__(self):
        super().__init__()
        self.section = None
        self.svgs = {}          # section -> [attrs of each top-level svg]
        self.rows = 0           # tbody rows of #trial-table
        self.heads = []         # its header cells' text
        self.text = {}          # section -> text
        self.li = {}            # section -> [li text]
        self.bars = []          # (section, h3 text, attrs) of each importance bar
        self.h3 = ""
        self._in_table = self._in_tbody = self._in_th = self._in_li = False
        self._in_h3 = False
        self._svg_depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "h2":
            self.section = a.get("id")
            self.h3 = ""
        elif tag == "h3":
            self.h3 = ""
            self._in_h3 = True
        elif tag == "g" and a.get("class") == "imp-bar":
            self.bars.append((self.section, self.h3.strip(), a))
        elif tag == "svg":
            if self._svg_depth == 0:
                self.svgs.setdefault(self.section, []).append(a)
            self._svg_depth += 1
        elif tag == "table" and a.get("id") == "trial-table":
            self._in_table = True
        elif tag == "tbody" and self._in_table:
            self._in_tbody = True
        elif tag == "tr" and self._in_tbody:
            self.rows += 1
        elif tag == "th" and self._in_table:
            self._in_th = True
            self.heads.append("")
        elif tag == "li":
            self._in_li = True
            self.li.setdefault(self.section, []).append("")

    def handle_endtag(self, tag):
        if tag == "svg":
            self._svg_depth -= 1
        elif tag == "table":
            self._in_table = self._in_tbody = False
        elif tag == "th":
            self._in_th = False
        elif tag == "li":
            self._in_li = False
        elif tag == "h3":
            self._in_h3 = False

    def handle_data(self, data):
        self.text[self.section] = self.text.get(self.section, "") + data
        if self._in_th:
            self.heads[-1] += data
        if self._in_li:
            self.li[self.section][-1] += data
        if self._in_h3:
            self.h3 += data


def sweep_with_verdicts(d, tmp):
    """A finished sweep of 6 fake-trainer trials. The search is seeded
    (fake_spec's seed 7), so the sampled modes are the same on every run:
    normal trials, one that reports NaN from epoch 3 on (diverged) and one
    that peaks at epoch 3 and gets worse."""
    spec = fake_spec(name="report-test", trials=6, parallel=2, params={
        "epochs": 6,
        "x": {"uniform": [0, 1]},
        "mode": {"choice": ["ok", "pynan", "peak"]},
    })
    path = os.path.join(tmp, "spec.json")
    with open(path, "w") as f:
        json.dump(spec, f)
    sid = int(d.ctl("submit", path, check=0).stdout)
    d.ctl("wait", str(sid), check=0, timeout=120)
    return sid


def with_report(fn):
    def wrapped():
        chromium()
        d = Daemon().start()
        tmp = tempfile.mkdtemp(prefix="sweepd-report-")
        try:
            sid = sweep_with_verdicts(d, tmp)
            out = os.path.join(tmp, "report.html")
            p = d.ctl("report", str(sid), "-o", out, check=0)
            assert "wrote " + out in p.stderr, p.stderr
            fn(d, sid, out)
        finally:
            d.cleanup()
            shutil.rmtree(tmp, ignore_errors=True)
    wrapped.__name__ = fn.__name__
    return wrapped


def _console_errors_are_seen():
    # The detector itself: a page that logs and throws must be caught, or
    # a change in Chromium's log format would make the checks below vacuous.
    tmp = tempfile.mkdtemp(prefix="sweepd-report-")
    try:
        bad = os.path.join(tmp, "bad.html")
        with open(bad, "w") as f:
            f.write("<html><body><p>x</p><script>nosuchfn();</script>"
                    "</body></html>")
        dom, errors = run_chromium("file://" + bad, "--dump-dom")
        assert "<p>x</p>" in dom, dom
        assert any("Uncaught" in e for e in errors), errors
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _report_loads_without_console_errors(d, sid, path):
    dom, errors = run_chromium("file://" + path, "--dump-dom")
    assert not errors, errors
    assert "<html" in dom and dom.rstrip().endswith("</html>"), dom[:200]
    for sec in ("summary", "best", "history", "curves", "params", "trials",
                "spec"):
        assert "id=\"%s\"" % sec in dom, sec


def _report_has_every_chart_and_row(d, sid, path):
    dom_text, errors = run_chromium("file://" + path, "--dump-dom")
    assert not errors, errors
    dom = Dom()
    dom.feed(dom_text)
    trials = d.trials(sid)
    assert len(trials) == 6, trials
    # the optimization history: one chart, a point per trial with an
    # objective (the NaN trial may have none)
    hist = dom.svgs.get("history", [])
    assert len(hist) == 1 and hist[0].get("aria-label") == \
        "objective by trial number", hist
    # one small multiple per trial
    assert len(dom.svgs.get("curves", [])) == len(trials), dom.svgs.get("curves")
    for t in trials:
        assert "#%d" % t["number"] in dom.text["curves"], t["number"]
    # a scatter per searched param: x (uniform) and mode (choice)
    assert len(dom.svgs.get("params", [])) == 2, dom.svgs.get("params")
    assert "x" in dom.text["params"] and "mode" in dom.text["params"]
    # the sortable table: one row per trial, a header per param
    assert dom.rows == len(trials), dom.rows
    heads = [h.strip("▲▼") for h in dom.heads]
    assert heads[:3] == ["#", "status", "objective"], dom.heads
    assert len(heads) == len(set(heads)), heads   # no two "epochs"
    assert "x" in heads and "mode" in heads, dom.heads
    verdicts = {(t.get("diagnosis") or {}).get("verdict") for t in trials}
    assert len(verdicts - {None}) >= 2, verdicts
    for v in verdicts - {None}:
        assert v in dom.text["trials"], v


def _report_shows_the_best_trials_diagnosis_and_advice(d, sid, path):
    dom_text, errors = run_chromium("file://" + path, "--dump-dom")
    assert not errors, errors
    dom = Dom()
    dom.feed(dom_text)
    sw = d.ok({"op": "sweep", "sweep": sid})["sweep"]
    best = sw["best_trial"]
    text = re.sub(r"\s+", " ", dom.text["best"])
    assert "trial %d" % best["number"] in text, text
    reason = best["diagnosis"]["reason"]
    assert re.sub(r"\s+", " ", reason) in text, (reason, text)
    assert best["diagnosis"]["verdict"] in text, text
    assert sw["advice"], sw
    assert [re.sub(r"\s+", " ", a) for a in sw["advice"]] == \
        [re.sub(r"\s+", " ", li) for li in dom.li.get("best", [])], dom.li


# Run in the page after its own script: what a person at a 1400 px
# window sees of the table, and what a click on a header does.
MEASURE = """<script>
(function(){
var t=document.getElementById('trial-table'),h=t.tHead.rows[0].cells,m={};
m.tableRight=t.getBoundingClientRect().right;
m.pageWidth=document.documentElement.scrollWidth;
m.window=window.innerWidth;
m.arrow0=h[0].textContent;
h[2].click();
m.sort2=h[2].getAttribute('aria-sort');m.arrow2=h[2].textContent;
m.sort0=h[0].getAttribute('aria-sort');
h[2].click();
m.sort2b=h[2].getAttribute('aria-sort');
var p=document.createElement('pre');p.id='measure';
p.textContent=JSON.stringify(m);document.body.appendChild(p);
})();
</script>"""


def _report_fits_1400px_and_sorts_with_an_arrow(d, sid, path):
    with open(path) as f:
        page = f.read()
    probe = path + ".probe.html"
    with open(probe, "w") as f:
        f.write(page.replace("</body>", MEASURE + "</body>"))
    dom, errors = run_chromium("file://" + probe, "--dump-dom",
                               "--window-size=1400,1000")
    assert not errors, errors
    m = json.loads(html.unescape(re.search(r'<pre id="measure">(.*?)</pre>',
                                           dom).group(1)))
    assert m["window"] == 1400, m
    assert m["tableRight"] <= 1400 and m["pageWidth"] <= 1400, m
    assert m["arrow0"] == "#▲", m
    assert m["sort2"] == "ascending" and m["arrow2"].endswith("▲"), m
    assert m["sort0"] is None and m["sort2b"] == "descending", m


def _report_screenshot_is_drawn(d, sid, path):
    png = os.path.join(os.path.dirname(path), "report.png")
    _, errors = run_chromium("file://" + path, "--screenshot=" + png,
                             "--window-size=1400,4200")
    assert not errors, errors
    with open(png, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20000, len(data)
    keep = os.environ.get("SWEEPD_REPORT_PNG")
    if keep:   # for a person to look at
        shutil.copy(png, keep)


# ---- what mattered -------------------------------------------------------

def importance_sweeps(d, tmp):
    """Three finished sweeps of the fake trainer (seeded, so the same on
    every run), by name: "lr", whose val_acc depends on lr alone (x is
    fixed at the trainer's optimum; z and act change nothing); "diverge",
    whose trials diverge (NaN losses) when lr > 0.05; "few", of 2 trials,
    too few for the daemon to split any variance."""
    specs = {
        "lr": fake_spec(name="lr-matters", trials=30, parallel=2, params={
            "x": 0.3, "lr": {"loguniform": [1e-4, 1]}, "z": {"uniform": [0, 1]},
            "act": {"choice": ["relu", "tanh", "gelu"]}}),
        "diverge": fake_spec(name="lr-diverges", trials=30, parallel=2, params={
            "epochs": 5, "x": {"uniform": [0, 1]},
            "lr": {"loguniform": [1e-4, 1]}, "z": {"uniform": [0, 1]},
            "diverge_lr": 0.05}),
        "few": fake_spec(name="few", trials=2, parallel=2,
                         params={"x": {"uniform": [0, 1]}}),
    }
    out = {}
    for name, spec in specs.items():
        sid = d.submit(spec)
        assert d.wait_sweep(sid, timeout=120)["status"] == "completed", name
        path = os.path.join(tmp, name + ".html")
        p = d.ctl("report", str(sid), "-o", path, check=0)
        assert "wrote " + path in p.stderr, p.stderr
        out[name] = (sid, path)
    return out


def rendered(path):
    dom_text, errors = run_chromium("file://" + path, "--dump-dom")
    assert not errors, errors
    dom = Dom()
    dom.feed(dom_text)
    return dom


def bars(dom, h3=""):
    """[(param, share)] of the importance bars under the <h3> whose text
    starts with h3 ("": the objective's, before any h3), in page order."""
    return [(a["data-param"], float(a["data-share"]) if a["data-share"] else None)
            for sec, h, a in dom.bars if sec == "importance" and h.startswith(h3)
            and (h3 or not h)]


def _what_mattered(d):
    chromium()
    tmp = tempfile.mkdtemp(prefix="sweepd-report-")
    try:
        sweeps = importance_sweeps(d, tmp)
        # lr drives val_acc: its bar is first and the largest; the section
        # says over how many trials and by what method
        sid, path = sweeps["lr"]
        imp = d.ok({"op": "importance", "sweep": sid})["importance"]
        dom = rendered(path)
        got = bars(dom)
        assert [p for p, _ in got][:1] == ["lr"], got
        assert sorted({p for p, _ in got}) == ["act", "lr", "z"], got
        assert all(got[0][1] > s for _, s in got[1:] if s is not None), got
        assert got[0][1] > 0.5, got
        text = re.sub(r"\s+", " ", dom.text["importance"])
        assert "over %d completed trials" % imp["trials"] in text, text
        assert imp["trials"] == 30, imp
        assert "(method: %s)" % imp["method"] in text, text
        assert len(dom.svgs.get("importance", [])) == 1, dom.svgs.get("importance")

        # large lr diverges: lr drives "diverged", and the section says how
        # many trials got it of how many
        sid, path = sweeps["diverge"]
        imp = d.ok({"op": "importance", "sweep": sid})["importance"]
        div = [v for v in imp["verdicts"] if v["verdict"] == "diverged"]
        assert div and div[0]["trials"] >= 5, imp
        dom = rendered(path)
        got = bars(dom, "diverged")
        assert got and got[0][0] == "lr", (got, dom.bars)
        assert all(got[0][1] > s for _, s in got[1:] if s is not None), got
        text = re.sub(r"\s+", " ", dom.text["importance"])
        assert "diverged %d of %d diagnosed trials" % (div[0]["trials"], div[0]["of"]) \
            in text, text

        # too few trials: said, and no empty chart
        sid, path = sweeps["few"]
        dom = rendered(path)
        text = re.sub(r"\s+", " ", dom.text["importance"])
        assert "Too few completed trials to say what mattered: 2 so far" in text, text
        assert not dom.svgs.get("importance") and not bars(dom), dom.svgs
        keep = os.environ.get("SWEEPD_REPORT_PNG")
        if keep:   # for a person to look at
            for name, (_, path) in sweeps.items():
                run_chromium("file://" + path, "--screenshot=%s.%s.png" % (keep, name),
                             "--window-size=1400,6000")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


TESTS = [_console_errors_are_seen] + [with_report(f) for f in [
    _report_loads_without_console_errors, _report_has_every_chart_and_row,
    _report_shows_the_best_trials_diagnosis_and_advice,
    _report_fits_1400px_and_sorts_with_an_arrow, _report_screenshot_is_drawn]] + [
    with_daemon(_what_mattered)]

if __name__ == "__main__":
    sys.exit(run_tests(TESTS))
