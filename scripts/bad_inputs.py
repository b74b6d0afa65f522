#!/usr/bin/env python3
"""Bad-input corpus for cnn-viz: generate hostile files, run the CLI on each, check the outcome.

Usage:
    python3 scripts/bad_inputs.py --cnn-viz PATH --shared DIR --out WORKDIR [--json REPORT.json]
                                  [--jobs N] [--only SUBSTRING ...] [--list] [--verbose]

--shared is the shared data folder (the one holding images/, models/, SOURCES.md, e.g.
../shared/data). Everything the corpus needs is generated into WORKDIR/corpus, deterministically
(fixed seeds, byte edits of the shared files); nothing large lives in the repository. Each case
runs in a fresh working directory WORKDIR/runs/<case id>, so that default output paths
(reports/...) land there; WORKDIR/logs keeps each case's stdout and stderr.

Per case the runner checks:
  crash      the exit status is a signal (negative return code, or 128+N), or stderr holds
             one of CRASH_MARKERS ("Fatal error", "Swift runtime failure", "precondition",
             "Illegal instruction", "Segmentation", ArgumentParser's "Can't read a value from
             a parsable argument definition", the Swift backtracer's "Program crashed").
  hang       the run takes longer than TIMEOUT_S (60 s); the process group is killed.
  zero-exit  an "error" case exits 0; or an "either" case exits 0 with output that its
             validator rejects (e.g. a NaN map, NaN in --json output).
  half-written  after a non-zero exit, the working directory or an output path named by the
             command holds files that were not there before (except the outputs the case lists
             as complete); --json output on stdout, when there is any, must be complete JSON;
             after any run, no temporary files (*.tmp*, .*.tmp) are left in the output places.
  overwritten  an input file (every path on the command line that exists, files beside a
             .onnx for external data, files set up in the working directory) hashes
             differently after the run; plus, at the end, any change inside WORKDIR/corpus.
  memory     peak RSS (os.wait4 ru_maxrss, and VmHWM polled) is over the case's limit: MEM_LIMIT_MIB = 2048 MiB
             (2 GiB) unless the case says otherwise. A watchdog also kills a run whose RSS passes
             twice its limit (so that a runaway allocation cannot take the machine down);
             that counts as over memory, not as a crash.
  unclear    after a non-zero exit, stderr is empty or lacks one of the case's fragments
             (case-insensitive; a tuple of fragments means any one of them): the bad file's
             base name, the option name, the node or tensor name ...
  control    an "ok" control case (proving the harness can pass) exits non-zero or its output
             fails its validator. Counted in the summary as "F failed controls".

Expected outcomes: "error" (non-zero exit with a clear message and no half-written files),
"ok" (exit 0) or "either" (exit 0 with valid output, or a clear error). For diff, exit 3 ("some
layer differs") is a success status like 0: on an "error" case it counts as a zero-exit.
Read-only output places: as root (where chmod 555 does not stop writes) /sys/cnnviz-bad-input-readonly,
which no one can create; otherwise WORKDIR/corpus/readonly/out below a mode-555 folder.

Output (stdout): one line per failing case,
  FAIL <id> [<issues>] <details> :: cnn-viz <args> :: stderr: <last lines, or the crash message and frames>
then the summary line
  bad-input corpus: N cases, C crashes, H hangs, Z zero-exits on garbage, W half-written,
  O inputs overwritten, M over memory, E unclear messages, F failed controls
(each count is a number of cases; a case can count under several). Timing and the resource
cases' peak memory go to stderr. Exit status 1 when any count other than N is non-zero, 2 when
the binary is missing. --json writes every case's record: id, category, command, cwd, note,
expected, fragments, status (negative = signal), timed_out, seconds, peak_mib, mem_limit_mib,
stdout/stderr tails, crash_summary, issues, details, verdict.

A full run (about 400 cases, 2 jobs) takes about 75 s, of which ~5 s generate the corpus
(about 20 MB). Memory is measured through a small helper process that forks and execs the
CLI, because Linux carries the forking process's RSS into the child's ru_maxrss across exec.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import fnmatch
import hashlib
import json
import os
import random
import shlex
import shutil
import signal
import stat
import struct
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

import numpy as np

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:  # pragma: no cover
    sys.exit("bad_inputs.py needs the onnx package (pip install onnx)")

TIMEOUT_S = 60
MEM_LIMIT_MIB = 2048
CRASH_MARKERS = [
    "Fatal error",
    "Swift runtime failure",
    "precondition",
    "Illegal instruction",
    "Segmentation",
    "Can't read a value from a parsable argument definition",
    "Program crashed",
]
Fragment = Union[str, tuple]


@dataclass
class Case:
    id: str
    category: str
    args: list
    expect: str = "error"  # error | ok | either
    fragments: list = field(default_factory=list)
    note: str = ""
    # Files to place in the working directory first: name -> source path (copied) .
    copies: dict = field(default_factory=dict)
    # Symlinks in the working directory: name -> target.
    links: dict = field(default_factory=dict)
    # Extra setup in the working directory (empty dirs, ...).
    setup: Optional[Callable[[Path], None]] = None
    # Output paths the command names that lie outside the working directory.
    outputs: list = field(default_factory=list)
    # Globs (relative to the working directory) of outputs that may stay after a failure.
    complete: list = field(default_factory=list)
    # Send stdout to this file in the working directory (as `> FILE` would).
    stdout_file: Optional[str] = None
    # Checks output after exit 0 ("ok" and "either"): returns a problem or None.
    validate: Optional[Callable[[Path, str], Optional[str]]] = None
    mem_limit_mib: int = MEM_LIMIT_MIB
    timeout_s: int = TIMEOUT_S
    # Where fragments are looked for: "stderr" or "both" (stdout + stderr).
    fragments_in: str = "stderr"
    # Exit codes that mean "ran and produced a result"; diff also uses 3 (some layer differs).
    ok_codes: tuple = (0,)

    def __post_init__(self):
        if self.args and self.args[0] == "diff" and self.ok_codes == (0,):
            self.ok_codes = (0, 3)


# --------------------------------------------------------------------------------------------
# Encoders: protobuf wire format, PNG, .npy


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def pb_key(number: int, wire: int) -> bytes:
    return varint((number << 3) | wire)


def pb_varint(number: int, value: int) -> bytes:
    return pb_key(number, 0) + varint(value)


def pb_len(number: int, payload: bytes) -> bytes:
    return pb_key(number, 2) + varint(len(payload)) + payload


def pb_str(number: int, text: str) -> bytes:
    return pb_len(number, text.encode())


def pb_fields(buf: bytes) -> list:
    """Top-level fields of a message: (number, wire type, the field's bytes)."""
    fields, i = [], 0
    while i < len(buf):
        start = i
        k, shift = 0, 0
        while True:
            b = buf[i]; i += 1
            k |= (b & 0x7F) << shift; shift += 7
            if not b & 0x80:
                break
        number, wire = k >> 3, k & 7
        if wire == 0:
            while buf[i] & 0x80:
                i += 1
            i += 1
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            n, shift = 0, 0
            while True:
                b = buf[i]; i += 1
                n |= (b & 0x7F) << shift; shift += 7
                if not b & 0x80:
                    break
            i += n
        else:
            raise ValueError(f"wire type {wire}")
        fields.append((number, wire, buf[start:i]))
    return fields


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def make_png(width: int, height: int, depth: int, color: int, rows: Sequence[bytes], extra: Sequence[bytes] = (),
             interlace: int = 0) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, interlace)
    raw = b"".join(b"\x00" + r for r in rows)
    return (PNG_SIGNATURE + png_chunk(b"IHDR", ihdr) + b"".join(extra) + png_chunk(b"IDAT", zlib.compress(raw, 9))
            + png_chunk(b"IEND", b""))


def png_chunks(data: bytes) -> list:
    """(offset, length, type) of each chunk."""
    out, i = [], 8
    while i + 8 <= len(data):
        length = struct.unpack(">I", data[i:i + 4])[0]
        out.append((i, length, data[i + 4:i + 8]))
        i += 12 + length
    return out


def png_edit_ihdr(data: bytes, **fields) -> bytes:
    """Rewrites IHDR fields (width, height, depth, color, compression, filter, interlace), CRC fixed."""
    names = ["width", "height", "depth", "color", "compression", "filter", "interlace"]
    values = list(struct.unpack(">IIBBBBB", data[16:29]))
    for k, v in fields.items():
        values[names.index(k)] = v
    body = b"IHDR" + struct.pack(">IIBBBBB", *values)
    return data[:12] + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF) + data[33:]


def npy_bytes(header: str, payload: bytes = b"", version: int = 1, magic: bytes = b"\x93NUMPY") -> bytes:
    h = header.encode("latin1")
    pad = (64 - (len(magic) + 2 + (2 if version == 1 else 4) + len(h) + 1) % 64) % 64
    h = h + b" " * pad + b"\n"
    length = struct.pack("<H", len(h)) if version == 1 else struct.pack("<I", len(h))
    return magic + bytes([version, 0]) + length + h + payload


def jpeg_segments(data: bytes) -> list:
    """(offset, marker, segment length incl. the 2 marker bytes) up to SOS."""
    out, i = [], 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            break
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        out.append((i, marker, length + 2))
        if marker == 0xDA:
            break
        i += length + 2
    return out


# --------------------------------------------------------------------------------------------
# Validators for runs that exit 0


def _npy_files(cwd: Path) -> list:
    return sorted(p for p in cwd.rglob("*.npy") if p.is_file())


def no_nonfinite_maps(cwd: Path, stdout: str) -> Optional[str]:
    """Every .npy written holds finite values, and there is at least one."""
    files = _npy_files(cwd)
    if not files:
        return "exit 0 but no .npy map written"
    for p in files:
        try:
            a = np.load(p, allow_pickle=False)
        except Exception as e:  # noqa: BLE001
            return f"{p.name} is not a readable .npy: {e}"
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            share = float(np.isnan(a).mean())
            return f"exit 0 with non-finite values in {p.relative_to(cwd)} ({share:.0%} NaN)"
    return None


def strict_json(text: str):
    def bad(c):
        raise ValueError(f"non-standard JSON constant {c}")
    return json.loads(text, parse_constant=bad)


def json_stdout_finite(cwd: Path, stdout: str) -> Optional[str]:
    try:
        strict_json(stdout)
    except Exception as e:  # noqa: BLE001
        return f"exit 0 but --json stdout is not valid, finite JSON: {e}"
    return None


def json_and_maps_finite(cwd: Path, stdout: str) -> Optional[str]:
    return json_stdout_finite(cwd, stdout) or no_nonfinite_maps(cwd, stdout)


def no_nan_text(cwd: Path, stdout: str) -> Optional[str]:
    low = stdout.lower()
    if "nan" in low.replace("nanos", "") or "inf " in low:
        return "exit 0 but stdout shows NaN/inf scores"
    return None


def stdout_says_compared(cwd: Path, stdout: str) -> Optional[str]:
    if " 0 layers compared" in stdout or '"layers" : [\n\n  ]' in stdout or '"layers" : []' in stdout:
        return "exit 0 after comparing 0 layers"
    return None


def files_exist(*globs):
    def check(cwd: Path, stdout: str) -> Optional[str]:
        for g in globs:
            if not list(cwd.glob(g)):
                return f"exit 0 but nothing matches {g}"
        return None
    return check


# --------------------------------------------------------------------------------------------
# The corpus


class Corpus:
    def __init__(self, root: Path, shared: Path, repo: Path):
        self.root = root
        self.shared = shared
        self.repo = repo
        self.rng = random.Random(20240601)
        self.nrng = np.random.default_rng(20240601)
        self.cases: list = []
        self.ids: set = set()

    def path(self, rel: str) -> Path:
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def write(self, rel: str, data: bytes) -> str:
        p = self.path(rel)
        p.write_bytes(data)
        return str(p)

    def save_model(self, rel: str, model) -> str:
        return self.write(rel, model.SerializeToString())

    def save_npy(self, rel: str, array) -> str:
        p = self.path(rel)
        np.save(p, array, allow_pickle=False)
        return str(p)

    def random_bytes(self, n: int) -> bytes:
        return bytes(self.rng.getrandbits(8) for _ in range(n))

    def add(self, case: Case):
        assert case.id not in self.ids, case.id
        self.ids.add(case.id)
        self.cases.append(case)

    def shared_file(self, rel: str) -> str:
        p = self.shared / rel
        if not p.is_file():
            raise SystemExit(f"missing shared file {p}")
        return str(p)


def tiny_model(nodes, inits=(), inputs=(("x", [1, 1, 4, 4]),), outputs=(("y", None),), opset=13, ir=8,
               opset_imports=None, value_types=None):
    g = helper.make_graph(
        list(nodes), "bad_input_graph",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs],
        initializer=list(inits))
    m = helper.make_model(g, opset_imports=opset_imports or [helper.make_opsetid("", opset)],
                          producer_name="bad_inputs.py")
    m.ir_version = ir
    return m


def i64(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def f32(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.float32), name)


# --------------------------------------------------------------------------------------------
# Case definitions


def build(c: Corpus):
    S = c.shared
    MNIST = c.shared_file("models/winml_mnist.onnx")
    OPT_MNIST = c.shared_file("models/wonnx_opt-mnist.onnx")
    SQUEEZE16 = c.shared_file("models/winml_squeezenet1.1_fp16.onnx")
    SHAPES = str(c.repo / "samples/models/shapes.onnx")
    if not Path(SHAPES).is_file():
        raise SystemExit(f"missing {SHAPES}")
    IMG = c.shared_file("images/gradcam_both.png")  # 224x224 RGB
    CHELSEA = c.shared_file("images/skimage_chelsea.png")
    KITTEN = c.shared_file("images/winml_kitten_224.png")
    CAT_JPG = c.shared_file("images/winml_cat.jpg")
    MNIST_PNG = c.shared_file("images/winml_mnist_28.png")
    DIGIT3 = c.shared_file("images/wonnx_mnist_digit_3.jpg")
    DIGIT7 = c.shared_file("images/wonnx_mnist_digit_7.jpg")
    LABELS = c.shared_file("labels/imagenet_synset.txt")

    # Good tensors.
    X4 = c.save_npy("npy/x4.npy", np.ones((1, 1, 4, 4), np.float32))
    XS = c.save_npy("npy/shapes_input.npy", c.nrng.standard_normal((1, 3, 64, 64)).astype(np.float32))
    XM = c.save_npy("npy/mnist_input.npy", (c.nrng.random((1, 1, 28, 28)) * 255).astype(np.float32))

    if os.geteuid() == 0:
        # root writes through chmod 555; /sys refuses mkdir even to root.
        RO = "/sys/cnnviz-bad-input-readonly"
    else:
        ro = c.path("readonly/.keep").parent
        ro.chmod(0o555)
        RO = str(ro / "out")

    onnx_cases(c, MNIST, OPT_MNIST, SQUEEZE16, SHAPES, IMG, MNIST_PNG, X4, XS, XM)
    image_cases(c, IMG, CHELSEA, KITTEN, CAT_JPG, MNIST_PNG)
    npy_cases(c, XS, IMG)
    cli_cases(c, MNIST, SHAPES, IMG, MNIST_PNG, DIGIT3, DIGIT7, XS, XM, LABELS, RO)
    resource_cases(c, IMG)


def model_cmds(model: str, img: str, x4: str, xs: str):
    """Commands that load a model, rotated over the ONNX cases."""
    return [
        ["summary", "--model", model],
        ["predict", img, "--model", model],
        ["run", "--model", model, "--tensor", x4, "--out", "out"],
        ["gradcam", img, "--model", model, "--out", "out"],
        ["filters", "--model", model, "--out", "out"],
        ["activations", img, "--model", model, "--out", "out"],
        ["stats", img, "--model", model, "--html", "stats.html"],
        ["diff", img, "--model-b", model, "--html", "diff.html"],
        ["saliency", img, "--model", model, "--out", "out", "--json"],
        ["report", img, "--model", model, "--out", "out"],
    ]


