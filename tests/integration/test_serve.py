"""sweepctl serve: the live dashboard, in headless Chromium.

A sweep whose first trial waits for a file before it trains is served by
`sweepctl serve --port 0`; the test checks that the server listens on
127.0.0.1 only and refuses requests without the printed token (403), then
opens the URL in Chromium (driven over the DevTools pipe, cdp.py), sees
the trial running, lets it go, and waits for the page to show it
completed with no reload (a mark set in the page survives) and no console
error, CSP violation or failed load.

Skipped when chromium is not installed (Debian: apt-get install chromium).
"""
import base64
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cdp
from sweeplib import (FAKE, SWEEPCTL, Daemon, Skip, fake_spec, run_tests,
                      wait_for, with_daemon)


def get(url):
    """(status, headers, body) of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def listening_addrs(port):
    """The local addresses (hex, as /proc/net/tcp{,6} has them) of the
    sockets listening on port."""
    out = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            local, state = row.split()[1], row.split()[3]
            addr, p = local.split(":")
            if state == "0A" and int(p, 16) == port:
                out.append(addr)
    return out


class Serve:
    def __init__(self, d, *args):
        if not SWEEPCTL or not os.path.exists(SWEEPCTL):
            raise Skip("sweepctl not built")
        self.proc = subprocess.Popen([SWEEPCTL, "--state-dir", d.dir, "serve"] +
                                     list(args), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.url = self.proc.stdout.readline().strip()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def gated_sweep(d, tmp):
    """A sweep of 2 trials of 3 epochs, one at a time; they wait for the
    file go (returned) before they train."""
    go = os.path.join(tmp, "go")
    spec = fake_spec(name="live-test", trials=2, parallel=1,
                     params={"x": {"uniform": [0, 1]}})
    spec["trainer"] = {
        "command": ["sh", "-c", 'while [ ! -e "$GO" ]; do sleep 0.05; done; '
                    'exec "$FAKE"'],
        "env": {"GO": go, "FAKE": FAKE}}
    sid = d.submit(spec)
    assert wait_for(lambda: [t["status"] for t in d.trials(sid)][:1] == ["running"],
                    timeout=30), d.trials(sid)
    return sid, go


ROW1_STATUS = """(function(){
var t=document.getElementById('trial-table');
if(!t)return null;
for(var i=0;i<t.tBodies[0].rows.length;i++){var r=t.tBodies[0].rows[i];
  if(r.cells[0].textContent.trim()==='1')return r.cells[1].textContent;}
return null;})()"""


def _dashboard_is_local_needs_the_token_and_updates_live():
    exe = cdp.find_chromium()
    if not exe:
        raise Skip("chromium is not installed")
    tmp = tempfile.mkdtemp(prefix="sweepd-serve-")
    d = Daemon().start()
    srv = browser = None
    try:
        sid, go = gated_sweep(d, tmp)
        srv = Serve(d, "--port", "0")
        assert srv.url.startswith("http://127.0.0.1:") and "/?token=" in srv.url, \
            (srv.url, srv.proc.stderr.read() if srv.proc.poll() is not None else "")
        base, token = srv.url.split("/?token=")
        port = int(base.rsplit(":", 1)[1])
        assert listening_addrs(port) == ["0100007F"], listening_addrs(port)
        # no token, a wrong one, one in the wrong place: 403
        for url in (base + "/", base + "/body?sweep=%d" % sid,
                    base + "/?token=" + "0" * len(token),
                    base + "/?token=" + token[:-1], base + "/?tok=" + token):
            status, _, body = get(url)
            assert status == 403 and "token" in body, (url, status, body)
        status, headers, body = get(srv.url)
        assert status == 200 and "id='trial-table'" in body, (status, body[:300])
        assert "default-src 'none'" in headers.get("Content-Security-Policy", "")
        assert get(base + "/nothing?token=" + token)[0] == 404

        browser = cdp.Browser(exe)
        browser.open(srv.url)
        assert browser.wait_for(ROW1_STATUS) == "running", browser.evaluate(
            "document.body.innerText")
        browser.evaluate("window.sweepdMark=42")
        with open(go, "w"):
            pass
        st = browser.wait_for("(%s)==='completed'" % ROW1_STATUS, timeout=60)
        assert st, browser.evaluate(ROW1_STATUS)
        assert browser.evaluate("window.sweepdMark") == 42, "the page was reloaded"
        assert int(browser.evaluate(
            "document.getElementById('live').getAttribute('data-updates')")) >= 1
        # when it last asked, on the 24-hour clock of every other time shown
        checked = browser.evaluate("document.getElementById('state').textContent")
        assert re.fullmatch(r"live: checked \d\d:\d\d:\d\d", checked), checked
        assert not browser.console_problems(), browser.console_problems()
        keep = os.environ.get("SWEEPD_DASH_PNG")
        if keep:   # for a person to look at
            png = browser.call("Page.captureScreenshot", {"format": "png"})
            with open(keep, "wb") as f:
                f.write(base64.b64decode(png["data"]))
    finally:
        if browser:
            browser.close()
        if srv:
            assert srv.stop() == 0
        d.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def _bad_port_and_no_daemon_are_said(d):
    p = d.ctl("serve", "--port", "70000", check=None)
    assert p.returncode == 2 and "--port must be an integer from 0 to 65535" \
        in p.stderr, p.stderr
    d.stop()
    p = d.ctl("serve", check=None)
    assert p.returncode == 3 and "is sweepd running?" in p.stderr, p.stderr


# The importance bars of the page's live part: [[param, share], ...] of the
# objective's chart (the first svg.imp), or null before there is one.
IMP_BARS = """(function(){
var c=document.querySelector('#live svg.imp');
if(!c)return null;
return Array.prototype.map.call(c.querySelectorAll('g.imp-bar'),function(g){
  return [g.getAttribute('data-param'),g.getAttribute('data-share')];});})()"""


def _dashboard_shows_what_mattered(d):
    exe = cdp.find_chromium()
    if not exe:
        raise Skip("chromium is not installed")
    # val_acc depends on lr alone (x fixed at the fake trainer's optimum)
    spec = fake_spec(name="lr-matters", trials=20, parallel=2, params={
        "x": 0.3, "lr": {"loguniform": [1e-4, 1]}, "z": {"uniform": [0, 1]}})
    sid = d.submit(spec)
    assert d.wait_sweep(sid, timeout=120)["status"] == "completed"
    few = d.submit(fake_spec(name="few", trials=2, params={"x": {"uniform": [0, 1]}}))
    assert d.wait_sweep(few, timeout=120)["status"] == "completed"
    imp = d.ok({"op": "importance", "sweep": sid})["importance"]
    srv = Serve(d, "--port", "0")
    browser = None
    try:
        browser = cdp.Browser(exe)
        browser.open(srv.url + "&sweep=%d" % sid)
        got = browser.wait_for(IMP_BARS)
        assert got and got[0][0] == "lr", got
        assert all(float(got[0][1]) > float(s) for _, s in got[1:] if s), got
        text = browser.evaluate("document.getElementById('live').innerText")
        assert "What mattered" in text and \
            "over %d completed trials" % imp["trials"] in text, text
        keep = os.environ.get("SWEEPD_DASH_PNG")
        if keep:   # for a person to look at
            browser.evaluate("document.getElementById('importance')"
                             ".scrollIntoView()")
            png = browser.call("Page.captureScreenshot", {"format": "png"})
            with open(keep + ".importance.png", "wb") as f:
                f.write(base64.b64decode(png["data"]))
        # the sweep of 2 trials: said, no chart
        browser.open(srv.url + "&sweep=%d" % few)
        assert browser.wait_for("!!document.getElementById('importance')")
        text = browser.evaluate("document.getElementById('live').innerText")
        assert "Too few completed trials to say what mattered: 2 so far" in text, text
        assert browser.evaluate(IMP_BARS) is None
        assert not browser.console_problems(), browser.console_problems()
    finally:
        if browser:
            browser.close()
        assert srv.stop() == 0


TESTS = [_dashboard_is_local_needs_the_token_and_updates_live,
         with_daemon(_bad_port_and_no_daemon_are_said),
         with_daemon(_dashboard_shows_what_mattered)]

if __name__ == "__main__":
    sys.exit(run_tests(TESTS))
