#!/usr/bin/env python3
"""The datasets issue's equivalence check at full size (DatasetRunTests does it on 14 inputs).

Usage: python3 scripts/dataset_equivalence.py --cnn-viz BIN [--images 200] [--work DIR]

Makes IMAGES shapes scenes in nested folders whose file names clash across folders (and, once
per 50, a .png and a .jpg of one stem in one folder), plus a corrupt, a truncated and a
non-image file listed in the manifest, with a manifest of true labels (the first class of
each scene's name). Then runs `gradcam --manifest M --class label,predicted` four ways:
  single      one process;
  parallel    4 shards (--shard I/4) as 4 concurrent processes, then `cnn-viz merge`;
  killed      the same 4 shards, shard 0 killed (SIGKILL) once half its images are complete,
              its whole (non-hidden) files checked against the single run's, then rerun,
              then merged;
  arrays      4 shards from JOB_COMPLETION_INDEX (--shards 4), and again from
              SLURM_ARRAY_TASK_ID/COUNT/MIN, each merged.
Every way must give the same files byte for byte (the run's folder name replaced in the
records and pages), the same records.jsonl and aggregates.json, exit status 4 (three inputs
fail, each listed with its reason), and no file left behind by a killed writer. Prints one
line per check and exits 1 on any failure.
"""

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(binary, args, env=None, check_status=None):
    result = subprocess.run([binary] + args, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if check_status is not None and result.returncode != check_status:
        sys.exit(f"FAIL: {' '.join(args)} exited {result.returncode}, expected {check_status}: {result.stderr[-400:]}")
    return result


def make_dataset(binary, root, count):
    scenes = root / "scenes"
    run(binary, ["shapes", "generate", "--count", str(count), "--seed", "17", "--out", str(scenes)], check_status=0)
    data = root / "data"
    rows = ["path,label"]
    for k, scene in enumerate(sorted(scenes.glob("scene_*.png"))):
        place = f"set{k % 4}/part{(k // 4) % 3}/img{k // 12}.png"      # img0.png in every part: clashing names
        if k % 50 == 49:   # a .jpg beside scene k - 12's .png of the same stem, in its folder
            place = f"set{(k - 12) % 4}/part{((k - 12) // 4) % 3}/img{(k - 12) // 12}.jpg"
        target = data / place
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(scene, target)
        rows.append(f"{place},{scene.stem.rsplit('_', 1)[1].split('+')[0]}")
    (data / "bad").mkdir()
    (data / "bad/corrupt.png").write_bytes(b"not an image at all")
    first = sorted(scenes.glob("scene_*.png"))[0]
    (data / "bad/truncated.png").write_bytes(first.read_bytes()[:300])
    (data / "bad/notes.png").write_text("a text file with an image's name\n")
    rows += ["bad/corrupt.png,circle", "bad/truncated.png,star", "bad/notes.png,square"]
    (data / "manifest.csv").write_text("\n".join(rows) + "\n")
    return data / "manifest.csv", len(rows) - 1


def snapshot(folder):
    """Every file below `folder`, by relative path, the folder's own path replaced by OUT."""
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.startswith("records-shard-") and not path.name.startswith("stats-shard-"):
            data = path.read_bytes()
            if path.suffix in (".json", ".jsonl", ".html", ".js"):
                data = data.replace(str(folder).encode(), b"OUT")
            files[str(path.relative_to(folder))] = hashlib.sha256(data).hexdigest()
    return files


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cnn-viz", required=True)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--work")
    args = parser.parse_args()
    binary = str(Path(args.cnn_viz).resolve())
    root = Path(args.work or tempfile.mkdtemp(prefix="dataset-equivalence-"))
    manifest, inputs = make_dataset(binary, root, args.images)
    base = ["gradcam", "--manifest", str(manifest), "--class", "label,predicted"]
    failures = []

    def check(ok, what):
        print(("ok: " if ok else "FAIL: ") + what)
        if not ok:
            failures.append(what)

    started = time.time()
    single = run(binary, base + ["--out", str(root / "single")], check_status=4)
    reference = snapshot(root / "single")
    records = [json.loads(line) for line in (root / "single/records.jsonl").read_text().splitlines()]
    failed = [r for r in records if r["status"] == "failed"]
    check(len(records) == inputs and len(failed) == 3 and all(r["reason"] for r in failed),
          f"single: {len(records)} records, {len(failed)} failed with reasons: "
          + "; ".join(f"{Path(r['image']).name}: {r['reason'][:60]}…" for r in failed))
    folders = {str(Path(p).parent) for p in reference if p.endswith("gradcam.record.json")}
    check(len(folders) == inputs - 3, f"single: {len(folders)} folders for {inputs - 3} images (no two share one), {time.time() - started:.1f} s")

    def shards(out, env_for=None, extra=lambda i: ["--shard", f"{i}/4"]):
        processes = [subprocess.Popen([binary] + base + ["--out", str(root / out)] + extra(i),
                                      env={**os.environ, **(env_for(i) if env_for else {})},
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(4)]
        statuses = [p.wait() for p in processes]
        check(set(statuses) <= {0, 4} and 4 in statuses, f"{out}: shard exit statuses {statuses}")
        run(binary, ["merge", str(root / out)], check_status=0)
        same = snapshot(root / out) == reference
        check(same, f"{out}: every file, records.jsonl, index and aggregates.json equal the single run's")

    shards("parallel")
    shards("kubernetes", env_for=lambda i: {"JOB_COMPLETION_INDEX": str(i)}, extra=lambda i: ["--shards", "4"])
    shards("slurm", env_for=lambda i: {"SLURM_ARRAY_TASK_ID": str(i + 1), "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1"},
           extra=lambda i: [])

    # Shard 0 killed when half its images are complete, then rerun; then the other shards.
    out = root / "killed"
    victim = subprocess.Popen([binary] + base + ["--out", str(out), "--shard", "0/4"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.rglob("gradcam.record.json"))) < inputs // 8:
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    done = len(list(out.rglob("gradcam.record.json")))
    after_kill = snapshot(out)
    partial = [p for p, digest in after_kill.items() if reference.get(p) != digest and not Path(p).name.startswith(".")]
    check(not partial, f"killed: after SIGKILL with {done} images complete, {len(after_kill)} visible files, each whole "
          f"(equal to the single run's){'' if not partial else ': ' + ', '.join(partial[:5])}")
    rerun = subprocess.run([binary] + base + ["--out", str(out), "--shard", "0/4"], capture_output=True, text=True)
    check(rerun.returncode in (0, 4) and f"{done} skipped" in rerun.stderr,
          f"killed: the rerun skipped the {done} complete images: {rerun.stderr.strip().splitlines()[-1][:160]}")
    for i in range(1, 4):
        run(binary, base + ["--out", str(out), "--shard", f"{i}/4"])
    run(binary, ["merge", str(out)], check_status=0)
    check(snapshot(out) == reference, "killed: after the rerun and the merge, every file equals the single run's")
    check(not [p for p in out.rglob(".*.tmp")], "killed: no temporary file left")
    print(f"dataset equivalence: {inputs} inputs, {len(failures)} failed checks, {time.time() - started:.0f} s in {root}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