def onnx_cases(c: Corpus, MNIST, OPT_MNIST, SQUEEZE16, SHAPES, IMG, MNIST_PNG, X4, XS, XM):
    cat = "onnx"
    rot = [0]

    def load_case(cid, path, frags, note, expect="error", cmd=None):
        name = os.path.basename(path)
        if cmd is None:
            cmds = model_cmds(path, IMG, X4, XS)
            cmd = cmds[rot[0] % len(cmds)]
            rot[0] += 1
        c.add(Case(cid, cat, cmd, expect, [name] + list(frags), note))

    # --- not a model at all
    load_case("onnx_empty", c.write("onnx/empty.onnx", b""), [], "0-byte model")
    for n in (1, 16, 1000, 65536):
        load_case(f"onnx_random_{n}", c.write(f"onnx/random_{n}.onnx", c.random_bytes(n)), [], f"{n} random bytes")
    load_case("onnx_zeros", c.write("onnx/zeros.onnx", b"\0" * 4096), [], "4096 zero bytes (field number 0)")
    load_case("onnx_png_as_model", c.write("onnx/picture.onnx", Path(MNIST_PNG).read_bytes()), [], "a PNG named .onnx")
    load_case("onnx_textproto", c.write("onnx/text.onnx", b'ir_version: 8\ngraph { name: "g" node { op_type: "Relu" } }\n'),
              [], "a text-format protobuf")
    npy_model = c.path("onnx/tensor_as_model.onnx")
    np.save(open(npy_model, "wb"), np.zeros((2, 2), np.float32))
    load_case("onnx_npy_as_model", str(npy_model), [], "a .npy named .onnx")
    load_case("onnx_missing_file", str(c.root / "onnx/no_such_model.onnx"), [], "the model path does not exist",
              cmd=["summary", "--model", str(c.root / "onnx/no_such_model.onnx")])
    d = c.path("onnx/dir_model.onnx/.keep"); d.write_bytes(b"")
    load_case("onnx_directory", str(d.parent), [], "the model path is a directory",
              cmd=["predict", IMG, "--model", str(d.parent)])
    loop = c.path("onnx/loop.onnx")
    if not loop.is_symlink():
        os.symlink("loop.onnx", loop)
    load_case("onnx_symlink_loop", str(loop), [], "a symlink to itself", cmd=["summary", "--model", str(loop)])

    # --- truncated real models
    data = Path(MNIST).read_bytes()
    n = len(data)
    for off in (1, 2, 7, 40, 300, 2000, n // 4, n // 2, (3 * n) // 4, n - 1):
        load_case(f"onnx_trunc_mnist_{off}", c.write(f"onnx/trunc/mnist_trunc_{off}.onnx", data[:off]), [],
                  f"winml_mnist.onnx cut to {off} of {n} bytes")
    sq = Path(SQUEEZE16).read_bytes()
    for off in (len(sq) // 3, len(sq) - 5):
        load_case(f"onnx_trunc_squeezenet_{off}", c.write(f"onnx/trunc/squeezenet_trunc_{off}.onnx", sq[:off]), [],
                  f"SqueezeNet fp16 cut to {off} of {len(sq)} bytes", cmd=["summary", "--model", str(c.root / f"onnx/trunc/squeezenet_trunc_{off}.onnx")])

    # --- wrong field types / malformed wire format (byte edits of winml_mnist.onnx)
    fields = pb_fields(data)
    def rebuild(replace: dict, extra: bytes = b"") -> bytes:
        out = b""
        for number, wire, raw in fields:
            if number in replace:
                out += replace[number]
                replace = {**replace, number: b""}  # replace once, drop repeats
            else:
                out += raw
        return out + extra
    load_case("onnx_irversion_as_string", c.write("onnx/wire/ir_version_string.onnx", rebuild({1: pb_str(1, "3")})), [],
              "ir_version (varint) encoded as a length-delimited string")
    load_case("onnx_graph_as_varint", c.write("onnx/wire/graph_varint.onnx", rebuild({7: pb_varint(7, 1)})), [],
              "graph (message) encoded as a varint")
    load_case("onnx_graph_as_fixed32", c.write("onnx/wire/graph_fixed32.onnx", rebuild({7: pb_key(7, 5) + b"\1\2\3\4"})), [],
              "graph (message) encoded as fixed32")
    load_case("onnx_opset_as_fixed64", c.write("onnx/wire/opset_fixed64.onnx", rebuild({8: pb_key(8, 1) + b"\7" + b"\0" * 7})), [],
              "opset_import (message) encoded as fixed64")
    graph = [raw for num, w, raw in fields if num == 7][0]
    gf = pb_fields_payload(graph)
    nodes_as_varints = b"".join(pb_varint(1, 7) if num == 1 else raw for num, w, raw in gf)
    load_case("onnx_nodes_as_varints", c.write("onnx/wire/nodes_varint.onnx", rebuild({7: pb_len(7, nodes_as_varints)})), [],
              "every graph.node (message) replaced by a varint")
    # initializer data_type (varint) as a string: the tensor loses its type
    def init_with(fn):
        out = b""
        for num, w, raw in gf:
            if num == 5:  # initializer
                out += pb_len(5, fn(pb_fields_payload(raw)))
            else:
                out += raw
        return out
    dt_str = init_with(lambda tf: b"".join(pb_str(2, "FLOAT") if n_ == 2 else r for n_, w_, r in tf))
    load_case("onnx_datatype_as_string", c.write("onnx/wire/datatype_string.onnx", rebuild({7: pb_len(7, dt_str)})), [],
              "every initializer's data_type encoded as a string")
    load_case("onnx_wiretype_7", c.write("onnx/wire/wiretype7.onnx", data[:40] + pb_key(3, 7) + data[40:]), [],
              "a field with the non-existent wire type 7")
    load_case("onnx_overlong_varint", c.write("onnx/wire/overlong_varint.onnx", b"\x08" + b"\xff" * 11 + b"\x01" + data), [],
              "an 11-byte varint")
    load_case("onnx_length_past_end", c.write("onnx/wire/length_past_end.onnx", data + pb_key(7, 2) + varint(1 << 40) + b"abc"), [],
              "a length prefix of 2^40 at the end")
    load_case("onnx_negative_length", c.write("onnx/wire/negative_length.onnx", data + pb_key(7, 2) + varint(-1) + b"abc"), [],
              "a length prefix of -1 (2^64-1)")
    load_case("onnx_unmatched_endgroup", c.write("onnx/wire/endgroup.onnx", pb_key(99, 4) + data), [],
              "an END_GROUP without a START_GROUP")

    # --- deeply nested protobuf
    def nested_graphs(depth):
        g = pb_str(2, "inner")
        for i in range(depth):
            attr = pb_str(1, "then_branch") + pb_varint(20, 5) + pb_len(6, g)
            node = pb_str(2, "o") + pb_str(4, "If") + pb_len(5, attr)
            g = pb_len(1, node) + pb_str(2, f"g{i % 10}")
        return pb_varint(1, 8) + pb_len(7, g) + pb_len(8, pb_varint(2, 13))
    load_case("onnx_nested_if_20000", c.write("onnx/deep/nested_if_20000.onnx", nested_graphs(20000)), [],
              "If subgraphs nested 20,000 deep", cmd=["summary", "--model", str(c.root / "onnx/deep/nested_if_20000.onnx")])
    load_case("onnx_nested_if_150", c.write("onnx/deep/nested_if_150.onnx", nested_graphs(150)), [],
              "If subgraphs nested 150 deep (near protobuf recursion limits)",
              cmd=["summary", "--model", str(c.root / "onnx/deep/nested_if_150.onnx")])
    t = pb_len(1, pb_varint(1, 1))  # tensor_type{elem_type FLOAT}
    for _ in range(50000):
        t = pb_len(4, pb_len(1, t))  # sequence_type{elem_type: t}
    vi = pb_str(1, "deep_input") + pb_len(2, t)
    deep_type = pb_varint(1, 8) + pb_len(7, pb_len(11, vi) + pb_len(12, vi) + pb_str(2, "g")) + pb_len(8, pb_varint(2, 13))
    load_case("onnx_nested_types_50000", c.write("onnx/deep/nested_types.onnx", deep_type), [],
              "a graph input whose TypeProto nests sequence types 50,000 deep",
              cmd=["summary", "--model", str(c.root / "onnx/deep/nested_types.onnx")])
    groups = pb_key(99, 3) * 200000 + pb_key(99, 4) * 200000
    load_case("onnx_nested_groups_200000", c.write("onnx/deep/nested_groups.onnx", data + groups), [],
              "an unknown field: 200,000 nested START_GROUPs",
              cmd=["summary", "--model", str(c.root / "onnx/deep/nested_groups.onnx")])

    # --- huge / negative declared dims, data length mismatches
    def relu_add(init, cid, frags, note, out_name="y"):
        m = tiny_model([helper.make_node("Add", ["x", init.name], [out_name], name="add_w")], [init])
        load_case(cid, c.save_model(f"onnx/dims/{cid}.onnx", m), frags, note)
    def raw_tensor(name, dims, raw, dtype=TensorProto.FLOAT):
        t = TensorProto(); t.name = name; t.data_type = dtype; t.dims.extend(dims); t.raw_data = raw
        return t
    relu_add(raw_tensor("W_huge", [1 << 62, 4], b""), "onnx_dims_2pow62", ["W_huge"], "initializer dims [2^62, 4], no data")
    relu_add(raw_tensor("W_overflow", [1 << 31, 1 << 31, 4], b"\0" * 16), "onnx_dims_product_overflow", ["W_overflow"],
             "initializer dims [2^31, 2^31, 4]: the product overflows Int64")
    relu_add(raw_tensor("W_2pow61", [1 << 61], b"\0" * 8), "onnx_dims_2pow61_bytes_overflow", ["W_2pow61"],
             "dims [2^61] float: count x 4 bytes overflows")
    relu_add(raw_tensor("W_neg", [-1, 16], b"\0" * 64), "onnx_dims_negative", ["W_neg"], "initializer dims [-1, 16]")
    relu_add(raw_tensor("W_short", [1, 1, 4, 4], b"\0" * 12), "onnx_raw_data_short", ["W_short"],
             "dims [1,1,4,4] float, raw_data 12 bytes")
    relu_add(raw_tensor("W_long", [1, 1, 4, 4], b"\0" * 100), "onnx_raw_data_long", ["W_long"],
             "dims [1,1,4,4] float, raw_data 100 bytes")
    relu_add(raw_tensor("W_half_odd", [1, 1, 4, 4], b"\0" * 31, TensorProto.FLOAT16), "onnx_raw_data_fp16_odd", ["W_half_odd"],
             "FLOAT16 dims [1,1,4,4], raw_data 31 bytes")
    t = TensorProto(); t.name = "W_fewfloats"; t.data_type = TensorProto.FLOAT; t.dims.extend([1, 1, 4, 4]); t.float_data.extend([1.0] * 5)
    relu_add(t, "onnx_float_data_count", ["W_fewfloats"], "dims [1,1,4,4], 5 float_data values")
    relu_add(raw_tensor("W_string", [1, 1, 4, 4], b"", TensorProto.STRING), "onnx_string_initializer", ["W_string"],
             "a STRING initializer")
    relu_add(raw_tensor("W_type999", [1, 1, 4, 4], b"\0" * 64, 999), "onnx_datatype_999", ["W_type999"], "data_type 999")
    relu_add(raw_tensor("W_undefined", [1, 1, 4, 4], b"\0" * 64, 0), "onnx_datatype_undefined", ["W_undefined"],
             "data_type 0 (UNDEFINED)")
    # graph inputs with huge / negative dims
    m = tiny_model([helper.make_node("Relu", ["x"], ["y"], name="relu_hugein")], inputs=[("x", [1, 1, 1 << 62, 28])])
    p = c.save_model("onnx/dims/input_dim_2pow62.onnx", m)
    load_case("onnx_input_dim_2pow62_summary", p, ["x"], "graph input dims [1,1,2^62,28]: summary sizes it",
              cmd=["summary", "--model", p])
    load_case("onnx_input_dim_2pow62_run", p, ["x"], "graph input dims [1,1,2^62,28], fed a [1,1,4,4] tensor",
              cmd=["run", "--model", p, "--tensor", X4, "--out", "out"])
    m = tiny_model([helper.make_node("Relu", ["x"], ["y"], name="relu_negin")], inputs=[("x", [1, 1, -5, 4])])
    p = c.save_model("onnx/dims/input_dim_negative.onnx", m)
    load_case("onnx_input_dim_negative", p, ["x"], "graph input dims [1,1,-5,4]", cmd=["summary", "--model", p])
    m = tiny_model([helper.make_node("Relu", ["x"], ["y"], name="relu_bigin")], inputs=[("x", [1, 3, 100000, 100000])])
    p = c.save_model("onnx/dims/input_1e10_pixels.onnx", m)
    c.add(Case("onnx_input_1e10_predict", cat, ["predict", IMG, "--model", p], "error", [("input_1e10_pixels.onnx", "'x'")],
               "input [1,3,100000,100000]: predict must not resize an image to it"))

    # --- external data
    def ext_model(cid, entries, weights: Optional[bytes] = b"\0" * 64, dims=(1, 1, 4, 4), location_file="weights.bin",
                  frags=(), note="", make_dir=False):
        folder = f"onnx/external/{cid}"
        t = TensorProto(); t.name = "W_ext"; t.data_type = TensorProto.FLOAT; t.dims.extend(dims)
        t.data_location = TensorProto.EXTERNAL
        for k, v in entries.items():
            e = t.external_data.add(); e.key = k; e.value = v
        m = tiny_model([helper.make_node("Add", ["x", "W_ext"], ["y"], name="add_ext")], [t])
        p = c.save_model(f"{folder}/model.onnx", m)
        if weights is not None:
            c.write(f"{folder}/{location_file}", weights)
        if make_dir:
            c.path(f"{folder}/{location_file}/.keep").write_bytes(b"")
        cmds = [["summary", "--model", p], ["run", "--model", p, "--tensor", X4, "--out", "out"]]
        load_case(cid, p, ["W_ext"] + list(frags), note, cmd=cmds[len(c.cases) % 2])
    c.write("onnx/external/outside.bin", b"\0" * 64)
    ext_model("onnx_ext_parent_dir", {"location": "../outside.bin"}, note="external data location ../outside.bin")
    ext_model("onnx_ext_absolute", {"location": "/etc/hostname"}, note="external data location /etc/hostname")
    ext_model("onnx_ext_missing_file", {"location": "missing_weights.bin"}, weights=None, frags=["missing_weights.bin"],
              note="external data file does not exist")
    ext_model("onnx_ext_offset_2pow63m1", {"location": "weights.bin", "offset": str((1 << 63) - 1), "length": "64"},
              note="external data offset 2^63-1")
    ext_model("onnx_ext_length_2pow63m1", {"location": "weights.bin", "offset": "0", "length": str((1 << 63) - 1)},
              note="external data length 2^63-1")
    ext_model("onnx_ext_offset_plus_length_overflow", {"location": "weights.bin", "offset": str(1 << 62), "length": str(1 << 62)},
              note="external data offset 2^62 + length 2^62 (sum 2^63)")
    ext_model("onnx_ext_offset_2pow63m1_nolength", {"location": "weights.bin", "offset": str((1 << 63) - 1)},
              note="external data offset 2^63-1, no length")
    ext_model("onnx_ext_offset_negative_max", {"location": "weights.bin", "offset": str(-(1 << 63))},
              note="external data offset -2^63, no length")
    ext_model("onnx_ext_offset_negative", {"location": "weights.bin", "offset": "-1", "length": "64"},
              note="external data offset -1")
    ext_model("onnx_ext_offset_2pow63", {"location": "weights.bin", "offset": str(1 << 63), "length": "64"},
              note="external data offset 2^63 (not an Int64)")
    ext_model("onnx_ext_offset_text", {"location": "weights.bin", "offset": "abc"}, note="external data offset 'abc'")
    ext_model("onnx_ext_size_mismatch", {"location": "weights.bin"}, weights=b"\0" * 20, note="external data file of 20 bytes for 64")
    ext_model("onnx_ext_huge_dims", {"location": "weights.bin"}, dims=(1 << 61,), note="external tensor dims [2^61]")
    ext_model("onnx_ext_location_is_dir", {"location": "wdir"}, weights=None, location_file="wdir", make_dir=True,
              note="external data location is a directory")
    ext_model("onnx_ext_no_location", {"offset": "0"}, note="external data without a location entry")

    # --- ops with huge or invalid sizes, run on a [1,1,4,4] tensor
    def op_case(cid, nodes, inits, frags, note, expect="error", inputs=(("x", [1, 1, 4, 4]),), opset=13, cmd="run", mem=None):
        m = tiny_model(nodes, inits, inputs=inputs, opset=opset)
        p = c.save_model(f"onnx/ops/{cid}.onnx", m)
        args = (["run", "--model", p, "--tensor", X4, "--out", "out"] if cmd == "run" else ["summary", "--model", p])
        case = Case(cid, cat, args, expect, list(frags), note)
        if mem:
            case.mem_limit_mib = mem
        c.add(case)
        return p
    W3 = f32("W3", np.ones((1, 1, 3, 3)))
    ct_nodes = [helper.make_node("ConvTranspose", ["x", "W3"], ["y"], name="deconv_huge", output_shape=[100000, 100000])]
    op_case("onnx_convtranspose_output_100000", ct_nodes, [W3], ["deconv_huge"],
            "ConvTranspose output_shape [100000,100000] (10^10 elements)")
    op_case("onnx_convtranspose_output_100000_summary", ct_nodes, [W3], [], "summary of that model: shapes only",
            expect="either", cmd="summary")
    op_case("onnx_convtranspose_output_full_1_1_100000_100000",
            [helper.make_node("ConvTranspose", ["x", "W3"], ["y"], name="deconv_huge4", output_shape=[1, 1, 100000, 100000])],
            [W3], ["deconv_huge4"], "ConvTranspose output_shape [1,1,100000,100000] (all four dims given)")
    op_case("onnx_convtranspose_stride_huge",
            [helper.make_node("ConvTranspose", ["x", "W3"], ["y"], name="deconv_stride", strides=[60000, 60000])],
            [W3], ["deconv_stride"], "ConvTranspose strides 60000 (output ~180000^2)")
    op_case("onnx_pad_huge", [helper.make_node("Pad", ["x", "pads"], ["y"], name="pad_huge")],
            [i64("pads", [0, 0, 50000, 50000, 0, 0, 50000, 50000])], ["pad_huge"], "Pad by 50000 on each side (10^10 elements)")
    op_case("onnx_pad_negative_huge", [helper.make_node("Pad", ["x", "pads"], ["y"], name="pad_neg")],
            [i64("pads", [0, 0, -50000, 0, 0, 0, 0, 0])], ["pad_neg"], "Pad by -50000 (negative output size)")
    op_case("onnx_resize_scales_huge", [helper.make_node("Resize", ["x", "", "scales"], ["y"], name="resize_scales")],
            [f32("scales", [1, 1, 30000, 30000])], ["resize_scales"], "Resize scales 30000 (1.4x10^10 elements)")
    op_case("onnx_resize_sizes_huge", [helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], name="resize_sizes")],
            [i64("sizes", [1, 1, 100000, 100000])], ["resize_sizes"], "Resize sizes [1,1,100000,100000]")
    op_case("onnx_resize_scales_inf", [helper.make_node("Resize", ["x", "", "scales"], ["y"], name="resize_inf")],
            [f32("scales", [1, 1, np.inf, np.nan])], ["resize_inf"], "Resize scales inf, nan")
    op_case("onnx_tile_huge", [helper.make_node("Tile", ["x", "repeats"], ["y"], name="tile_huge")],
            [i64("repeats", [1, 1, 30000, 30000])], ["tile_huge"], "Tile repeats 30000x30000")
    op_case("onnx_tile_overflow", [helper.make_node("Tile", ["x", "repeats"], ["y"], name="tile_overflow")],
            [i64("repeats", [1 << 40, 1 << 40, 1, 1])], ["tile_overflow"], "Tile repeats 2^40 x 2^40 (product overflows)")
    op_case("onnx_expand_huge", [helper.make_node("Expand", ["x", "shape"], ["y"], name="expand_huge")],
            [i64("shape", [100000, 100000, 4, 4])], ["expand_huge"], "Expand to [100000,100000,4,4]")
    op_case("onnx_expand_overflow", [helper.make_node("Expand", ["x", "shape"], ["y"], name="expand_overflow")],
            [i64("shape", [1 << 62, 1 << 62, 4, 4])], ["expand_overflow"], "Expand to [2^62, 2^62, 4, 4]")
    cos_nodes = lambda name, shape_name: [helper.make_node("ConstantOfShape", [shape_name], ["y"], name=name),
                                           helper.make_node("Relu", ["x"], ["unused"], name="relu_unused")]
    op_case("onnx_constantofshape_huge", cos_nodes("cos_huge", "shape"), [i64("shape", [100000, 100000, 100])],
            ["cos_huge"], "ConstantOfShape [100000,100000,100]")
    op_case("onnx_constantofshape_overflow", cos_nodes("cos_overflow", "shape"), [i64("shape", [1 << 62, 4])],
            ["cos_overflow"], "ConstantOfShape [2^62, 4] (byte count overflows)")
    op_case("onnx_constantofshape_negative", cos_nodes("cos_negative", "shape"), [i64("shape", [-1, 4])],
            ["cos_negative"], "ConstantOfShape [-1, 4]")
    op_case("onnx_range_huge",
            [helper.make_node("Range", ["start", "limit", "delta"], ["y"], name="range_huge"),
             helper.make_node("Relu", ["x"], ["unused"], name="relu_unused")],
            [f32("start", 0.0), f32("limit", 1e12), f32("delta", 1.0)], ["range_huge"], "Range(0, 1e12, 1)", opset=11)
    op_case("onnx_range_delta_zero",
            [helper.make_node("Range", ["start", "limit", "delta"], ["y"], name="range_zero"),
             helper.make_node("Relu", ["x"], ["unused"], name="relu_unused")],
            [f32("start", 0.0), f32("limit", 10.0), f32("delta", 0.0)], ["range_zero"], "Range with delta 0", opset=11)
    op_case("onnx_reshape_overflow", [helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape_overflow")],
            [i64("shape", [1 << 62, 4])], ["reshape_overflow"], "Reshape 16 elements to [2^62, 4]")
    op_case("onnx_reshape_two_minus_one", [helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape_2neg")],
            [i64("shape", [-1, -1])], ["reshape_2neg"], "Reshape to [-1, -1]")
    op_case("onnx_conv_stride_zero", [helper.make_node("Conv", ["x", "W3"], ["y"], name="conv_stride0", strides=[0, 0])],
            [W3], ["conv_stride0"], "Conv strides [0,0] (division by zero)")
    op_case("onnx_conv_stride_zero_summary", [helper.make_node("Conv", ["x", "W3"], ["y"], name="conv_stride0s", strides=[0, 0])],
            [W3], ["conv_stride0s"], "summary of a Conv with strides [0,0]", cmd="summary")
    op_case("onnx_conv_group_zero", [helper.make_node("Conv", ["x", "W3"], ["y"], name="conv_group0", group=0)],
            [W3], ["conv_group0"], "Conv group 0")
    op_case("onnx_conv_group_mismatch", [helper.make_node("Conv", ["x", "W3"], ["y"], name="conv_group3", group=3)],
            [W3], ["conv_group3"], "Conv group 3 on 1 channel")
    op_case("onnx_conv_dilation_huge", [helper.make_node("Conv", ["x", "W3"], ["y"], name="conv_dilated", dilations=[100000, 100000])],
            [W3], ["conv_dilated"], "Conv dilations 100000 (negative output size)")
    op_case("onnx_conv_weight_rank2", [helper.make_node("Conv", ["x", "W2d"], ["y"], name="conv_rank2")],
            [f32("W2d", np.ones((3, 3)))], ["conv_rank2"], "Conv weight of rank 2")
    op_case("onnx_maxpool_kernel_huge", [helper.make_node("MaxPool", ["x"], ["y"], name="pool_huge", kernel_shape=[100000, 100000])],
            [], ["pool_huge"], "MaxPool kernel 100000x100000 on 4x4")
    op_case("onnx_maxpool_kernel_huge_summary", [helper.make_node("MaxPool", ["x"], ["y"], name="pool_huge_s", kernel_shape=[100000, 100000])],
            [], ["pool_huge_s"], "summary of MaxPool kernel 100000x100000 on 4x4", cmd="summary")
    op_case("onnx_maxpool_pads_huge", [helper.make_node("MaxPool", ["x"], ["y"], name="pool_pads", kernel_shape=[2, 2],
                                                        pads=[60000, 60000, 60000, 60000])],
            [], ["pool_pads"], "MaxPool pads 60000 (output 120004^2)")
    op_case("onnx_gather_index_oob",
            [helper.make_node("Gather", ["x", "idx"], ["y"], name="gather_oob", axis=2)],
            [i64("idx", [1000])], ["gather_oob"], "Gather index 1000 on an axis of 4")
    op_case("onnx_gather_index_min",
            [helper.make_node("Gather", ["x", "idx"], ["y"], name="gather_min", axis=2)],
            [i64("idx", [-(1 << 63)])], ["gather_min"], "Gather index -2^63")
    op_case("onnx_slice_step_zero",
            [helper.make_node("Slice", ["x", "starts", "ends", "axes", "steps"], ["y"], name="slice_step0")],
            [i64("starts", [0]), i64("ends", [4]), i64("axes", [2]), i64("steps", [0])], ["slice_step0"], "Slice step 0")
    op_case("onnx_transpose_duplicate_perm", [helper.make_node("Transpose", ["x"], ["y"], name="transpose_dup", perm=[0, 0, 1, 2])],
            [], ["transpose_dup"], "Transpose perm [0,0,1,2]")
    op_case("onnx_transpose_perm_oob", [helper.make_node("Transpose", ["x"], ["y"], name="transpose_oob", perm=[0, 1, 2, 99])],
            [], ["transpose_oob"], "Transpose perm with axis 99")
    op_case("onnx_softmax_axis_99", [helper.make_node("Softmax", ["x"], ["y"], name="softmax_axis", axis=99)],
            [], ["softmax_axis"], "Softmax axis 99")
    op_case("onnx_concat_axis_99", [helper.make_node("Concat", ["x", "x"], ["y"], name="concat_axis", axis=99)],
            [], ["concat_axis"], "Concat axis 99")
    op_case("onnx_split_bad_sizes",
            [helper.make_node("Split", ["x", "split"], ["y", "z"], name="split_bad", axis=2)],
            [i64("split", [3, 3])], ["split_bad"], "Split [3,3] of an axis of 4")
    op_case("onnx_flatten_axis_99", [helper.make_node("Flatten", ["x"], ["y"], name="flatten_axis", axis=99)],
            [], ["flatten_axis"], "Flatten axis 99")

    # --- graph structure
    def struct_case(cid, model, frags, note, cmd_kind=None):
        p = c.save_model(f"onnx/graph/{cid}.onnx", model)
        load_case(cid, p, frags, note, cmd=(["summary", "--model", p] if cmd_kind == "summary"
                                            else ["run", "--model", p, "--tensor", X4, "--out", "out"] if cmd_kind == "run" else None))
    struct_case("onnx_cycle_self", tiny_model([helper.make_node("Add", ["x", "y"], ["y"], name="self_loop")]),
                ["self_loop"], "a node reading its own output")
    struct_case("onnx_cycle_two_nodes", tiny_model([helper.make_node("Add", ["x", "b"], ["a"], name="cycle_a"),
                                                    helper.make_node("Relu", ["a"], ["b"], name="cycle_b"),
                                                    helper.make_node("Relu", ["b"], ["y"], name="cycle_out")]),
                [("cycle_a", "cycle_b")], "a two-node cycle", "run")
    struct_case("onnx_duplicate_initializer", tiny_model([helper.make_node("Add", ["x", "W"], ["y"], name="add_dup")],
                                                         [f32("W", np.ones((1, 1, 4, 4))), f32("W", np.zeros((1, 1, 4, 4)))]),
                ["'W'"], "two initializers named W with different values", "run")
    struct_case("onnx_duplicate_node_output", tiny_model([helper.make_node("Relu", ["x"], ["y"], name="relu_first"),
                                                          helper.make_node("Sigmoid", ["x"], ["y"], name="sigmoid_second")]),
                ["'y'"], "two nodes writing y", "summary")
    struct_case("onnx_output_redefines_input", tiny_model([helper.make_node("Relu", ["x"], ["x"], name="relu_into_x"),
                                                           helper.make_node("Relu", ["x"], ["y"], name="relu_y")]),
                ["relu_into_x"], "a node output named like the graph input")
    struct_case("onnx_unknown_op", tiny_model([helper.make_node("FrobnicateConv", ["x"], ["y"], name="frob1")]),
                ["FrobnicateConv"], "an op that does not exist", "run")
    struct_case("onnx_custom_domain_op", tiny_model([helper.make_node("MyOp", ["x"], ["y"], name="custom1", domain="com.example")],
                                                    opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.example", 1)]),
                ["MyOp"], "an op of an unknown domain", "run")
    struct_case("onnx_op_newer_than_opset", tiny_model([helper.make_node("Gelu", ["x"], ["y"], name="gelu_early")], opset=13),
                ["Gelu"], "Gelu (opset 20) in an opset-13 model")
    struct_case("onnx_opset_99", tiny_model([helper.make_node("Relu", ["x"], ["y"], name="r")], opset=99), ["99"], "opset 99")
    struct_case("onnx_opset_0", tiny_model([helper.make_node("Relu", ["x"], ["y"], name="r")], opset=0), ["opset"], "opset 0")
    struct_case("onnx_ir_99", tiny_model([helper.make_node("Relu", ["x"], ["y"], name="r")], ir=99), ["99"], "IR version 99")
    struct_case("onnx_ir_negative", tiny_model([helper.make_node("Relu", ["x"], ["y"], name="r")], ir=-5), [], "IR version -5")
    m = tiny_model([helper.make_node("Relu", ["x"], ["y"], name="r")])
    del m.opset_import[:]
    struct_case("onnx_no_opset_import", m, ["opset"], "no opset_import at all")
    struct_case("onnx_missing_attr_cast_to", tiny_model([helper.make_node("Cast", ["x"], ["y"], name="cast_no_to")]),
                ["cast_no_to", "'to'"], "Cast without its required 'to'")
    struct_case("onnx_missing_attr_concat_axis", tiny_model([helper.make_node("Concat", ["x", "x"], ["y"], name="concat_no_axis")]),
                ["concat_no_axis", "axis"], "Concat without its required 'axis'", "run")
    struct_case("onnx_attr_wrong_type", tiny_model([helper.make_node("Conv", ["x", "W3"], ["y"], name="conv_float_kernel",
                                                                     kernel_shape=[3.0, 3.0])], [W3]),
                ["conv_float_kernel", "kernel_shape"], "Conv kernel_shape given as floats")
    struct_case("onnx_relu_two_inputs", tiny_model([helper.make_node("Relu", ["x", "x"], ["y"], name="relu_two")]),
                ["relu_two"], "a Relu with two inputs", "run")
    struct_case("onnx_relu_no_inputs", tiny_model([helper.make_node("Relu", [], ["y"], name="relu_none"),
                                                   helper.make_node("Relu", ["x"], ["unused"], name="relu_unused")]),
                ["relu_none"], "a Relu with no inputs")
    struct_case("onnx_empty_op_type", tiny_model([helper.make_node("", ["x"], ["y"], name="nameless_op")]),
                ["nameless_op"], "a node with an empty op_type")
    struct_case("onnx_no_outputs", tiny_model([helper.make_node("Relu", ["x"], ["y"], name="r")], outputs=[]),
                ["output"], "a graph with no outputs", "summary")
    struct_case("onnx_output_not_produced", tiny_model([helper.make_node("Relu", ["x"], ["y"], name="r")],
                                                       outputs=[("y", None), ("ghost_out", None)]),
                ["ghost_out"], "a graph output no node produces")
    struct_case("onnx_undefined_input", tiny_model([helper.make_node("Add", ["x", "phantom"], ["y"], name="add_phantom")]),
                ["phantom"], "a node input nobody defines", "run")
    struct_case("onnx_no_nodes", tiny_model([], outputs=[("y", None)]), ["y"], "a graph with no nodes whose output is undefined")
    g = helper.make_graph([helper.make_node("Identity", ["s"], ["y"], name="id_seq")], "g",
                          [helper.make_tensor_sequence_value_info("s", TensorProto.FLOAT, None)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]); m.ir_version = 8
    struct_case("onnx_sequence_input", m, ["'s'"], "a graph input of sequence type")

    # --- models whose weights hold NaN / Inf
    sm = onnx.load(SHAPES)
    for init in sm.graph.initializer:
        if init.name == "conv1.weight":
            a = numpy_helper.to_array(init).copy(); a[:] = np.nan
            init.CopyFrom(numpy_helper.from_array(a, init.name))
    NANM = c.save_model("onnx/nan/shapes_nan_weights.onnx", sm)
    sm = onnx.load(SHAPES)
    for init in sm.graph.initializer:
        if init.name == "dense1.weight":
            a = numpy_helper.to_array(init).copy(); a[0, 0] = np.inf; a[1, 0] = -np.inf
            init.CopyFrom(numpy_helper.from_array(a, init.name))
    INFM = c.save_model("onnx/nan/shapes_inf_weights.onnx", sm)
    c.add(Case("onnx_nan_weights_gradcam_json", cat, ["gradcam", IMG, "--model", NANM, "--out", "out", "--json"], "either",
               ["shapes_nan_weights.onnx", "nan"], "conv1.weight all NaN, gradcam --json: no NaN map, no half-written files",
               validate=json_and_maps_finite, stdout_file="manifest.json"))
    c.add(Case("onnx_nan_weights_saliency_json", cat, ["saliency", IMG, "--model", NANM, "--out", "out", "--json"], "either",
               ["shapes_nan_weights.onnx", "nan"], "conv1.weight all NaN, saliency --json", validate=json_and_maps_finite))
    c.add(Case("onnx_nan_weights_predict", cat, ["predict", IMG, "--model", NANM], "either",
               ["shapes_nan_weights.onnx", "nan"], "conv1.weight all NaN, predict: no NaN probabilities", validate=no_nan_text))
    c.add(Case("onnx_nan_weights_stats_json", cat, ["stats", IMG, "--model", NANM, "--json", "--html", "stats.html"], "either",
               ["nan"], "conv1.weight all NaN, stats --json --html", validate=json_stdout_finite))
    c.add(Case("onnx_nan_weights_report", cat, ["report", IMG, "--model", NANM, "--out", "out", "--json"], "either",
               ["nan"], "conv1.weight all NaN, report --json", validate=json_stdout_finite))
    c.add(Case("onnx_inf_weights_gradcam", cat, ["gradcam", IMG, "--model", INFM, "--out", "out", "--json"], "either",
               [("inf", "nan")], "dense1.weight holds ±inf: no NaN map", validate=json_and_maps_finite))
    c.add(Case("onnx_nan_weights_filters_json", cat, ["filters", "--model", NANM, "--out", "out", "--json"], "either",
               ["nan"], "filters of NaN weights --json", validate=json_stdout_finite))


def pb_fields_payload(field_bytes: bytes) -> list:
    """The fields inside one length-delimited field (key, length, payload)."""
    i = 0
    while field_bytes[i] & 0x80:
        i += 1
    i += 1
    while field_bytes[i] & 0x80:
        i += 1
    i += 1
    return pb_fields(field_bytes[i:])


def image_cases(c: Corpus, IMG, CHELSEA, KITTEN, CAT_JPG, MNIST_PNG):
    cat = "image"
    rot = [0]

    def cmds(p):
        return [
            ["predict", p],
            ["gradcam", p, "--out", "out"],
            ["stats", p, "--json"],
            ["report", p, "--out", "out"],
            ["activations", p, "--out", "out"],
            ["saliency", p, "--out", "out"],
            ["diff", p, IMG],
            ["summary", p],
        ]

    def img_case(cid, path, note, expect="error", frags=(), cmd=None, validate=None, mem=None):
        if cmd is None:
            options = cmds(path)
            cmd = options[rot[0] % len(options)]
            rot[0] += 1
        case = Case(cid, cat, cmd, expect, [os.path.basename(path)] + list(frags) if expect != "ok" else [], note,
                    validate=validate)
        if mem:
            case.mem_limit_mib = mem
        c.add(case)

    img_case("img_empty_png", c.write("img/empty.png", b""), "0-byte .png")
    img_case("img_empty_jpg", c.write("img/empty.jpg", b""), "0-byte .jpg")
    img_case("img_random_png", c.write("img/random.png", c.random_bytes(5000)), "random bytes named .png")
    img_case("img_random_jpg", c.write("img/random.jpg", c.random_bytes(5000)), "random bytes named .jpg")
    img_case("img_signature_only_png", c.write("img/signature_only.png", PNG_SIGNATURE), "just the PNG signature")
    img_case("img_text_png", c.write("img/notes.png", b"this is a text file, not a picture\n" * 20), "a text file named .png")
    d = c.path("img/folder.png/.keep"); d.write_bytes(b"")
    img_case("img_directory_png", str(d.parent), "a directory named .png", cmd=["predict", str(d.parent)])
    img_case("img_directory_png_gradcam", str(d.parent), "a directory named .png (gradcam)", cmd=["gradcam", str(d.parent), "--out", "out"])
    img_case("img_missing", str(c.root / "img/no_such_image.png"), "a path that does not exist",
             cmd=["gradcam", str(c.root / "img/no_such_image.png"), "--out", "out"])
    fifo = c.path("img/fifo.png")
    if not fifo.exists():
        os.mkfifo(fifo)
    img_case("img_fifo_png", str(fifo), "a FIFO named .png (reading it blocks forever)", cmd=["predict", str(fifo)])
    loop = c.path("img/loop.png")
    if not loop.is_symlink():
        os.symlink("loop.png", loop)
    img_case("img_symlink_loop", str(loop), "a symlink to itself", cmd=["predict", str(loop)])

    # truncated PNG / JPEG
    png = Path(CHELSEA).read_bytes()
    for off in (4, 8, 16, 33, 100, 1000, len(png) // 2, len(png) - 40):
        img_case(f"img_trunc_png_{off}", c.write(f"img/trunc/chelsea_{off}.png", png[:off]),
                 f"skimage_chelsea.png cut to {off} of {len(png)} bytes")
    small = Path(MNIST_PNG).read_bytes()
    for off in (50, len(small) - 20):
        img_case(f"img_trunc_mnistpng_{off}", c.write(f"img/trunc/mnist28_{off}.png", small[:off]),
                 f"winml_mnist_28.png cut to {off} of {len(small)} bytes")
    jpg = Path(CAT_JPG).read_bytes()
    for off in (2, 3, 20, 150, 600, 5000, len(jpg) // 2):
        img_case(f"img_trunc_jpg_{off}", c.write(f"img/trunc/cat_{off}.jpg", jpg[:off]),
                 f"winml_cat.jpg cut to {off} of {len(jpg)} bytes")
    # Only the 2-byte EOI marker missing: every scan is complete, and Pillow loads it too.
    img_case(f"img_trunc_jpg_no_eoi", c.write("img/trunc/cat_no_eoi.jpg", jpg[:-2]),
             "winml_cat.jpg without its EOI marker (Pillow loads it)", expect="either")

    # PNG header edits
    img_case("img_png_huge_100000", c.write("img/png/huge_100000.png", png_edit_ihdr(png, width=100000, height=100000)),
             "IHDR declares 100000x100000 (CRC fixed)")
    img_case("img_png_huge_2pow31", c.write("img/png/huge_2pow31.png", png_edit_ihdr(png, width=(1 << 31) - 1, height=(1 << 31) - 1)),
             "IHDR declares (2^31-1)^2")
    img_case("img_png_huge_4pow32", c.write("img/png/huge_u32.png", png_edit_ihdr(png, width=0xFFFFFFFF, height=0xFFFFFFFF)),
             "IHDR declares 4294967295^2 (beyond the PNG spec's 2^31-1)")
    img_case("img_png_side_32769", c.write("img/png/side_32769.png", png_edit_ihdr(png, width=32769, height=1)),
             "IHDR declares 32769x1 (over the side limit)")
    img_case("img_png_101mp", c.write("img/png/mp_101.png", png_edit_ihdr(png, width=10050, height=10050)),
             "IHDR declares 10050x10050 (101 MP, over the pixel limit)")
    img_case("img_png_zero_width", c.write("img/png/zero_width.png", png_edit_ihdr(png, width=0)), "IHDR width 0")
    img_case("img_png_8000_tiny_idat", c.write("img/png/big_tiny_idat.png", png_edit_ihdr(small, width=8000, height=8000)),
             "IHDR 8000x8000 (64 MP, within the limit) with the IDAT of a 28x28 image")
    img_case("img_png_bitdepth_3", c.write("img/png/bitdepth3.png", png_edit_ihdr(small, depth=3)), "IHDR bit depth 3")
    img_case("img_png_colortype_5", c.write("img/png/colortype5.png", png_edit_ihdr(small, color=5)), "IHDR colour type 5")
    img_case("img_png_compression_1", c.write("img/png/compression1.png", png_edit_ihdr(small, compression=1)), "IHDR compression 1")
    img_case("img_png_interlace_7", c.write("img/png/interlace7.png", png_edit_ihdr(small, interlace=7)), "IHDR interlace 7")
    bad = bytearray(png); bad[30] ^= 0xFF
    img_case("img_png_bad_ihdr_crc", c.write("img/png/bad_ihdr_crc.png", bytes(bad)), "IHDR CRC wrong")
    chunks = png_chunks(png)
    idat = [ch for ch in chunks if ch[2] == b"IDAT"][0]
    bad = bytearray(png); bad[idat[0] + 8 + idat[1] // 2] ^= 0x55
    img_case("img_png_bad_idat_crc", c.write("img/png/bad_idat_crc.png", bytes(bad)), "IDAT byte flipped, CRC now wrong")
    # IDAT with garbage deflate data but a correct CRC
    sc = png_chunks(small)
    sidat = [ch for ch in sc if ch[2] == b"IDAT"][0]
    garbage = c.random_bytes(sidat[1])
    fixed = small[:sidat[0]] + png_chunk(b"IDAT", garbage) + small[sidat[0] + 12 + sidat[1]:]
    img_case("img_png_garbage_deflate", c.write("img/png/garbage_deflate.png", fixed), "IDAT holds random bytes, CRC correct")
    short_idat = small[:sidat[0]] + png_chunk(b"IDAT", zlib.compress(b"\0" * 30)) + small[sidat[0] + 12 + sidat[1]:]
    img_case("img_png_short_idat", c.write("img/png/short_idat.png", short_idat), "IDAT inflates to 30 bytes of 28 rows")
    no_idat = small[:sidat[0]] + small[sidat[0] + 12 + sidat[1]:]
    img_case("img_png_no_idat", c.write("img/png/no_idat.png", no_idat), "no IDAT chunk")
    huge_len = bytearray(small); huge_len[sidat[0]:sidat[0] + 4] = struct.pack(">I", 0x7FFFFFF0)
    img_case("img_png_idat_length_huge", c.write("img/png/idat_len_huge.png", bytes(huge_len)), "IDAT length field 0x7FFFFFF0")
    bomb_rows = zlib.compress(b"\0" * (1 + 8000 * 3) * 8000, 9)
    img_case("img_png_decompression_bomb_declared_small",
             c.write("img/png/bomb_28.png", PNG_SIGNATURE + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 8, 2, 0, 0, 0))
                     + png_chunk(b"IDAT", bomb_rows) + png_chunk(b"IEND", b"")),
             "a 28x28 PNG whose IDAT inflates to 192 MB", expect="either")

    # JPEG marker edits
    segs = jpeg_segments(jpg)
    sof = [s for s in segs if s[1] in (0xC0, 0xC1, 0xC2)][0]
    def sof_edit(**kw):
        b = bytearray(jpg)
        o = sof[0] + 4
        if "precision" in kw: b[o] = kw["precision"]
        if "height" in kw: b[o + 1:o + 3] = struct.pack(">H", kw["height"])
        if "width" in kw: b[o + 3:o + 5] = struct.pack(">H", kw["width"])
        if "components" in kw: b[o + 5] = kw["components"]
        return bytes(b)
    img_case("img_jpg_sof_65535", c.write("img/jpg/sof_65535.jpg", sof_edit(height=65535, width=65535)), "SOF declares 65535x65535")
    img_case("img_jpg_sof_zero_width", c.write("img/jpg/sof_zero.jpg", sof_edit(width=0)), "SOF width 0")
    img_case("img_jpg_sof_12bit", c.write("img/jpg/sof_12bit.jpg", sof_edit(precision=12)), "SOF precision 12")
    img_case("img_jpg_sof_no_components", c.write("img/jpg/sof_0comp.jpg", sof_edit(components=0)), "SOF with 0 components")
    img_case("img_jpg_sof_200_components", c.write("img/jpg/sof_200comp.jpg", sof_edit(components=200)), "SOF with 200 components")
    img_case("img_jpg_no_sof", c.write("img/jpg/no_sof.jpg", jpg[:sof[0]] + jpg[sof[0] + sof[2]:]), "SOF segment removed")
    dqt = [s for s in segs if s[1] == 0xDB][0]
    b = bytearray(jpg); b[dqt[0] + 2:dqt[0] + 4] = b"\xff\xff"
    img_case("img_jpg_dqt_length_ffff", c.write("img/jpg/dqt_ffff.jpg", bytes(b)), "DQT length 0xFFFF")
    b = bytearray(jpg); b[dqt[0] + 2:dqt[0] + 4] = b"\x00\x00"
    img_case("img_jpg_dqt_length_0", c.write("img/jpg/dqt_0.jpg", bytes(b)), "DQT length 0")
    dht = [s for s in segs if s[1] == 0xC4][0]
    b = bytearray(jpg); b[dht[0] + 5:dht[0] + 21] = b"\xff" * 16
    img_case("img_jpg_dht_counts_ff", c.write("img/jpg/dht_ff.jpg", bytes(b)), "DHT code counts all 255")
    img_case("img_jpg_reserved_marker", c.write("img/jpg/reserved_marker.jpg", jpg[:2] + b"\xff\x02\x00\x04ab" + jpg[2:]),
             "a reserved marker FF02 after SOI")
    img_case("img_jpg_soi_eoi_only", c.write("img/jpg/soi_eoi.jpg", b"\xff\xd8\xff\xd9"), "SOI then EOI")
    sos = [s for s in segs if s[1] == 0xDA][0]
    b = bytearray(jpg); b[sos[0] + 4] = 4
    img_case("img_jpg_sos_component_count", c.write("img/jpg/sos_ncomp.jpg", bytes(b)), "SOS names 4 components of 3")
    b = bytearray(jpg)
    start = sos[0] + sos[2] + 1000
    b[start:start + 2000] = c.random_bytes(2000)
    img_case("img_jpg_corrupt_scan", c.write("img/jpg/corrupt_scan.jpg", bytes(b)), "2000 random bytes inside the scan",
             expect="either")

    # controls: PNG variants that README says are supported
    w = h = 32
    rows16 = [bytes((x * 8 + y) % 256 for x in range(w * 6)) for y in range(h)]
    img_case("img_ok_png_16bit_rgb", c.write("img/ok/rgb16.png", make_png(w, h, 16, 2, rows16)), "16-bit RGB PNG", expect="ok",
             cmd=["predict", str(c.root / "img/ok/rgb16.png")])
    plte = png_chunk(b"PLTE", bytes(v for i in range(16) for v in (i * 16, 255 - i * 16, (i * 40) % 256)))
    trns = png_chunk(b"tRNS", bytes(range(0, 256, 16)))
    rowsp = [bytes((x + y) % 16 for x in range(w)) for y in range(h)]
    img_case("img_ok_png_palette", c.write("img/ok/palette.png", make_png(w, h, 8, 3, rowsp, [plte, trns])),
             "palette PNG with tRNS", expect="ok", cmd=["gradcam", str(c.root / "img/ok/palette.png"), "--out", "out"],
             validate=files_exist("out/*.npy"))
    rowsga = [bytes(v for x in range(w) for v in ((x * 8) % 256, (y * 8) % 256)) for y in range(h)]
    img_case("img_ok_png_gray_alpha", c.write("img/ok/gray_alpha.png", make_png(w, h, 8, 4, rowsga)), "gray+alpha PNG",
             expect="ok", cmd=["predict", str(c.root / "img/ok/gray_alpha.png")])
    rowsga16 = [bytes((x * 3 + y) % 256 for x in range(w * 4)) for y in range(h)]
    img_case("img_ok_png_gray_alpha_16", c.write("img/ok/gray_alpha16.png", make_png(w, h, 16, 4, rowsga16)),
             "16-bit gray+alpha PNG", expect="ok", cmd=["stats", str(c.root / "img/ok/gray_alpha16.png")])
    rows1 = [bytes(((x + y) % 2) * 0xAA for x in range(w // 8)) for y in range(h)]
    img_case("img_ok_png_1bit_gray", c.write("img/ok/gray1.png", make_png(w, h, 1, 0, rows1)), "1-bit gray PNG",
             expect="ok", cmd=["predict", str(c.root / "img/ok/gray1.png")])
    img_case("img_ok_jpeg_named_png", c.write("img/ok/really_a_jpeg.png", jpg), "a JPEG named .png (decoded by signature)",
             expect="ok", cmd=["predict", str(c.root / "img/ok/really_a_jpeg.png")])
    img_case("img_ok_png_trailing_garbage", c.write("img/ok/trailing.png", small + c.random_bytes(100)),
             "a PNG with 100 random bytes after IEND", expect="either", cmd=["predict", str(c.root / "img/ok/trailing.png")])

    # several images, the second bad: the first one's outputs may stay, complete
    bad2 = str(c.root / "img/trunc/chelsea_1000.png")
    # gradcam runs a dataset: the bad image is recorded (exit 4), the good one's folder is whole
    c.add(Case("img_second_of_two_bad_gradcam", cat, ["gradcam", IMG, bad2, "--out", "out"], "error", ["chelsea_1000.png"],
               "gradcam good.png truncated.png --out out: the first image's folder stays whole, nothing of the second, exit 4",
               complete=["out/*gradcam_both*", "out/records.jsonl"] + RUN_INDEX))
    c.add(Case("img_second_of_two_bad_report", cat, ["report", IMG, bad2, "--out", "out"], "error", ["chelsea_1000.png"],
               "report good.png truncated.png: the first report (in its folder mirroring the tree) may stay, exit 4",
               complete=["out/*gradcam_both/report.html"]))
    c.add(Case("img_second_of_two_bad_predict_json", cat, ["predict", IMG, bad2, "--json"], "error", ["chelsea_1000.png"],
               "predict good.png truncated.png --json > out.json: no half-written JSON", stdout_file="out.json"))


# A dataset run's index of the images that did run (a failed one is a row with its reason).
RUN_INDEX = ["out/index.html", "out/index-rows.js", "out/aggregates.json"]


def npy_cases(c: Corpus, XS, IMG):
    cat = "npy"
    rot = [0]

    def cmds(p):
        return [
            ["run", "--tensor", p, "--out", "out"],
            ["gradcam", "--tensor", p, "--out", "out"],
            ["saliency", "--tensor", p, "--out", "out"],
            ["summary", "--tensor", p],
            ["activations", "--tensor", p, "--out", "out"],
            ["stats", "--tensor", p, "--json"],
            ["diff", "--tensor", p, "--tensor-b", XS],
        ]

    def npy_case(cid, data: Optional[bytes], note, frags=(), expect="error", cmd=None, array=None, validate=None):
        rel = f"npy/bad/{cid}.npy"
        p = c.write(rel, data) if data is not None else c.save_npy(rel, array)
        if cmd is None:
            options = cmds(p)
            cmd = options[rot[0] % len(options)]
            rot[0] += 1
        else:
            cmd = [p if a == "{}" else a for a in cmd]
        c.add(Case(cid, cat, cmd, expect, [os.path.basename(p)] + list(frags), note, validate=validate))

    good = Path(XS).read_bytes()
    payload = good[128:]
    hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 64, 64), }"
    npy_case("npy_empty", b"", "0-byte .npy")
    npy_case("npy_bad_magic", b"\x93NUMPZ" + good[6:], "magic \\x93NUMPZ")
    npy_case("npy_png_named_npy", Path(IMG).read_bytes()[:5000], "PNG bytes named .npy")
    npy_case("npy_truncated_header", good[:8], "8 bytes: magic and version only")
    npy_case("npy_header_length_past_end", good[:8] + b"\xff\xff" + b"{'descr'", "header length 65535 in a 18-byte file")
    npy_case("npy_version_9", npy_bytes(hdr, payload)[:6] + b"\x09\x00" + npy_bytes(hdr, payload)[8:], "format version 9")
    npy_case("npy_v2_header_4gb", b"\x93NUMPY\x02\x00" + struct.pack("<I", 0xFFFFFFF0) + b"{'descr': '<f4'}", "v2 header length 2^32-16")
    npy_case("npy_shape_huge", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", b"\0" * 64),
             "header shape (2^62, 4)")
    npy_case("npy_shape_overflow_product", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 8), }",
                                                     b"\0" * 64), "header shape (2^32, 2^32, 8): product overflows")
    npy_case("npy_shape_2pow63", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775808,), }", b""),
             "header shape (2^63,): not an Int64")
    npy_case("npy_shape_1e9_no_data", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 20000, 20000), }", b"\0" * 64),
             "header shape (1,3,20000,20000) = 4.8 GB, 64 bytes of data")
    npy_case("npy_shape_negative", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, -3, 64, 64), }", payload),
             "header shape (1,-3,64,64)")
    npy_case("npy_shape_text", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, three, 64, 64), }", payload),
             "header shape with a word")
    npy_case("npy_no_shape_key", npy_bytes("{'descr': '<f4', 'fortran_order': False, }", payload), "header without 'shape'")
    npy_case("npy_header_not_dict", npy_bytes("__import__('os').system('false')", payload), "header is a Python expression")
    npy_case("npy_header_binary", b"\x93NUMPY\x01\x00\x40\x00" + bytes(range(0x80, 0xC0)) + payload, "header of non-UTF-8 bytes")
    npy_case("npy_fortran_order", npy_bytes(hdr.replace("False", "True"), payload), "fortran_order True", ["fortran"])
    npy_case("npy_dtype_complex64", npy_bytes(hdr.replace("<f4", "<c8"), payload * 2), "dtype <c8", ["<c8"])
    npy_case("npy_dtype_object", npy_bytes(hdr.replace("<f4", "|O"), payload), "dtype |O (pickled objects)", ["|O"])
    npy_case("npy_dtype_big_endian", npy_bytes(hdr.replace("<f4", ">f4"), payload), "dtype >f4 (big-endian)", [">f4"])
    npy_case("npy_dtype_unicode", npy_bytes(hdr.replace("<f4", "<U4"), payload * 4), "dtype <U4", ["<U4"])
    npy_case("npy_dtype_structured", npy_bytes(hdr.replace("'<f4'", "[('a', '<f4'), ('b', '<i4')]"), payload * 2),
             "a structured dtype")
    npy_case("npy_data_short", npy_bytes(hdr, payload[:1000]), "shape (1,3,64,64) with 1000 bytes of data")
    npy_case("npy_data_empty", npy_bytes(hdr, b""), "shape (1,3,64,64) with no data")
    npy_case("npy_0d", None, "a 0-d array", array=np.float32(1.5), frags=[])
    npy_case("npy_rank3", None, "shape (3,64,64) for a [N,3,64,64] input", array=np.ones((3, 64, 64), np.float32),
             cmd=["run", "--tensor", "{}", "--out", "out"], frags=[("image", "rank", "[1, 3, 64, 64]", "[N, 3, 64, 64]", "64")])
    npy_case("npy_rank5", None, "shape (1,1,3,64,64)", array=np.ones((1, 1, 3, 64, 64), np.float32),
             cmd=["gradcam", "--tensor", "{}", "--out", "out"])
    npy_case("npy_wrong_channels", None, "shape (1,1,64,64) for a 3-channel input", array=np.ones((1, 1, 64, 64), np.float32),
             cmd=["run", "--tensor", "{}", "--out", "out"], frags=["image"])
    npy_case("npy_wrong_spatial", None, "shape (1,3,65,64) for a declared 64x64 input", array=np.ones((1, 3, 65, 64), np.float32),
             cmd=["run", "--tensor", "{}", "--out", "out"], frags=["image"])
    npy_case("npy_zero_batch", None, "shape (0,3,64,64)", array=np.ones((0, 3, 64, 64), np.float32),
             cmd=["gradcam", "--tensor", "{}", "--out", "out"])
    npy_case("npy_zero_spatial_saliency", None, "shape (1,3,0,0) to saliency occlusion", array=np.ones((1, 3, 0, 0), np.float32),
             cmd=["saliency", "--tensor", "{}", "--method", "occlusion", "--out", "out"])
    npy_case("npy_int64_input", None, "an int64 tensor for a float input", array=np.ones((1, 3, 64, 64), np.int64),
             cmd=["run", "--tensor", "{}", "--out", "out"], expect="either")
    npy_case("npy_trailing_bytes", npy_bytes(hdr, payload + b"\0" * 100), "100 bytes after the data", expect="either",
             cmd=["run", "--tensor", "{}", "--out", "out"])

    # NaN / Inf values
    a = np.load(XS)
    inf = a.copy(); inf[0, 0, 10:20, 10:20] = np.inf; inf[0, 1, 30, 30] = -np.inf
    nan = a.copy(); nan[0, :, 5, 5] = np.nan
    allinf = np.full_like(a, np.inf)
    pinf = c.save_npy("npy/bad/inf_values.npy", inf)
    pnan = c.save_npy("npy/bad/nan_values.npy", nan)
    pall = c.save_npy("npy/bad/all_inf.npy", allinf)
    for cid, cmd, frags in [
        ("npy_inf_saliency", ["saliency", "--tensor", pinf, "--out", "out"], [("inf", "inf_values.npy")]),
        ("npy_inf_saliency_ig", ["saliency", "--tensor", pinf, "--method", "integrated-gradients", "--steps", "4", "--out", "out"],
         [("inf", "inf_values.npy")]),
        ("npy_inf_saliency_smoothgrad", ["saliency", "--tensor", pinf, "--noise", "smoothgrad", "--samples", "4", "--out", "out"],
         [("inf", "inf_values.npy")]),
        ("npy_allinf_saliency", ["saliency", "--tensor", pall, "--out", "out"], [("inf", "all_inf.npy")]),
        ("npy_inf_gradcam", ["gradcam", "--tensor", pinf, "--out", "out"], [("inf", "inf_values.npy")]),
        ("npy_nan_gradcam", ["gradcam", "--tensor", pnan, "--out", "out", "--json"], [("nan", "nan_values.npy")]),
        ("npy_nan_saliency_occlusion", ["saliency", "--tensor", pnan, "--method", "occlusion", "--out", "out"],
         [("nan", "nan_values.npy")]),
    ]:
        c.add(Case(cid, cat, cmd, "either", frags, "non-finite input: must not exit 0 with a NaN map", validate=no_nonfinite_maps))
    c.add(Case("npy_nan_stats_json", cat, ["stats", "--tensor", pnan, "--json"], "either", [("nan", "nan_values.npy")],
               "stats --json on NaN input: the JSON must be valid (no bare NaN)", validate=json_stdout_finite))
    c.add(Case("npy_nan_run", cat, ["run", "--tensor", pnan, "--out", "out"], "either", [("nan", "nan_values.npy")],
               "run on NaN input (a raw tool: NaN out is acceptable; no crash)"))
    c.add(Case("npy_inf_diff_json", cat, ["diff", "--tensor", pinf, "--tensor-b", XS, "--json"], "either",
               [("inf", "inf_values.npy")], "diff --json with an Inf input: the JSON must be valid", validate=json_stdout_finite))


