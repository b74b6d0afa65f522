#!/usr/bin/env python3
"""Check that a dataset run's index page works at 10,000 rows in headless Chromium.

Usage: python3 scripts/index_browser_test.py --cnn-viz BIN --out DIR [--rows 10000]

Runs `cnn-viz gradcam --class label,predicted` on 20 generated scenes (fixed seed; every 7th
manifest label names another class, so some rows are misclassified) into DIR/base, then builds
DIR/page cheaply: symlinks c{n} -> ../base and one shard of copied records keyed `c{n}/<key>`,
combined by `cnn-viz merge`. scripts/browser_check.py --allow-beside opens DIR/page/index.html
and evaluates, in order: the first page (50 rows, "page 1 of 200"), a click on the confidence
header (descending) and another (ascending), #next (page 2, other keys), the #filter select set
to "misclassified" by a change event, and cnnviz.setClass; expected counts come from the
records. index.html must stay small (< 64 KiB, no data:image, at most 4 KiB more than the
20-image page); the rows live in index-rows.js, whose size is reported.
Exits 0 if every check passes, 1 otherwise.
"""

import argparse
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

SCENES, SEED, PER_PAGE = 20, 7, 50
WRONG_EVERY = 7               # every 7th manifest label names another class
MAX_INDEX_BYTES = 64 * 2**10  # index.html must not grow with the number of images
MAX_INDEX_GROWTH = 4 * 2**10  # over the 20-image page's index.html
BROWSER_CHECK = Path(__file__).resolve().parent / "browser_check.py"


class TestFailure(Exception):
    """A step or a check failed; the message says which."""


def run(cmd, what):
    """Run a command quietly; raise TestFailure with its output tail unless it exits 0."""
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise TestFailure(f"{what} exited {proc.returncode}:\n{tail}")
    return proc


def make_base(binary, out):
    """Scenes, a manifest with some wrong labels, and a real gradcam run into out/base."""
    scenes, base = out / "scenes", out / "base"
    run([binary, "shapes", "generate", "--count", SCENES, "--seed", SEED, "--out", scenes], "shapes generate")
    files = sorted(scenes.glob("scene_*.png"))
    firsts = [f.stem.rsplit("_", 1)[1].split("+")[0] for f in files]
    classes = sorted(set(firsts))
    if len(files) != SCENES or len(classes) < 2:
        raise TestFailure(f"expected {SCENES} scenes of at least 2 classes, got {len(files)} of {classes}")
    lines = ["path,label"]
    for i, (f, label) in enumerate(zip(files, firsts)):
        if i % WRONG_EVERY == 0:
            label = classes[(classes.index(label) + 1) % len(classes)]
        lines.append(f"{f.name},{label}")
    (scenes / "manifest.csv").write_text("\n".join(lines) + "\n")
    run([binary, "gradcam", "--manifest", scenes / "manifest.csv", "--class", "label,predicted",
         "--out", base], "gradcam")
    lines = (base / "records.jsonl").read_text().splitlines()
    records = sorted((json.loads(line) for line in lines if line.strip()), key=lambda r: r["position"])
    if not records:
        raise TestFailure("gradcam wrote no records")
    return records


def make_page(binary, out, base_records, rows):
    """out/page: symlinked copies of out/base and one shard of `rows` records, merged."""
    page = out / "page"
    page.mkdir()
    copies = math.ceil(rows / len(base_records))
    for n in range(copies):
        (page / f"c{n}").symlink_to("../base", target_is_directory=True)
    records = []
    for n in range(copies):
        for real in base_records:
            if len(records) == rows:
                break
            records.append(dict(real, key=f"c{n}/{real['key']}", position=len(records)))
    with open(page / "records-shard-0-of-1.jsonl", "w") as f:
        for record in records:
            f.write(json.dumps(record) + "\n")
    run([binary, "merge", page], "merge")
    return records


