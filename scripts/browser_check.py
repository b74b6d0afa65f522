#!/usr/bin/env python3
"""Open a cnn-viz HTML report in headless Chromium and check that it is self-contained.

Usage: python3 scripts/browser_check.py REPORT.html [--screenshot OUT.png] [--min-images N]
                                         [--allow-beside] [--eval EXPR]...

Launches Debian's Chromium (/usr/bin/chromium) headless with a temporary profile, talks the
Chrome DevTools Protocol over its WebSocket (PyPI package websocket-client), loads the report
from its file:// URL and fails if:
  - the page logs a console error, throws an exception, or Chromium logs an error entry;
  - the page requests anything other than its own file:// URL or a data: URL
    (requests to other schemes are blocked through DevTools, so the check never touches
    the network, but they are still seen and reported); with --allow-beside, file:// URLs of
    files inside the report's own folder (at any depth, after resolving `..`) are allowed
    too, for pages that load a data script and lazy thumbnails from files beside them; any
    other file:// URL is still a failure;
  - an <img> is not complete or has naturalWidth 0, or the page has fewer than --min-images;
    an <img loading="lazy"> whose top is more than 2 viewport heights below the top of the
    viewport (1 below its bottom) is skipped, since Chromium has not been asked to load it yet;
  - an --eval EXPR (repeatable) does not return exactly `true`: after the load, the settle
    period, the image check and the screenshot, each EXPR is evaluated in the page in order
    (promises are awaited, so an async EXPR may wait for its own effects); an EXPR may change
    the page (e.g. click a sort header) and later ones see that state; after the last one the
    page is given another settle period, so errors and requests the EXPRs cause are caught;
  - the screenshot (1280 px wide, full page) is blank: fewer than 2 distinct colours or a
    pixel standard deviation below 1 in every channel;
  - the file is 15 MiB (15 * 2^20 bytes) or larger.
Prints a short summary and exits 0 only if every check passes (1 on a failed check,
2 when the browser could not be driven: missing Chromium, timeout, protocol error).
Chromium is always killed, and its temporary profile removed, before exiting.
"""

import argparse
import base64
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

try:
    import websocket  # websocket-client
except ImportError:
    sys.exit("browser_check: needs websocket-client: python3 -m pip install -r scripts/requirements.txt")
try:
    from PIL import Image, ImageStat
except ImportError:
    sys.exit("browser_check: needs Pillow: python3 -m pip install -r scripts/requirements.txt")

MAX_BYTES = 15 * 2**20
VIEWPORT_W, VIEWPORT_H = 1280, 900
MAX_SCREENSHOT_H = 16384  # Chromium cannot capture taller surfaces in one piece
SETTLE_SECONDS = 0.5      # quiet period after the load event, to catch late messages
# A lazy <img> whose top is more than this many viewport heights below the top of the viewport
# is not expected to be loaded. Measured from the top, i.e. 900 px below the bottom: Chromium
# itself only fetches lazy images within 1250 px below the bottom (its threshold on a fast
# connection, seen in Chromium 156), so counting 2 heights from the bottom (1800 px) would
# demand images it has not requested yet.
LAZY_SKIP_VIEWPORTS = 2
MAX_LISTED = 20           # detail lines per check; a lazy page can have thousands of images
BLOCKED_SCHEMES = ["http:", "https:", "ws:", "wss:", "ftp:", "blob:", "filesystem:", "chrome:",
                   "chrome-extension:"]


class CheckError(Exception):
    """The browser could not be driven (as opposed to a failed check)."""


class ProtocolError(CheckError):
    """Chromium answered a DevTools command with an error (e.g. a value it cannot serialise)."""


class Deadline:
    def __init__(self, seconds):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self, what):
        remaining = self.end - time.monotonic()
        if remaining <= 0:
            raise CheckError(f"timed out after {self.seconds:g} s {what}")
        return remaining