def reference_folder(shape):
    """Setup: ref/logits.npy of zeros of this shape."""
    def setup(cwd: Path):
        (cwd / "ref").mkdir()
        np.save(cwd / "ref" / "logits.npy", np.zeros(shape, np.float32))
    return setup


def cli_cases(c: Corpus, MNIST, SHAPES, IMG, MNIST_PNG, DIGIT3, DIGIT7, XS, XM, LABELS, RO):
    cat = "cli"
    ro_name = os.path.basename(RO) if RO.startswith("/sys") else "out"

    def add(cid, args, frags, note, expect="error", **kw):
        c.add(Case(cid, cat, args, expect, list(frags), note, **kw))

    # unknown / missing options and subcommands
    add("cli_unknown_subcommand", ["frobnicate"], ["frobnicate"], "unknown subcommand")
    add("cli_unknown_option_gradcam", ["gradcam", IMG, "--frobnicate", "--out", "out"], ["--frobnicate"], "unknown option")
    add("cli_unknown_option_run", ["run", "--tensor", XS, "--bogus-flag"], ["--bogus-flag"], "unknown option")
    add("cli_unknown_option_summary", ["summary", "--modle", SHAPES], ["--modle"], "misspelt --model")
    add("cli_no_arguments_predict", ["predict"], ["image"], "predict with no image")
    add("cli_no_arguments_report", ["report"], ["image"], "report with no image")
    add("cli_no_input_run", ["run"], ["--tensor"], "run without --tensor/--feed")
    add("cli_no_input_gradcam", ["gradcam", "--out", "out"], [("image", "--tensor")], "gradcam without images")
    add("cli_no_directory_conformance", ["conformance"], ["directory"], "conformance without its directory")
    add("cli_missing_value_class", ["gradcam", IMG, "--class"], ["--class"], "--class with no value")
    add("cli_missing_value_out", ["gradcam", IMG, "--out"], ["--out"], "--out with no value")
    add("cli_diff_one_input", ["diff", IMG], ["--model-b"], "diff with one image and no --model-b/--against")

    # numeric options
    sal = ["saliency", IMG, "--out", "out"]
    add("cli_sigma_inf", sal + ["--noise", "smoothgrad", "--sigma", "inf"], ["--sigma"], "--sigma inf")
    add("cli_sigma_nan", sal + ["--noise", "smoothgrad", "--sigma", "nan"], ["--sigma"], "--sigma nan")
    add("cli_sigma_negative", sal + ["--noise", "smoothgrad", "--sigma=-1"], ["--sigma"], "--sigma -1")
    add("cli_sigma_fraction_huge", sal + ["--noise", "smoothgrad", "--sigma", "1e308", "--samples", "2"], ["--sigma"],
        "--sigma 1e308 (noise overflows to inf)", expect="either", validate=no_nonfinite_maps)
    add("cli_steps_0", sal + ["--method", "integrated-gradients", "--steps", "0"], ["--steps"], "--steps 0")
    add("cli_steps_negative", sal + ["--method", "integrated-gradients", "--steps=-5"], ["--steps"], "--steps -5")
    add("cli_steps_overflow", sal + ["--method", "integrated-gradients", "--steps", "99999999999999999999"], ["--steps"],
        "--steps beyond Int64")
    add("cli_steps_huge", sal + ["--method", "integrated-gradients", "--steps", "1000000000"], ["--steps"],
        "--steps 10^9 (must be refused or bounded, not allocate 10^9 inputs)", expect="either")
    add("cli_samples_0", sal + ["--noise", "smoothgrad", "--samples", "0"], ["--samples"], "--samples 0")
    add("cli_batch_size_0_saliency", sal + ["--batch-size", "0"], ["--batch-size"], "saliency --batch-size 0")
    add("cli_batch_size_0_gradcam", ["gradcam", IMG, "--method", "scorecam", "--batch-size", "0", "--out", "out"], ["--batch-size"],
        "gradcam --batch-size 0")
    add("cli_batch_size_1e6_gradcam", ["gradcam", IMG, "--method", "scorecam", "--batch-size", "1000000", "--out", "out"],
        ["--batch-size"], "scorecam --batch-size 10^6: must bound the batch (memory) or refuse", expect="either",
        validate=no_nonfinite_maps)
    add("cli_batch_size_1e6_saliency", sal + ["--method", "integrated-gradients", "--steps", "8", "--batch-size", "1000000"],
        ["--batch-size"], "integrated gradients --batch-size 10^6", expect="either", validate=no_nonfinite_maps)
    add("cli_batch_size_0_shapes_eval", ["shapes", "eval", "--count", "4", "--pairs", "2", "--batch-size", "0"], ["--batch-size"],
        "shapes eval --batch-size 0")
    add("cli_window_0", sal + ["--method", "occlusion", "--window", "0"], ["--window"], "--window 0")
    add("cli_stride_0", sal + ["--method", "occlusion", "--stride", "0"], ["--stride"], "--stride 0")
    add("cli_window_0x5", sal + ["--method", "occlusion", "--window", "0x5"], ["--window"], "--window 0x5")
    add("cli_stride_negative", sal + ["--method", "occlusion", "--stride=-8"], ["--stride"], "--stride -8")
    add("cli_window_text", sal + ["--method", "occlusion", "--window", "big"], ["--window"], "--window big")
    add("cli_window_larger_than_image", sal + ["--method", "occlusion", "--window", "100000"], ["--window"],
        "--window 100000 on a 64x64 input", expect="either", validate=no_nonfinite_maps)
    add("cli_class_99999", ["gradcam", IMG, "--class", "99999", "--out", "out"], ["99999"], "--class 99999 of 6 classes")
    add("cli_class_minus_1", ["gradcam", IMG, "--class", "-1", "--out", "out"], [("--class", "-1")], "--class -1")
    add("cli_class_minus_1_equals", ["saliency", IMG, "--class=-1", "--out", "out"], ["-1"], "--class=-1")
    add("cli_class_unknown_label", ["gradcam", IMG, "--class", "dodecahedron", "--out", "out"], ["dodecahedron"],
        "--class with a label the model does not have")
    add("cli_class_int_overflow", ["gradcam", IMG, "--class", "9223372036854775807", "--out", "out"], ["9223372036854775807"],
        "--class Int64.max")
    add("cli_top_0", ["predict", IMG, "--top", "0"], ["--top"], "predict --top 0")
    add("cli_top_huge", ["predict", IMG, "--top", "1000000"], [], "predict --top 10^6 (of 6 classes)", expect="either")
    add("cli_gradcam_top_huge", ["gradcam", IMG, "--top", "1000", "--out", "out"], ["--top"], "gradcam --top 1000 of 6 classes",
        expect="either")
    add("cli_repeat_negative", ["run", "--tensor", XS, "--repeat=-1"], ["--repeat"], "--repeat -1")
    add("cli_image_weight_2", ["gradcam", IMG, "--image-weight", "2", "--out", "out"], ["--image-weight"], "--image-weight 2")
    add("cli_image_weight_nan", ["gradcam", IMG, "--image-weight", "nan", "--out", "out"], ["--image-weight"], "--image-weight nan")
    add("cli_atol_negative", ["diff", IMG, MNIST_PNG, "--atol=-1"], ["--atol"], "diff --atol -1")
    add("cli_atol_nan", ["diff", IMG, MNIST_PNG, "--atol", "nan"], ["--atol"], "diff --atol nan")
    add("cli_rtol_inf", ["diff", IMG, MNIST_PNG, "--rtol", "inf"], ["--rtol"], "diff --rtol inf (everything passes)",
        expect="either")
    add("cli_channels_0", ["activations", IMG, "--channels", "0", "--out", "out"], ["--channels"], "activations --channels 0")
    add("cli_size_0", ["predict", IMG, "--size", "0"], ["--size"], "--size 0")
    add("cli_size_0x0", ["predict", IMG, "--size", "0x0"], ["--size"], "--size 0x0")
    add("cli_size_huge", ["predict", IMG, "--size", "100000", "--crop", "64"], ["--size"],
        "--size 100000 (a 100000^2 resize before a 64 crop): refuse or stay under the memory limit", expect="either")
    add("cli_crop_larger", ["predict", IMG, "--crop", "99999"], ["--crop"], "--crop 99999 on a 224 image")
    add("cli_mean_count", ["predict", IMG, "--mean", "1,2"], ["--mean"], "--mean with 2 values for 3 channels")
    add("cli_std_zero", ["predict", IMG, "--std", "0"], ["--std"], "--std 0 (division by zero)")
    add("cli_scale_div0", ["predict", IMG, "--scale", "1/0"], ["--scale"], "--scale 1/0")
    add("cli_scale_text", ["predict", IMG, "--scale", "abc"], ["--scale"], "--scale abc")
    add("cli_preprocess_unknown", ["predict", IMG, "--preprocess", "nosuchpreset"], ["nosuchpreset"], "--preprocess nosuchpreset")
    add("cli_format_unknown", ["gradcam", IMG, "--format", "bmp", "--out", "out"], ["bmp"], "--format bmp")
    add("cli_colormap_unknown", ["gradcam", IMG, "--colormap", "rainbowish", "--out", "out"], ["rainbowish"], "--colormap rainbowish")
    add("cli_method_unknown", ["gradcam", IMG, "--method", "nosuchcam", "--out", "out"], ["nosuchcam"], "--method nosuchcam")
    add("cli_saliency_method_unknown", sal + ["--method", "nosuchmethod"], ["nosuchmethod"], "saliency --method nosuchmethod")
    add("cli_box_inverted", ["gradcam", IMG, "--box", "50,50,10,10", "--out", "out"], [("--box", "box")], "--box x1 < x0 (for this [N,6] model any box is refused)")
    add("cli_box_three_numbers", ["gradcam", IMG, "--box", "1,2,3", "--out", "out"], ["--box"], "--box with 3 numbers")
    add("cli_index_out_of_range", ["gradcam", IMG, "--index", "99,99", "--out", "out"], ["99"], "--index 99,99 on [N,6]")
    add("cli_input_shape_zero", ["summary", "--input-shape", "0x3x64x64"], ["--input-shape"], "--input-shape 0x3x64x64")
    add("cli_input_shape_unknown_input", ["summary", "--input-shape", "nosuchinput=1x3x64x64"], ["nosuchinput"],
        "--input-shape for an input that does not exist")
    add("cli_input_shape_huge", ["summary", "--input-shape", "1x3x100000x100000"], ["--input-shape"],
        "summary at 1x3x100000x100000 (shapes only; must not allocate)", expect="either")
    add("cli_input_shape_overflow", ["summary", "--input-shape", "4294967296x4294967296x3x64"], ["--input-shape"],
        "summary at a shape whose element count overflows")

    # names that do not exist
    add("cli_layer_nosuch_gradcam", ["gradcam", IMG, "--layer", "nosuchlayer", "--out", "out"], ["nosuchlayer"], "--layer nosuchlayer")
    add("cli_layer_nosuch_activations", ["activations", IMG, "--layer", "nosuchlayer", "--out", "out"], ["nosuchlayer"],
        "activations --layer nosuchlayer")
    add("cli_layer_nosuch_report", ["report", IMG, "--layer", "nosuchlayer", "--out", "out"], ["nosuchlayer"],
        "report --layer nosuchlayer")
    add("cli_layer_nosuch_guided_gradcam", sal + ["--method", "guided-gradcam", "--layer", "nosuchlayer"], ["nosuchlayer"],
        "saliency guided-gradcam --layer nosuchlayer")
    add("cli_layer_nosuch_filters", ["filters", "--model", SHAPES, "--layer", "nosuchlayer", "--out", "out"], ["nosuchlayer"],
        "filters --layer nosuchlayer")
    add("cli_layer_nosuch_visualize", ["visualize", "--model", SHAPES, "--layer", "nosuchlayer", "--steps", "1", "--out", "out"], ["nosuchlayer"],
        "visualize --layer nosuchlayer")
    add("cli_visualize_channel_range", ["visualize", "--model", SHAPES, "--layer", "relu4", "--channels", "64", "--steps", "1", "--out", "out"],
        ["out of range"], "visualize --channels past the layer's 64")
    add("cli_visualize_huge_image", ["visualize", "--model", SHAPES, "--layer", "relu4", "--image-size", "100000", "--steps", "1", "--out", "out"],
        ["2048"], "visualize --image-size 100000: an error, not an allocation of (2·side)² floats")
    add("cli_visualize_bad_transforms", ["visualize", "--model", SHAPES, "--layer", "relu4", "--transforms", "scale=0:1:0", "--steps", "1", "--out", "out"],
        ["--transforms"], "visualize --transforms with a zero step")
    add("cli_visualize_direction_length", ["visualize", "--model", SHAPES, "--layer", "relu4", "--direction", XS, "--steps", "1", "--out", "out"],
        ["relu4"], "visualize --direction with a vector of the wrong length")
    add("cli_visualize_examples_missing", ["visualize", "--model", SHAPES, "--layer", "relu4", "--examples", "missing_folder", "--steps", "1", "--out", "out"],
        ["missing_folder"], "visualize --examples over a folder that does not exist")
    add("cli_visualize_missing_checkpoint", ["visualize", "--model", SHAPES, "--layer", "relu4", "--checkpoint", "missing_epoch.onnx", "--steps", "1", "--out", "out"],
        ["missing_epoch.onnx"], "visualize --checkpoint that does not exist: nothing written")
    add("cli_visualize_negative_steps", ["visualize", "--model", SHAPES, "--layer", "relu4", "--steps", "-3", "--out", "out"],
        ["--steps"], "visualize --steps -3")
    add("cli_layer_not_spatial", ["gradcam", IMG, "--layer", "logits", "--out", "out"], ["logits"],
        "gradcam --layer on the [N,6] logits", expect="either", validate=no_nonfinite_maps)
    add("cli_output_nosuch_gradcam", ["gradcam", IMG, "--output", "nosuchtensor", "--out", "out"], ["nosuchtensor"],
        "gradcam --output nosuchtensor")
    add("cli_output_nosuch_run", ["run", "--tensor", XS, "--output", "nosuchtensor", "--out", "out"], ["nosuchtensor"],
        "run --output nosuchtensor")
    add("cli_output_second_nosuch_run", ["run", "--tensor", XS, "--output", "logits", "--output", "nosuchtensor", "--out", "out"],
        ["nosuchtensor"], "run --output logits --output nosuchtensor: no logits.npy left behind")
    add("cli_feed_nosuch_input", ["run", "--feed", f"nosuchinput={XS}", "--out", "out"], ["nosuchinput"], "run --feed nosuchinput=X.npy")
    add("cli_feed_no_equals", ["run", "--feed", XS, "--out", "out"], ["--feed"], "run --feed without NAME=")
    add("cli_feed_missing_file", ["run", "--feed", "image=missing_tensor.npy", "--out", "out"], ["missing_tensor.npy"],
        "run --feed image=missing_tensor.npy")
    add("cli_feed_twice", ["run", "--feed", f"image={XS}", "--feed", f"image={XS}", "--out", "out"], ["image"],
        "the same input fed twice", expect="either")
    add("cli_backward_no_colon", ["run", "--tensor", XS, "--backward", "logits", "--wrt", "input", "--out", "out"], ["--backward"],
        "--backward without :INDEX")
    add("cli_backward_class_oob", ["run", "--tensor", XS, "--backward", "logits:99999", "--wrt", "input", "--out", "out"], ["99999"],
        "--backward logits:99999")
    add("cli_backward_unknown_output", ["run", "--tensor", XS, "--backward", "nosuchtensor:1", "--wrt", "input", "--out", "out"],
        ["nosuchtensor"], "--backward on a tensor that does not exist")
    add("cli_wrt_nosuch", ["run", "--tensor", XS, "--backward", "logits:1", "--wrt", "nosuchparam", "--out", "out"], ["nosuchparam"],
        "--wrt nosuchparam")
    add("cli_labels_missing", ["predict", IMG, "--labels", "no_such_labels.txt"], ["no_such_labels.txt"], "--labels missing file")
    add("cli_labels_binary", ["predict", IMG, "--labels", str(c.root / "img/random.png")], ["random.png"],
        "--labels is a binary file", expect="either")
    add("cli_labels_wrong_count", ["predict", IMG, "--labels", LABELS], ["imagenet_synset.txt"],
        "1000 ImageNet labels for a 6-class model", expect="either")
    add("cli_mask_missing", ["gradcam", IMG, "--mask", "no_such_mask.png", "--out", "out"], [("no_such_mask.png", "--mask")],
        "--mask missing file")
    add("cli_cotangent_wrong_shape", ["gradcam", IMG, "--cotangent", XS, "--out", "out"], [("shapes_input.npy", "--cotangent")],
        "--cotangent of the wrong shape")
    add("cli_similar_to_missing", ["gradcam", IMG, "--similar-to", "no_such_ref.npy", "--out", "out"], ["no_such_ref.npy"],
        "--similar-to missing file")
    add("cli_baseline_missing", sal + ["--method", "integrated-gradients", "--baseline", "no_such_baseline.npy"],
        ["no_such_baseline.npy"], "--baseline missing .npy")
    add("cli_baseline_wrong_shape", sal + ["--method", "integrated-gradients", "--baseline", XM], [("mnist_input.npy", "baseline")],
        "--baseline of shape [1,1,28,28] for a [1,3,64,64] input")
    add("cli_display_image_without_tensor", ["gradcam", IMG, "--display-image", IMG, "--out", "out"], ["--display-image"],
        "--display-image without --tensor")
    add("cli_display_image_bad", ["gradcam", "--tensor", XS, "--display-image", str(c.root / "img/empty.png"), "--out", "out"],
        ["empty.png"], "--display-image is an empty file")

    # output paths that are inputs
    add("cli_stats_html_is_input", ["stats", "in.png", "--html", "in.png"], ["in.png"], "stats in.png --html in.png",
        copies={"in.png": IMG})
    add("cli_stats_html_is_input_symlink", ["stats", "in.png", "--html", "alias.html"], [("alias.html", "in.png")],
        "stats in.png --html alias.html, alias.html a symlink to in.png", copies={"in.png": IMG}, links={"alias.html": "in.png"})
    add("cli_diff_html_is_model", ["diff", "a.jpg", "b.jpg", "--model", "m.onnx", "--html", "m.onnx"], ["m.onnx"],
        "diff a b --model m.onnx --html m.onnx", copies={"a.jpg": DIGIT3, "b.jpg": DIGIT7, "m.onnx": MNIST})
    add("cli_diff_html_is_image", ["diff", "a.jpg", "b.jpg", "--model", "m.onnx", "--html", "a.jpg"], ["a.jpg"],
        "diff a b --html a.jpg", copies={"a.jpg": DIGIT3, "b.jpg": DIGIT7, "m.onnx": MNIST})
    add("cli_gradcam_out_is_image", ["gradcam", "img.png", "--out", "img.png"], ["img.png"], "gradcam img.png --out img.png",
        copies={"img.png": IMG})
    add("cli_gradcam_writes_over_input", ["gradcam", "gradcam.html", "--out", "."], ["gradcam.html"],
        "the input image is named gradcam.html and --out is its folder: the page would replace it", copies={"gradcam.html": IMG})
    add("cli_activations_writes_over_input", ["activations", "activations.html", "--out", "."], ["activations.html"],
        "the input image is named activations.html in the --out folder", copies={"activations.html": IMG})
    add("cli_run_output_over_tensor", ["run", "--tensor", "relu1.npy", "--output", "relu1", "--out", "."], ["relu1.npy"],
        "the input tensor is relu1.npy; run --output relu1 --out . writes relu1.npy", copies={"relu1.npy": XS})
    add("cli_run_input_echo_over_tensor", ["run", "--tensor", "image.npy", "--output", "image", "--out", "."], ["image.npy"],
        "run --tensor image.npy --output image --out . rewrites its own input file", copies={"image.npy": XS})
    add("cli_activations_layer_over_tensor", ["activations", "--tensor", "conv1.npy", "--layer", "conv1", "--out", "."],
        ["conv1.npy"], "the input tensor is conv1.npy; activations --layer conv1 --out . writes conv1.npy",
        copies={"conv1.npy": XS})
    add("cli_filters_writes_over_model", ["filters", "--model", "filters.html", "--out", "."], ["filters.html"],
        "filters --model filters.html --out . would write filters.html over the model", copies={"filters.html": SHAPES})
    add("cli_report_writes_over_input", ["report", "report/report.html", "--out", "."], ["report.html"],
        "the input image is report/report.html; report --out . writes report/report.html", copies={"report/report.html": IMG})
    add("cli_diff_html_over_against", ["diff", "--tensor", XS, "--against", "ref", "--html", "ref/logits.npy"], ["logits.npy"],
        "diff --against ref --html ref/logits.npy would replace a reference tensor",
        setup=reference_folder((1, 6)))
    # --json with stdout redirected: a failure must leave no half-written JSON
    add("cli_json_redirect_gradcam_bad", ["gradcam", IMG, str(c.root / "img/trunc/cat_5000.jpg"), "--json", "--out", "out"],
        ["cat_5000.jpg"], "gradcam good bad --json > manifest.json", stdout_file="manifest.json",
        complete=["out/*gradcam_both*", "out/records.jsonl"] + RUN_INDEX)
    add("cli_json_redirect_stats_bad", ["stats", IMG, str(c.root / "img/trunc/cat_5000.jpg"), "--json"], ["cat_5000.jpg"],
        "stats good bad --json > stats.json", stdout_file="stats.json")
    add("cli_json_redirect_run_bad", ["run", "--tensor", XS, "--output", "logits", "--output", "nosuchtensor", "--json", "--out", "out"],
        ["nosuchtensor"], "run --json > run.json with a bad --output", stdout_file="run.json")
    add("cli_json_redirect_report_bad", ["report", IMG, str(c.root / "img/empty.png"), "--json", "--out", "out"], ["empty.png"],
        "report good empty --json > report.json", stdout_file="report.json",
        complete=["out/*gradcam_both/report.html"])

    # output directories that cannot be written
    add("cli_out_readonly_gradcam", ["gradcam", IMG, "--out", RO], [ro_name], "gradcam --out in a read-only place", outputs=[RO])
    add("cli_out_readonly_run", ["run", "--tensor", XS, "--out", RO], [ro_name], "run --out in a read-only place", outputs=[RO])
    add("cli_out_readonly_stats_html", ["stats", IMG, "--html", RO + "/stats.html"], ["stats.html"], "stats --html in a read-only place",
        outputs=[RO])
    add("cli_out_readonly_report", ["report", IMG, "--out", RO], [ro_name], "report --out in a read-only place", outputs=[RO])
    add("cli_out_readonly_filters", ["filters", "--model", SHAPES, "--out", RO], [ro_name], "filters --out in a read-only place",
        outputs=[RO])
    add("cli_out_readonly_shapes_generate", ["shapes", "generate", "--count", "2", "--out", RO], [ro_name],
        "shapes generate --out in a read-only place", outputs=[RO])
    add("cli_out_readonly_train", ["train", "shapes", "--epochs", "1", "--scenes-per-epoch", "64", "--out", RO + "/m.onnx"],
        [("m.onnx", ro_name)], "train --out in a read-only place (should fail before training)", outputs=[RO])
    add("cli_out_under_file", ["gradcam", IMG, "--out", "file.txt/sub"], ["file.txt"], "--out below a regular file",
        copies={"file.txt": LABELS})
    add("cli_html_in_missing_dir", ["stats", IMG, "--html", "nodir/deeper/stats.html"], ["nodir"],
        "stats --html into a directory that does not exist", expect="either")
    add("cli_diff_html_in_missing_dir", ["diff", IMG, MNIST_PNG, "--html", "nodir/diff.html"], ["nodir"],
        "diff --html into a directory that does not exist", expect="either")
    add("cli_ok_gradcam_out_missing_dir", ["gradcam", IMG, "--out", "nodir/deeper"], [], "gradcam --out into new folders",
        expect="ok", validate=files_exist("nodir/deeper/*.npy"))

    # vacuous runs
    add("cli_stats_empty_dir", ["stats", "emptydir"], ["emptydir"], "stats on an empty directory",
        setup=lambda cwd: (cwd / "emptydir").mkdir())
    add("cli_stats_dir_without_images", ["stats", "textdir"], ["textdir"], "stats on a directory of .txt files",
        setup=lambda cwd: ((cwd / "textdir").mkdir(), (cwd / "textdir" / "a.txt").write_text("x")))
    add("cli_stats_missing_path", ["stats", "no_such_dir"], ["no_such_dir"], "stats on a path that does not exist")
    add("cli_diff_unrelated_model_b", ["diff", IMG, "--model-b", MNIST], ["winml_mnist.onnx"],
        "diff IMG --model-b UNRELATED.onnx: '0 layers compared' must not exit 0", validate=stdout_says_compared)
    add("cli_diff_unrelated_model_b_json", ["diff", IMG, "--model-b", MNIST, "--json"], ["winml_mnist.onnx"],
        "the same with --json", validate=stdout_says_compared)
    add("cli_diff_against_empty_dir", ["diff", IMG, "--against", "emptydir"], ["emptydir"], "diff --against an empty folder",
        setup=lambda cwd: (cwd / "emptydir").mkdir())
    add("cli_diff_against_wrong_shapes", ["diff", "--tensor", XS, "--against", "ref"], ["logits"],
        "diff --against a folder whose logits.npy has the wrong shape",
        setup=reference_folder((3, 3)))
    add("cli_conformance_empty_dir", ["conformance", "emptydir"], ["emptydir"], "conformance on an empty folder: 0 tests must not pass",
        setup=lambda cwd: (cwd / "emptydir").mkdir())
    add("cli_conformance_missing_dir", ["conformance", "no_such_suite"], ["no_such_suite"], "conformance on a missing folder")

    def conformance_setup(cwd: Path):
        t = cwd / "suite" / "node" / "test_bad_model"
        (t / "test_data_set_0").mkdir(parents=True)
        (t / "model.onnx").write_bytes(b"\x08\x03garbage")
    add("cli_conformance_garbage_model", ["conformance", "suite"], ["test_bad_model"],
        "conformance on a test whose model.onnx is garbage: non-zero, naming the test", setup=conformance_setup,
        fragments_in="both")
    add("cli_filters_no_model", ["filters", "--out", "out"], [], "filters without --model uses the embedded model (help says so)",
        expect="ok", validate=files_exist("out/filters.html"))
    add("cli_filters_model_without_conv", ["filters", "--model", str(c.root / "onnx/relu_chain_10.onnx"), "--out", "out"],
        ["relu_chain_10.onnx"], "filters of a model with no Conv: nothing to draw must not exit 0")
    add("cli_filters_json_no_model", ["filters", "--json", "--out", "out"], [], "filters --json without --model",
        expect="ok", validate=json_stdout_finite)
    add("cli_shapes_generate_size_0", ["shapes", "generate", "--count", "2", "--size", "0", "--out", "out"], ["--size"],
        "shapes generate --size 0")
    add("cli_shapes_generate_count_negative", ["shapes", "generate", "--count=-1", "--out", "out"], ["--count"],
        "shapes generate --count -1")
    add("cli_shapes_generate_two_objects_2", ["shapes", "generate", "--count", "2", "--two-objects", "2", "--out", "out"],
        ["--two-objects"], "shapes generate --two-objects 2")
    add("cli_shapes_generate_size_huge", ["shapes", "generate", "--count", "1", "--size", "100000", "--out", "out"], ["--size"],
        "shapes generate --size 100000 (a 10^10-pixel scene): refuse or stay under the memory limit", expect="either")
    add("cli_shapes_eval_method_unknown", ["shapes", "eval", "--count", "4", "--pairs", "2", "--method", "nosuchmethod"],
        ["nosuchmethod"], "shapes eval --method nosuchmethod")
    add("cli_shapes_eval_count_0", ["shapes", "eval", "--count", "0", "--pairs", "0"], ["--count"],
        "shapes eval with 0 scenes: accuracy of nothing")
    add("cli_train_lr_nan", ["train", "shapes", "--epochs", "1", "--scenes-per-epoch", "64", "--learning-rate", "nan", "--out", "m.onnx"],
        ["--learning-rate"], "train --learning-rate nan (refuse before training; no m.onnx)")
    add("cli_train_batch_0", ["train", "shapes", "--epochs", "1", "--scenes-per-epoch", "64", "--batch-size", "0", "--out", "m.onnx"],
        ["--batch-size"], "train --batch-size 0")
    add("cli_train_epochs_negative", ["train", "shapes", "--epochs=-1", "--out", "m.onnx"], ["--epochs"], "train --epochs -1")
    add("cli_train_two_objects_nan", ["train", "shapes", "--epochs", "1", "--scenes-per-epoch", "64", "--two-objects", "nan",
                                      "--out", "m.onnx"], ["--two-objects"], "train --two-objects nan")

    # controls that must pass
    add("cli_ok_predict", ["predict", IMG], [], "control: predict on a good image", expect="ok")
    add("cli_ok_gradcam_json", ["gradcam", IMG, "--out", "out", "--json"], [], "control: gradcam --json", expect="ok",
        validate=json_and_maps_finite)
    add("cli_ok_run_mnist", ["run", "--model", MNIST, "--tensor", XM, "--out", "out"], [], "control: run mnist", expect="ok",
        validate=no_nonfinite_maps)
    add("cli_ok_saliency_ig", sal + ["--method", "integrated-gradients", "--steps", "8"], [], "control: integrated gradients",
        expect="ok", validate=no_nonfinite_maps)
    add("cli_ok_diff_two_images", ["diff", IMG, MNIST_PNG, "--html", "diff.html"], [], "control: diff two images (exit 3 = differs)",
        expect="either")