def js_checks(records, cls):
    """The --eval expressions, in order; each returns true or a string saying what is wrong."""
    n = len(records)
    pages = math.ceil(n / PER_PAGE)
    wrong = sum(1 for r in records if r.get("correct") is False)
    with_cls = sum(1 for r in records
                   if any(cls in str(r.get(k) or "").lower() for k in ("true_name", "predicted_name")))
    confidences = [r["confidence"] for r in records if isinstance(r.get("confidence"), (int, float))]
    helpers = """
      const api = window.cnnviz, info = () => document.getElementById('page-info').textContent;
      const keys = rows => rows.map(r => r.key), same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
      const click = el => el.dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true, view: window}));
      const th = document.querySelector('#rows th[data-column="confidence"]');
      const ordered = (rows, desc) => rows.every((r, i) => i === 0 ||
        (desc ? rows[i - 1].confidence >= r.confidence : rows[i - 1].confidence <= r.confidence));
      const pageOk = (rows, page) => same(api.shownKeys(), keys(rows.slice(page * 50, page * 50 + 50)));
    """

    def check(name, body):  # an IIFE giving true or the first problem; the name leads failure lines
        return f"/* {name} */ (() => {{ {helpers} {body} return true; }})()"

    def sort_click(desc, end):
        label = "descending" if desc else "ascending"
        return check(f"sort {label}", f"""
          click(th); const v = api.visibleRows();
          if (v.length !== {n}) return 'sort {label}: ' + v.length + ' rows';
          if (!ordered(v, {str(desc).lower()})) return 'sort {label}: confidences out of order';
          if (Math.abs(v[0].confidence - {end}) > 1e-6) return 'sort {label}: first confidence ' + v[0].confidence + ', expected {end}';
          if (!pageOk(v, 0)) return 'sort {label}: shown keys ' + api.shownKeys().slice(0, 3) + ' are not the first sorted rows ' + keys(v.slice(0, 3));
          if (!th.classList.contains('sorted') || th.classList.contains('descending') !== {str(desc).lower()}) return 'sort {label}: header classes ' + th.className;
        """)

    first_info = f"page 1 of {pages} ({n} of {n} images)"
    evals = [
        check("first page", f"""
          const v = api.visibleRows();
          if (v.length !== {n}) return 'visibleRows: ' + v.length + ' rows, expected {n}';
          if (api.shownKeys().length !== {min(n, PER_PAGE)}) return 'first page shows ' + api.shownKeys().length + ' rows';
          if (info() !== {json.dumps(first_info)}) return 'page-info: ' + info();
        """),
        sort_click(True, max(confidences)),
        sort_click(False, min(confidences)),
        check("next page", f"""
          const before = api.shownKeys(); click(document.getElementById('next'));
          const after = api.shownKeys(), v = api.visibleRows();
          if (!info().startsWith('page 2 of {pages} ')) return 'after #next page-info: ' + info();
          if (after.length === 0 || after.some(k => before.includes(k))) return '#next: page 2 repeats page 1 keys';
          if (!pageOk(v, 1)) return '#next: page 2 keys are not visibleRows()[50..100]';
        """),
        check("misclassified filter", f"""
          const select = document.getElementById('filter'); select.value = 'misclassified';
          select.dispatchEvent(new Event('change', {{bubbles: true}}));
          const v = api.visibleRows();
          if (v.length !== {wrong}) return 'misclassified filter: ' + v.length + ' rows, expected {wrong}';
          if (!v.every(r => r.correct === false)) return 'misclassified filter: a row has correct !== false';
          if (!info().startsWith('page 1 of {max(1, math.ceil(wrong / PER_PAGE))} ({wrong} of {n} images)')) return 'misclassified page-info: ' + info();
          if (!pageOk(v, 0)) return 'misclassified filter: shown keys are not the first filtered rows';
        """),
        check("class filter", f"""
          const select = document.getElementById('filter'); select.value = 'all';
          select.dispatchEvent(new Event('change', {{bubbles: true}}));
          if (api.visibleRows().length !== {n}) return 'filter back to all: ' + api.visibleRows().length + ' rows';
          api.setClass({json.dumps(cls)}); const v = api.visibleRows();
          if (v.length !== {with_cls}) return 'setClass({cls}): ' + v.length + ' rows, expected {with_cls}';
          const has = r => [r.trueName, r.predictedName].some(s => String(s || '').toLowerCase().includes({json.dumps(cls)}));
          if (!v.every(has)) return 'setClass({cls}): a row names neither true nor predicted {cls}';
          if (!pageOk(v, 0)) return 'setClass({cls}): shown keys are not the first filtered rows';
        """),
    ]
    expected = {"rows": n, "pages": pages, "misclassified": wrong, "class": cls, "with class": with_cls}
    return evals, expected


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cnn-viz", required=True, help="the cnn-viz binary")
    ap.add_argument("--out", required=True, help="work folder (its scenes/, base/, page/ are replaced)")
    ap.add_argument("--rows", type=int, default=10000, help="rows in the index (default: %(default)s)")
    ap.add_argument("--chromium", default="/usr/bin/chromium", help="browser binary (default: %(default)s)")
    args = ap.parse_args()
    binary, out = Path(args.cnn_viz).resolve(), Path(args.out).resolve()
    if args.rows < PER_PAGE * 2:
        ap.error(f"--rows must be at least {PER_PAGE * 2} (two pages)")
    try:
        if not binary.is_file():
            raise TestFailure(f"no cnn-viz binary at {binary}")
        out.mkdir(parents=True, exist_ok=True)
        for sub in ("scenes", "base", "page"):
            shutil.rmtree(out / sub, ignore_errors=True)
        base_records = make_base(binary, out)
        wrong = [r for r in base_records if r.get("correct") is False]
        if not wrong:
            raise TestFailure("no misclassified image among the base records; the wrong labels did not take")
        cls = wrong[0]["true_name"].lower()  # its rows include some that the model got wrong
        records = make_page(binary, out, base_records, args.rows)
        evals, expected = js_checks(records, cls)
        print(f"index_browser_test: {len(base_records)} real records ({len(wrong)} misclassified), "
              f"{len(records)} rows in {out / 'page'}")
        print("  expected    " + ", ".join(f"{k} {v}" for k, v in expected.items()))

        cmd = [sys.executable, BROWSER_CHECK, out / "page" / "index.html", "--allow-beside",
               "--min-images", "0", "--timeout", "120", "--chromium", args.chromium,
               "--screenshot", out / "index.png"]
        for expr in evals:
            cmd += ["--eval", expr]
        browser = subprocess.run([str(c) for c in cmd])
        failures = [] if browser.returncode == 0 else [f"browser_check exited {browser.returncode}"]

        index, base_index = out / "page" / "index.html", out / "base" / "index.html"
        html, size, base_size = index.read_text(), index.stat().st_size, base_index.stat().st_size
        rows_js = (out / "page" / "index-rows.js").stat().st_size
        if size >= MAX_INDEX_BYTES:
            failures.append(f"index.html is {size} bytes, not below {MAX_INDEX_BYTES}")
        if size - base_size > MAX_INDEX_GROWTH:
            failures.append(f"index.html grew by {size - base_size} bytes from {len(base_records)} to {len(records)} images")
        if "data:image" in html:
            failures.append("index.html embeds data:image URLs")
        print(f"  sizes       index.html {size} bytes ({base_size} for {len(base_records)} images), "
              f"index-rows.js {rows_js / 2**20:.2f} MiB for {len(records)} rows")
    except (TestFailure, OSError) as e:
        print(f"index_browser_test: FAIL: {e}", file=sys.stderr)
        return 1
    if failures:
        print("index_browser_test: FAIL: " + "; ".join(failures))
        return 1
    print(f"index_browser_test: PASS ({len(records)} rows, {len(evals)} page checks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
