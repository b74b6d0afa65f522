#!/usr/bin/env python3
"""Regenerates samples/images/ from the scene generator (make samples).

Runs `cnn-viz shapes generate --count 60 --seed 7 --two-objects 0.3` into a temporary folder
and keeps, per class, the first single-object scene as <class>_1.png, plus the first three
two-object scenes as <a>+<b>_1.png. The names say what is in the picture; the tests read them.
"""
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

root = Path(__file__).resolve().parent.parent
binary = root / ".build" / "release" / "cnn-viz"
target = root / "samples" / "images"
with tempfile.TemporaryDirectory() as folder:
    subprocess.run([str(binary), "shapes", "generate", "--count", "60", "--seed", "7", "--two-objects", "0.3",
                    "--out", folder], check=True, stdout=subprocess.DEVNULL)
    scenes = json.load(open(Path(folder) / "scenes.json"))["scenes"]
    chosen, pairs = {}, []
    for scene in scenes:
        name = "+".join(scene["labels"])
        if len(scene["labels"]) == 1 and name not in chosen:
            chosen[name] = scene["file"]
        elif len(scene["labels"]) == 2 and len(pairs) < 3:
            pairs.append((name, scene["file"]))
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("*.png"):
        old.unlink()
    for name, file in list(chosen.items()) + pairs:
        shutil.copy(Path(folder) / file, target / f"{name}_1.png")
print(f"wrote {len(chosen) + len(pairs)} scenes to {target.relative_to(root)}", file=sys.stderr)