def resource_cases(c: Corpus, IMG):
    cat = "resource"
    n = 20000
    nodes = [helper.make_node("Relu", ["x" if i == 0 else f"r{i - 1}"], [f"r{i}" if i < n - 1 else "y"], name=f"relu_{i}")
             for i in range(n)]
    p = c.save_model("onnx/relu_chain_20000.onnx", tiny_model(nodes, inputs=[("x", [1, 4])]))
    small = [helper.make_node("Relu", ["x" if i == 0 else f"r{i - 1}"], [f"r{i}" if i < 9 else "y"], name=f"relu_{i}") for i in range(10)]
    c.save_model("onnx/relu_chain_10.onnx", tiny_model(small, inputs=[("x", [1, 3, 8, 8])]))
    x14 = c.save_npy("npy/x14.npy", np.ones((1, 4), np.float32))
    c.add(Case("res_relu_chain_20000_summary", cat, ["summary", "--model", p], "ok", [],
               "a 20,000-node Relu chain: summary (peak memory recorded)", mem_limit_mib=512))
    c.add(Case("res_relu_chain_20000_summary_json", cat, ["summary", "--model", p, "--json"], "ok", [],
               "the same, --json", mem_limit_mib=512, validate=json_stdout_finite))
    c.add(Case("res_relu_chain_20000_run", cat, ["run", "--model", p, "--tensor", x14, "--out", "out"], "ok", [],
               "the same chain, run", mem_limit_mib=512))
    c.add(Case("res_relu_chain_20000_activations", cat, ["activations", "--model", p, "--tensor", x14, "--out", "out"], "either",
               ["relu_chain_20000.onnx"], "activations of all 20,000 layers (20,000 .npy files)", mem_limit_mib=1024))
    long_name = "n" * 1_000_000
    m = tiny_model([helper.make_node("Relu", ["x"], [long_name], name=long_name),
                    helper.make_node("Relu", [long_name], ["y"], name="relu_out")])
    lp = c.save_model("onnx/long_names.onnx", m)
    c.add(Case("res_megabyte_names_summary", cat, ["summary", "--model", lp], "ok", [], "a node and tensor named with 10^6 characters",
               mem_limit_mib=512))
    c.add(Case("res_megabyte_names_activations", cat, ["activations", "--model", lp, "--tensor", str(c.root / "npy/x4.npy"),
                                                       "--out", "out"], "either", [], "activations: a 10^6-character file name"))
    # a 100-megapixel PNG (exactly the documented limit), all zeros: a legal input
    big = c.path("img/ok/100mp.png")
    comp = zlib.compressobj(1)
    row = b"\0" * (1 + 10000 * 3)
    parts = [comp.compress(row) for _ in range(10000)] + [comp.flush()]
    big.write_bytes(PNG_SIGNATURE + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 10000, 10000, 8, 2, 0, 0, 0))
                    + png_chunk(b"IDAT", b"".join(parts)) + png_chunk(b"IEND", b""))
    c.add(Case("res_png_100mp_predict", cat, ["predict", str(big)], "ok", [],
               "a 10000x10000 RGB PNG (the 100 MP limit): decode and predict within 2 GiB"))
    many = c.path("img/many/.keep").parent
    src = Path(c.shared_file("images/winml_mnist_28.png")).read_bytes()
    for i in range(200):
        (many / f"img_{i:03d}.png").write_bytes(src)
    c.add(Case("res_stats_200_images", cat, ["stats", str(many), "--json"], "ok", [], "stats over a folder of 200 images",
               mem_limit_mib=1024, validate=json_stdout_finite))