class CDP:
    """Minimal DevTools client: one browser WebSocket, one flattened page session."""

    def __init__(self, url, deadline):
        self.deadline = deadline
        self.ws = websocket.create_connection(url, timeout=deadline.left("connecting to DevTools"),
                                              suppress_origin=True, enable_multithread=False)
        self.next_id = 0
        self.session = None
        self.events = []  # (method, params) for the page session, in arrival order

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass

    def _recv(self, what):
        self.ws.settimeout(self.deadline.left(what))
        try:
            raw = self.ws.recv()
        except websocket.WebSocketTimeoutException:
            self.deadline.left(what)  # raises the timeout message if the deadline has passed
            raise CheckError(f"no answer from Chromium {what}")
        except (websocket.WebSocketException, OSError) as e:
            raise CheckError(f"DevTools connection lost {what}: {e}")
        return json.loads(raw)

    def _dispatch(self, msg):
        if "method" in msg and msg.get("sessionId") == self.session and self.session is not None:
            self.events.append((msg["method"], msg.get("params", {})))

    def send(self, method, params=None, page=True):
        self.next_id += 1
        mid = self.next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if page:
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        what = f"waiting for {method}"
        while True:
            reply = self._recv(what)
            if reply.get("id") == mid:
                if "error" in reply:
                    raise ProtocolError(f"{method} failed: {reply['error'].get('message', reply['error'])}")
                return reply.get("result", {})
            self._dispatch(reply)

    def wait_event(self, method, start, what):
        """Wait until an event `method` is present at or after index `start` of self.events."""
        while True:
            for i in range(start, len(self.events)):
                if self.events[i][0] == method:
                    return i
            self._dispatch(self._recv(what))

    def drain(self, quiet):
        """Read events until none arrives for `quiet` seconds."""
        while True:
            remaining = self.deadline.left("waiting for the page to settle")
            self.ws.settimeout(min(quiet, remaining))
            try:
                self._dispatch(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                return


def launch(chromium, profile, log):
    cmd = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
           f"--user-data-dir={profile}", f"--window-size={VIEWPORT_W},{VIEWPORT_H}", "--hide-scrollbars",
           "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
           "--disable-background-networking", "--disable-component-update", "--mute-audio",
           "about:blank"]
    # A new session makes Chromium and all its helper processes one process group to kill.
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)


def live_group_members(pgid):
    """Processes still running (not zombies) in process group `pgid`, from /proc."""
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()  # state ppid pgrp ...
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            alive.append(int(entry))
    return alive


def kill(proc):
    """Stop Chromium and every helper process it started (they share its process group)."""
    if proc is None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        end = time.monotonic() + 5
        while time.monotonic() < end:
            proc.poll()
            if proc.returncode is not None and not live_group_members(proc.pid):
                return
            time.sleep(0.05)
    proc.poll()


def log_tail(path, lines=15):
    try:
        text = Path(path).read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return "\n".join("    " + l for l in text[-lines:])


def devtools_url(profile, proc, log_path, deadline):
    port_file = Path(profile) / "DevToolsActivePort"
    while True:
        if proc.poll() is not None:
            raise CheckError(f"Chromium exited with status {proc.returncode} before DevTools was up:\n"
                             + log_tail(log_path))
        try:
            lines = port_file.read_text().split("\n")
            if len(lines) >= 2 and lines[0].strip() and lines[1].strip():
                return f"ws://127.0.0.1:{int(lines[0])}{lines[1].strip()}"
        except (OSError, ValueError):
            pass
        deadline.left("waiting for Chromium to write DevToolsActivePort")
        time.sleep(0.05)


def remote_object_text(obj):
    if "value" in obj:
        return str(obj["value"])
    return obj.get("description") or obj.get("type", "?")


def short(url, n=100):
    return url if len(url) <= n else url[:n] + "…"


# `deferred`: a lazy image far below the viewport, which Chromium only requests once it is
# scrolled near, so it is not expected to be complete (the distance is LAZY_SKIP_VIEWPORTS).
IMAGES_JS = """(() => {
  const vh = window.innerHeight;
  return Array.from(document.images).map((img, i) => ({
    index: i, complete: img.complete, naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
    deferred: img.loading === 'lazy' && img.getBoundingClientRect().top > %d * vh,
    src: (img.currentSrc || img.src || '').slice(0, 120), alt: img.alt || ''}));
})()""" % LAZY_SKIP_VIEWPORTS