# --------------------------------------------------------------------------------------------
# Running


def sha256(path: Path) -> Optional[str]:
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def files_under(root: Path) -> dict:
    """relative path -> (size, mtime_ns) of every file (not directory) below root, without following symlinked dirs."""
    out = {}
    if not os.path.lexists(root):
        return out
    if not os.path.isdir(root) or os.path.islink(root):
        st = os.lstat(root)
        return {".": (st.st_size, st.st_mtime_ns)}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames:
            p = Path(dirpath) / name
            try:
                st = os.lstat(p)
            except OSError:
                continue
            out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


def input_paths(case: Case, cwd: Path) -> set:
    paths = set()
    candidates = []
    for a in case.args:
        candidates.append(a)
        if "=" in a and not a.startswith("-"):
            candidates.append(a.split("=", 1)[1])
    for a in candidates:
        p = Path(a) if os.path.isabs(a) else cwd / a
        try:
            st = os.stat(p)
        except (OSError, ValueError):
            continue
        if stat.S_ISREG(st.st_mode):
            paths.add(p)
            if p.suffix == ".onnx":
                for q in p.parent.iterdir():
                    if q.is_file() and q.stat().st_size < (64 << 20):
                        paths.add(q)
        elif stat.S_ISDIR(st.st_mode) and p != cwd:
            for q in list(p.rglob("*"))[:2000]:
                if q.is_file() and not q.is_symlink():
                    paths.add(q)
    for rel in case.copies:
        paths.add(cwd / rel)
    return paths


def remove_tree(p: Path):
    if not os.path.lexists(p):
        return
    for dirpath, dirnames, filenames in os.walk(p):
        try:
            os.chmod(dirpath, 0o755)
        except OSError:
            pass
    shutil.rmtree(p, ignore_errors=True)


def is_temp(name: str) -> bool:
    base = os.path.basename(name)
    return ".tmp" in base or base.endswith("~") or (base.startswith(".") and "tmp" in base.lower())


RUNNER = r"""
import json, os, signal, sys, time
spec = json.loads(sys.argv[1])
out = os.open(spec["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
err = os.open(spec["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
nul = os.open(os.devnull, os.O_RDONLY)
env = dict(os.environ)
env.setdefault("LC_ALL", "C.UTF-8")
t0 = time.monotonic()
pid = os.fork()
if pid == 0:
    try:
        os.setsid()
        os.chdir(spec["cwd"])
        os.dup2(nul, 0); os.dup2(out, 1); os.dup2(err, 2)
        os.execve(spec["argv"][0], spec["argv"], env)
    finally:
        os._exit(127)
os.close(out); os.close(err); os.close(nul)
timed_out = mem_killed = False
watch = 0
delay = 0.002
def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0
while True:
    got, status, usage = os.wait4(pid, os.WNOHANG)
    if got:
        break
    r = rss_kib(pid)
    watch = max(watch, r)
    if r > spec["kill_mib"] * 1024 and not mem_killed:
        mem_killed = True
        os.killpg(pid, signal.SIGKILL)
    elif time.monotonic() - t0 > spec["timeout"] and not timed_out:
        timed_out = True
        os.killpg(pid, signal.SIGKILL)
    time.sleep(delay)
    delay = min(delay * 1.5, 0.02)
seconds = time.monotonic() - t0
try:
    os.killpg(pid, signal.SIGKILL)
except OSError:
    pass
maxrss = usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "seconds": seconds, "timed_out": timed_out,
                  "mem_killed": mem_killed, "maxrss_kib": maxrss, "watch_kib": watch}))
"""