def evaluate_check(cdp, expr):
    """Evaluate one --eval EXPR; returns None if it gave exactly `true`, else what it gave."""
    try:
        ev = cdp.send("Runtime.evaluate", {"expression": expr, "awaitPromise": True,
                                           "returnByValue": True})
    except ProtocolError as e:  # e.g. a result that cannot be returned by value: the EXPR's fault
        return str(e)
    if "exceptionDetails" in ev:
        d = ev["exceptionDetails"]
        text = remote_object_text(d["exception"]) if "exception" in d else d.get("text", "?")
        return "threw " + short((text.splitlines() or ["?"])[0], 200)
    r = ev.get("result", {})
    if r.get("type") == "boolean" and r.get("value") is True:
        return None
    # JSON, so that the string "true" or 1 cannot be mistaken for true in the message.
    if "value" in r:
        return "returned " + short(json.dumps(r["value"]), 200)
    return "returned " + (r.get("description") or r.get("type", "?"))


def run_browser(report_url, args, deadline, profile):
    log_path = Path(profile).parent / "chromium.log"
    result = {}
    with open(log_path, "wb") as log:
        proc = None
        cdp = None
        try:
            proc = launch(args.chromium, profile, log)
            cdp = CDP(devtools_url(profile, proc, log_path, deadline), deadline)
            target = cdp.send("Target.createTarget", {"url": "about:blank"}, page=False)["targetId"]
            cdp.session = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True},
                                   page=False)["sessionId"]
            for domain in ("Runtime", "Log", "Network", "Page"):
                cdp.send(f"{domain}.enable")
            cdp.send("Network.setBlockedURLs", {"urls": [s + "*" for s in BLOCKED_SCHEMES]})
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            cdp.send("Emulation.setDeviceMetricsOverride",
                     {"width": VIEWPORT_W, "height": VIEWPORT_H, "deviceScaleFactor": 1, "mobile": False})

            start = len(cdp.events)
            nav = cdp.send("Page.navigate", {"url": report_url})
            if nav.get("errorText"):
                raise CheckError(f"navigation to {report_url} failed: {nav['errorText']}")
            cdp.wait_event("Page.loadEventFired", start, "waiting for Page.loadEventFired")
            cdp.drain(SETTLE_SECONDS)

            ev = cdp.send("Runtime.evaluate", {"expression": IMAGES_JS, "returnByValue": True,
                                               "awaitPromise": False})
            if "exceptionDetails" in ev:
                raise CheckError("evaluating the image check threw: "
                                 + ev["exceptionDetails"].get("text", "?"))
            result["images"] = ev["result"].get("value") or []

            metrics = cdp.send("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize") or metrics.get("contentSize")
            width = max(VIEWPORT_W, int(size["width"] + 0.999))
            full_h = int(size["height"] + 0.999)
            height = max(1, min(full_h, MAX_SCREENSHOT_H))
            shot = cdp.send("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True, "fromSurface": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
            result["png"] = base64.b64decode(shot["data"])
            result["page_height"] = full_h
            cdp.drain(0.05)  # anything the screenshot triggered (e.g. late messages)

            # After the screenshot, so it shows the page as loaded, not as the EXPRs left it.
            result["evals"] = [(expr, evaluate_check(cdp, expr)) for expr in args.eval]
            if args.eval:
                cdp.drain(SETTLE_SECONDS)  # errors and requests the EXPRs caused
            result["events"] = list(cdp.events[start:])
        finally:
            if cdp is not None:
                cdp.close()
            kill(proc)
    return result


def file_inside(url, folder):
    """Whether `url` is a file:// URL of a file strictly below the directory `folder`.

    Lexical: `..` and `.` are resolved (Chromium normally does that itself) and %-escapes
    decoded, so no spelling of a path can reach outside `folder`; symlinks are not followed.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return False
    path = os.path.normpath(urllib.parse.unquote(parts.path))
    return path.startswith(str(folder).rstrip(os.sep) + os.sep)


def classify(events, report_url, beside=None):
    """Sort the page's messages and requests; `beside` is the folder whose files may be loaded."""
    errors, warnings, infos = [], [], []
    requests = {}  # requestId -> url (first url; redirects get their own entry)
    blocked = {}
    for method, p in events:
        if method == "Runtime.consoleAPICalled":
            text = " ".join(remote_object_text(a) for a in p.get("args", []))
            line = f"console.{p.get('type')}: {short(text, 200)}"
            if p.get("type") in ("error", "assert"):
                errors.append(line)
            elif p.get("type") == "warning":
                warnings.append(line)
            else:
                infos.append(line)
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            text = remote_object_text(d["exception"]) if "exception" in d else d.get("text", "?")
            text = (text.splitlines() or ["?"])[0]  # the description carries the whole stack
            errors.append(f"uncaught exception: {short(text, 200)} "
                          f"(line {d.get('lineNumber', '?')}, column {d.get('columnNumber', '?')})")
        elif method == "Log.entryAdded":
            e = p.get("entry", {})
            line = f"log {e.get('source', '?')}/{e.get('level', '?')}: {short(e.get('text', ''), 200)}"
            if e.get("url"):
                line += f" [{short(e['url'], 80)}]"
            if e.get("level") == "error":
                errors.append(line)
            elif e.get("level") == "warning":
                warnings.append(line)
            else:
                infos.append(line)
        elif method == "Network.requestWillBeSent":
            url = p.get("request", {}).get("url", "")
            key = (p.get("requestId"), url)
            requests[key] = url
        elif method == "Network.loadingFailed" and p.get("blockedReason"):
            blocked[p.get("requestId")] = p.get("blockedReason")
    base = report_url.split("#", 1)[0]
    own, near, data, external = 0, 0, 0, []
    for (rid, url) in requests:
        if url.split("#", 1)[0] == base:
            own += 1
        elif url.startswith("data:"):
            data += 1
        elif beside is not None and file_inside(url, beside):
            near += 1
        else:
            note = f" (blocked: {blocked[rid]})" if rid in blocked else ""
            external.append(short(url) + note)
    return errors, warnings, infos, own, near, data, external


def screenshot_stats(png):
    img = Image.open(io.BytesIO(png))
    img.load()
    rgb = img.convert("RGB")
    colors = rgb.getcolors(maxcolors=1 << 24)
    distinct = len(colors) if colors is not None else 1 << 24
    stddev = ImageStat.Stat(rgb).stddev
    return img.size, distinct, max(stddev)


def print_capped(lines):
    """Print detail lines, at most MAX_LISTED of them (the failure count says how many)."""
    for line in lines[:MAX_LISTED]:
        print(f"                {line}")
    if len(lines) > MAX_LISTED:
        print(f"                … and {len(lines) - MAX_LISTED} more")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("report", help="the HTML report to open")
    ap.add_argument("--screenshot", metavar="OUT.png", help="also save the screenshot here")
    ap.add_argument("--chromium", default="/usr/bin/chromium", help="browser binary (default: %(default)s)")
    ap.add_argument("--timeout", type=float, default=60, help="seconds for the whole check (default: %(default)s)")
    ap.add_argument("--min-images", type=int, default=1,
                    help="fail if the page has fewer <img> elements (default: %(default)s)")
    ap.add_argument("--allow-beside", action="store_true",
                    help="also allow file:// requests for files inside the report's folder")
    ap.add_argument("--eval", action="append", default=[], metavar="EXPR",
                    help="JavaScript that must return exactly true after the load; repeatable, "
                         "run in order, each seeing the page as the previous ones left it")
    args = ap.parse_args()

    report = Path(args.report).resolve()
    if not report.is_file():
        print(f"browser_check: no such file: {args.report}", file=sys.stderr)
        return 2
    if not (os.path.isfile(args.chromium) and os.access(args.chromium, os.X_OK)):
        print(f"browser_check: no Chromium at {args.chromium} (Debian: apt-get install chromium)",
              file=sys.stderr)
        return 2
    report_url = report.as_uri()

    # Let SIGTERM/SIGHUP (e.g. make being interrupted) unwind through the finally that kills Chromium.
    def terminate(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)

    started = time.monotonic()
    deadline = Deadline(args.timeout)
    tmp = tempfile.mkdtemp(prefix="browser-check-")
    try:
        profile = os.path.join(tmp, "profile")
        os.mkdir(profile)
        try:
            res = run_browser(report_url, args, deadline, profile)
        except CheckError as e:
            print(f"browser_check: FAIL (could not complete the check): {e}", file=sys.stderr)
            return 2
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    elapsed = time.monotonic() - started

    failures = []
    print(f"browser_check: {report}")

    nbytes = report.stat().st_size
    ok = nbytes < MAX_BYTES
    print(f"  size        {nbytes / 2**20:.2f} MiB ({nbytes} bytes), limit 15 MiB"
          f"{'' if ok else '  FAIL'}")
    if not ok:
        failures.append(f"report is {nbytes} bytes, not below {MAX_BYTES}")

    images = res["images"]
    checked = [i for i in images if not i["deferred"]]
    bad = [i for i in checked if not i["complete"] or i["naturalWidth"] <= 0]
    ok = not bad and len(images) >= args.min_images
    skipped = len(images) - len(checked)
    skipped = f", {skipped} lazy ones far below the viewport skipped" if skipped else ""
    print(f"  images      {len(checked) - len(bad)}/{len(checked)} loaded (complete, naturalWidth > 0)"
          f"{skipped}{'' if ok else '  FAIL'}")
    print_capped([f"img #{i['index']} complete={i['complete']} naturalWidth={i['naturalWidth']}"
                  f" src={short(i['src'], 70)!r}" for i in bad])
    failures += [f"img #{i['index']} did not load" for i in bad]
    if len(images) < args.min_images:
        print(f"                only {len(images)} <img> elements, expected at least {args.min_images}")
        failures.append(f"{len(images)} <img> elements, expected at least {args.min_images}")

    errors, warnings, infos, own, near, data, external = classify(
        res["events"], report_url, report.parent if args.allow_beside else None)
    ok = not external
    beside = f"{near} to files beside it, " if args.allow_beside else ""
    print(f"  requests    {own + near + data + len(external)}: {own} to the report itself, {beside}"
          f"{data} data:, {len(external)} other{'' if ok else '  FAIL'}")
    print_capped(external)
    failures += [f"request to {url}" for url in external]

    ok = not errors
    print(f"  console     {len(errors)} errors, {len(warnings)} warnings, {len(infos)} other"
          f"{'' if ok else '  FAIL'}")
    for line in errors + warnings:
        print(f"                {line}")
    failures += errors

    (w, h), distinct, stddev = screenshot_stats(res["png"])
    ok = distinct >= 2 and stddev >= 1
    cut = f" (page is {res['page_height']} px, cut at {MAX_SCREENSHOT_H})" \
        if res["page_height"] > MAX_SCREENSHOT_H else ""
    print(f"  screenshot  {w}x{h}{cut}, {distinct} distinct colours, max channel stddev {stddev:.2f}"
          f"{'' if ok else '  FAIL (blank)'}")
    if not ok:
        failures.append(f"screenshot is blank ({distinct} colours, stddev {stddev:.2f})")
    if args.screenshot:
        out = Path(args.screenshot)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(res["png"])
        print(f"                saved {out}")

    if res["evals"]:
        wrong = [(expr, got) for expr, got in res["evals"] if got is not None]
        print(f"  evals       {len(res['evals']) - len(wrong)}/{len(res['evals'])} returned true"
              f"{'' if not wrong else '  FAIL'}")
        for expr, got in wrong:
            print(f"                {short(expr, 80)!r} {got}")
            failures.append(f"--eval {short(expr, 80)!r} {got}")

    if failures:
        print(f"FAIL: {len(failures)} problem(s) in {elapsed:.1f} s")
        return 1
    print(f"PASS in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