def run_case(case: Case, binary: str, workdir: Path) -> dict:
    cwd = workdir / "runs" / case.id
    logs = workdir / "logs"
    remove_tree(cwd)
    cwd.mkdir(parents=True)
    for rel, src in case.copies.items():
        dst = cwd / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    for rel, target in case.links.items():
        os.symlink(target, cwd / rel)
    if case.setup:
        case.setup(cwd)

    before_cwd = files_under(cwd)
    before_outputs = {o: files_under(Path(o)) for o in case.outputs}
    inputs = input_paths(case, cwd)
    hashes = {p: sha256(p) for p in inputs}

    argv = [binary] + case.args
    stdout_path = cwd / case.stdout_file if case.stdout_file else logs / f"{case.id}.stdout"
    stderr_path = logs / f"{case.id}.stderr"
    spec = {"argv": argv, "cwd": str(cwd), "stdout": str(stdout_path), "stderr": str(stderr_path),
            "timeout": case.timeout_s, "kill_mib": max(2 * case.mem_limit_mib, case.mem_limit_mib + 1024)}
    # A small helper process forks and execs the CLI, so that ru_maxrss measures the CLI and not
    # this (large) Python process: Linux carries the RSS of the process that forks into the child's
    # ru_maxrss across exec.
    helper = subprocess.run([sys.executable, "-I", "-S", "-c", RUNNER, json.dumps(spec)], capture_output=True,
                            timeout=case.timeout_s + 60)
    if helper.returncode != 0:
        raise RuntimeError(f"runner failed for {case.id}: {helper.stderr.decode(errors='replace')}")
    res = json.loads(helper.stdout)
    code, seconds = res["code"], res["seconds"]
    timed_out, mem_killed = res["timed_out"], res["mem_killed"]
    peak = max(res["maxrss_kib"], res["watch_kib"]) / 1024
    stdout = stdout_path.read_bytes().decode("utf-8", "replace") if stdout_path.exists() else ""
    stderr = stderr_path.read_bytes().decode("utf-8", "replace")

    issues, details = [], []
    signalled = code < 0 or 128 < code < 160
    markers = [m for m in CRASH_MARKERS if m in stderr]
    crashed = (signalled and not (timed_out or mem_killed)) or bool(markers)
    if crashed:
        issues.append("crash")
        why = f"signal {signal.Signals(-code).name}" if code < 0 else (f"exit {code}" if signalled else f"exit {code}")
        details.append(f"crash: {why}" + (f", stderr has {markers}" if markers else ""))
    if timed_out:
        issues.append("hang")
        details.append(f"hang: killed after {case.timeout_s} s")
    if peak > case.mem_limit_mib or mem_killed:
        issues.append("memory")
        details.append(f"memory: peak {peak:.0f} MiB > limit {case.mem_limit_mib} MiB" + (" (killed by the watchdog)" if mem_killed else ""))

    finished = not (timed_out or mem_killed)
    success = code in case.ok_codes
    if finished and success:
        if case.expect == "error":
            issues.append("zero-exit")
            details.append(f"zero-exit: exit {code} (a success status) on garbage")
        elif case.validate:
            problem = case.validate(cwd, stdout)
            if problem:
                issues.append("zero-exit" if case.expect == "either" else "control")
                details.append(("zero-exit: " if case.expect == "either" else "control: ") + problem)
    if finished and not success and not crashed:
        if case.expect == "ok":
            issues.append("control")
            details.append(f"control: exit {code} on a good input")
        else:
            text = (stdout + "\n" + stderr) if case.fragments_in == "both" else stderr
            low = text.lower()
            missing = []
            for frag in case.fragments:
                alts = frag if isinstance(frag, tuple) else (frag,)
                if not any(a.lower() in low for a in alts):
                    missing.append(" or ".join(repr(a) for a in alts))
            if not text.strip():
                missing.insert(0, "(stderr is empty)")
            if missing:
                issues.append("unclear")
                details.append("unclear: message lacks " + ", ".join(missing))

    # half-written outputs and temp files
    after_cwd = files_under(cwd)
    new = [p for p in after_cwd if p not in before_cwd or after_cwd[p] != before_cwd[p]]
    new = [p for p in new if p != case.stdout_file and p not in case.copies]  # changed inputs: see overwritten
    stray = []
    if not success:
        stray = [p for p in new if not any(fnmatch.fnmatch(p, g) for g in case.complete)]
        for o in case.outputs:
            after = files_under(Path(o))
            stray += [f"{o}/{p}" for p in after if p not in before_outputs[o]]
        if case.stdout_file and stdout.strip():
            try:
                strict_json(stdout)
            except Exception:  # noqa: BLE001
                stray.append(f"{case.stdout_file} (partial or invalid JSON, {len(stdout)} bytes)")
        elif "--json" in case.args and stdout.strip():
            try:
                strict_json(stdout)
            except Exception:  # noqa: BLE001
                stray.append(f"stdout (partial or invalid JSON, {len(stdout)} bytes)")
    temps = [p for p in after_cwd if is_temp(p) and p not in before_cwd]
    for o in case.outputs:
        temps += [f"{o}/{p}" for p in files_under(Path(o)) if is_temp(p)]
    if stray or temps:
        issues.append("half-written")
        listed = sorted(set(stray + temps))
        details.append(f"half-written: {len(listed)} file(s) left: " + ", ".join(listed[:6]) + (" ..." if len(listed) > 6 else ""))

    changed = [str(p) for p, h in hashes.items() if h is not None and sha256(p) != h]
    changed += [str(p) for p, h in hashes.items() if h is not None and not os.path.exists(p)]
    if changed:
        issues.append("overwritten")
        details.append("overwritten: " + ", ".join(sorted(set(changed))))

    return {
        "id": case.id,
        "category": case.category,
        "command": "cnn-viz " + shlex.join(case.args),
        "cwd": str(cwd),
        "note": case.note,
        "expected": case.expect,
        "fragments": [list(f) if isinstance(f, tuple) else f for f in case.fragments],
        "status": code,
        "timed_out": timed_out,
        "seconds": round(seconds, 3),
        "peak_mib": round(peak, 1),
        "mem_limit_mib": case.mem_limit_mib,
        "stdout_tail": stdout[-400:],
        "stderr_tail": stderr[-800:],
        "crash_summary": crash_summary(stderr) if crashed else "",
        "issues": issues,
        "details": details,
        "verdict": "pass" if not issues else "FAIL: " + ", ".join(issues),
    }


def corpus_hashes(root: Path) -> dict:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames:
            p = Path(dirpath) / name
            out[str(p)] = sha256(p)
    return out


def crash_summary(stderr: str) -> str:
    """The fatal message and the top frames of the crashed thread, from Swift's backtrace."""
    keep = []
    lines = stderr.splitlines()
    for line in lines:
        if any(m in line for m in CRASH_MARKERS + ["Crash", "error:"]) and not line.startswith(("r", " ")) and line.strip():
            keep.append(line.strip())
    for i, line in enumerate(lines):
        if line.rstrip().endswith("crashed:"):
            frames = []
            for l in lines[i + 1:i + 14]:
                if l.strip() in ("", "...") and frames:
                    break
                if l.strip()[:1].isdigit():
                    frames.append(l)
            for f in frames:
                if " in cnn-viz at " in f and "<compiler-generated>" not in f or len(keep) < 3:
                    part = f.split("] ")[-1].strip() if "] " in f else f.strip()
                    keep.append("  " + " ".join(part.split()[1:]) if part.startswith("0x") else "  " + part)
                if len(keep) >= 6:
                    break
            break
    return "\n".join(dict.fromkeys(keep))


def one_line(text: str, limit: int = 300) -> str:
    lines = [l.strip() for l in text.strip().splitlines() if l.strip() and set(l.strip()) != {"-"}]
    s = " | ".join(lines[-3:])
    return s if len(s) <= limit else s[:limit] + "…"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cnn-viz", required=True, help="the cnn-viz binary")
    ap.add_argument("--shared", required=True, help="the shared data folder (images/, models/, labels/)")
    ap.add_argument("--out", required=True, help="work directory: corpus/, runs/, logs/ are (re)made inside")
    ap.add_argument("--json", help="write every case's result here")
    ap.add_argument("--jobs", type=int, default=2, help="cases run at once (default 2)")
    ap.add_argument("--only", action="append", default=[], help="run only cases whose id contains this (repeatable)")
    ap.add_argument("--list", action="store_true", help="generate the corpus, list the cases, run nothing")
    ap.add_argument("--verbose", action="store_true", help="a second line per failing case (cwd, status, time, memory, note)")
    args = ap.parse_args(argv)

    binary = os.path.abspath(args.cnn_viz)
    for _ in range(3):
        if os.access(binary, os.X_OK):
            break
        print(f"waiting for {binary} ...", file=sys.stderr)
        time.sleep(30)
    else:
        print(f"error: {binary} is not an executable file", file=sys.stderr)
        return 2
    shared = Path(args.shared).resolve()
    workdir = Path(args.out).resolve()
    repo = Path(__file__).resolve().parent.parent
    for sub in ("corpus", "runs", "logs"):
        remove_tree(workdir / sub)
    (workdir / "logs").mkdir(parents=True, exist_ok=True)

    t0 = time.monotonic()
    corpus = Corpus(workdir / "corpus", shared, repo)
    build(corpus)
    cases = corpus.cases
    if args.only:
        cases = [c for c in cases if any(s in c.id for s in args.only)]
    gen_s = time.monotonic() - t0
    if args.list:
        for c in cases:
            print(f"{c.id:50} {c.category:8} {c.expect:6} cnn-viz {shlex.join(c.args)[:150]}")
        print(f"{len(cases)} cases")
        return 0
    before = corpus_hashes(corpus.root)

    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(run_case, c, binary, workdir): c for c in cases}
        for f in concurrent.futures.as_completed(futures):
            r = f.result()
            results[r["id"]] = r
    ordered = [results[c.id] for c in cases]

    # Anything in the corpus changed or added by some case.
    after = corpus_hashes(corpus.root)
    corpus_changed = sorted(p for p in before if p in after and after[p] != before[p])
    corpus_added = sorted(p for p in after if p not in before)

    counts = {k: 0 for k in ("crash", "hang", "zero-exit", "half-written", "overwritten", "memory", "unclear", "control")}
    for r in ordered:
        for i in set(r["issues"]):
            counts[i] += 1
        if r["issues"]:
            why = r["crash_summary"].replace("\n", " / ") if r["crash_summary"] else one_line(r["stderr_tail"])
            print(f"FAIL {r['id']} [{', '.join(r['issues'])}] {'; '.join(r['details'])} :: {r['command'][:200]}"
                  + (f" :: stderr: {why}" if why else ""))
            if args.verbose:
                print(f"     cwd {r['cwd']}, exit {r['status']}, {r['seconds']:.2f} s, peak {r['peak_mib']:.0f} MiB; {r['note']}")
    if corpus_changed:
        counts["overwritten"] += 1
        print(f"FAIL corpus [overwritten] {len(corpus_changed)} generated input file(s) changed during the run: {corpus_changed[:5]}")
    if corpus_added:
        counts["half-written"] += 1
        print(f"FAIL corpus [half-written] {len(corpus_added)} file(s) appeared inside the corpus folder: {corpus_added[:5]}")
    for r in ordered:
        if r["category"] == "resource":
            print(f"info {r['id']}: peak {r['peak_mib']:.0f} MiB (limit {r['mem_limit_mib']}), {r['seconds']:.2f} s, "
                  f"exit {r['status']}", file=sys.stderr)
    total_s = time.monotonic() - t0
    summary = (f"bad-input corpus: {len(ordered)} cases, {counts['crash']} crashes, {counts['hang']} hangs, "
               f"{counts['zero-exit']} zero-exits on garbage, {counts['half-written']} half-written, "
               f"{counts['overwritten']} inputs overwritten, {counts['memory']} over memory, "
               f"{counts['unclear']} unclear messages, {counts['control']} failed controls")
    print(f"(generation {gen_s:.1f} s, total {total_s:.1f} s, {args.jobs} jobs)", file=sys.stderr)
    print(summary)
    if args.json:
        Path(args.json).write_text(json.dumps({
            "summary": summary, "counts": counts, "cases": ordered, "seconds": round(total_s, 1),
            "binary": binary, "memory_limit_default_mib": MEM_LIMIT_MIB, "timeout_s": TIMEOUT_S,
            "corpus_changed": corpus_changed, "corpus_added": corpus_added,
        }, indent=1))
    return 1 if any(counts.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
