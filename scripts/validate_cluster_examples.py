#!/usr/bin/env python3
"""Check the cluster examples (examples/cluster/): valid, and their commands work.

Usage: python3 scripts/validate_cluster_examples.py --cnn-viz BIN [--work DIR]

audit-job.yaml (Kubernetes):
  - every document validates against the Kubernetes 1.30.0 schema with kubernetes-validate in
    strict mode (unknown fields are errors), offline: the schemas ship in the package;
  - a few API-server rules the schema cannot express (podFailurePolicy and backoffLimitPerIndex
    need restartPolicy Never, FailIndex needs backoffLimitPerIndex, ...), and --shards equal to
    the Indexed Job's completions;
  - the gradcam container's command + args run once per index with JOB_COMPLETION_INDEX set,
    then the merge Job's command.
audit.slurm:
  - `bash -n`; the #SBATCH lines (before the first command, where sbatch reads them) give the
    array's task IDs and --cpus-per-task;
  - the one line starting with `cnn-viz` (with its continuation lines) is expanded by bash
    together with the script's `NAME=value` lines, in each task's environment
    (SLURM_ARRAY_TASK_ID, _COUNT, _MIN, _MAX, _STEP, SLURM_CPUS_PER_TASK), and run;
  - then the command in the merge job's `sbatch ... --wrap '...'` line (a comment) runs.

The commands run as written except for three substitutions, the same for both examples:
  1. the program `cnn-viz` is BIN;
  2. a path under the example's shared mount (/data in the pods, /shared on the Slurm nodes)
     is the same path under a scratch folder; any other absolute path is an error;
  3. --model, --preprocess and --labels are dropped with their values, so that the run uses the
     embedded shapes model (which declares its own preprocessing and class names).
The scratch folder gets 8 scenes (`shapes generate --count 8 --seed 3`) in scenes/ next to the
manifest the command names, and that manifest (path,label). After the merge, --out must hold
records.jsonl with 8 records (one per scene, none failed), index.html, index-rows.js and
aggregates.json. Exits 0 if every check passes, 1 otherwise.
"""

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "cluster"
K8S_VERSION = "1.30.0"
SCENES, SEED = 8, 3
DROPPED = ("--model", "--preprocess", "--labels")  # substitution 3, each with its value
TIMEOUT = 600


class TestFailure(Exception):
    """A check failed; the message says which."""


def ok(message):
    print(f"ok: {message}", flush=True)


# --- substitutions -------------------------------------------------------------------------

def substitute(argv, binary, mount, scratch):
    """The example's argv as the test runs it (substitutions 1-3 of the module docstring)."""
    if not argv or argv[0] != "cnn-viz":
        raise TestFailure(f"expected a command starting with cnn-viz, found {argv[:1]}")
    out, skip = [str(binary)], False
    for arg in argv[1:]:
        if skip:
            skip = False
            continue
        if arg in DROPPED:  # `--model M`: drop both words
            skip = True
            continue
        name, eq, value = arg.partition("=") if arg.startswith("--") and "=" in arg else ("", "", arg)
        if name in DROPPED:  # `--model=M`
            continue
        if value == mount or value.startswith(mount + "/"):
            value = str(scratch) + value[len(mount):]
        elif value.startswith("/"):
            raise TestFailure(f"{arg!r} is outside the shared mount {mount}: it would not exist on another node")
        out.append(f"{name}={value}" if eq else value)
    return out


def option(argv, name):
    """The value of `--name V` or `--name=V` in argv, or None."""
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


# --- running -------------------------------------------------------------------------------

def base_environment():
    """This process's environment without any job-array variables of its own."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("SLURM_") and k != "JOB_COMPLETION_INDEX"}


def run(argv, what, env=None, expect=(0,)):
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True, env=env, timeout=TIMEOUT)
    if proc.returncode not in expect:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise TestFailure(f"{what} exited {proc.returncode} (expected {' or '.join(map(str, expect))}):\n"
                          f"  {shlex.join(map(str, argv))}\n{tail}")
    return proc


def prepare_dataset(binary, manifest):
    """8 scenes in manifest's folder/scenes and the manifest itself (label = first class)."""
    scenes = manifest.parent / "scenes"
    run([binary, "shapes", "generate", "--count", SCENES, "--seed", SEED, "--out", scenes], "shapes generate")
    files = sorted(scenes.glob("scene_*.png"))
    if len(files) != SCENES:
        raise TestFailure(f"shapes generate wrote {len(files)} scenes, expected {SCENES}")
    rows = ["path,label"] + [f"scenes/{f.name},{f.stem.rsplit('_', 1)[1].split('+')[0]}" for f in files]
    manifest.write_text("\n".join(rows) + "\n")
    return files


def check_dataset_run(binary, shard_argv, shard_envs, merge_argv, what):
    """Run every shard, then the merge, on a fresh dataset; check the merged run."""
    manifest, out = option(shard_argv, "--manifest"), option(shard_argv, "--out")
    if manifest is None or out is None:
        raise TestFailure(f"{what}: the gradcam command needs --manifest and --out")
    if merge_argv[1:] != ["merge", out]:
        raise TestFailure(f"{what}: the merge command should be `cnn-viz merge <gradcam's --out>`, "
                          f"found {shlex.join(merge_argv[1:])} (--out is {out})")
    scenes = prepare_dataset(binary, Path(manifest))
    count = len(shard_envs)
    for i, env in enumerate(shard_envs):
        run(shard_argv, f"{what}: shard {i}", env=env)
        shard_file = Path(out) / f"records-shard-{i}-of-{count}.jsonl"
        if not shard_file.is_file():
            raise TestFailure(f"{what}: shard {i} did not write {shard_file.name} (did it see its environment?)")
    ok(f"{what}: {count} shards ran ({shlex.join(shard_argv[1:])})")
    run(merge_argv, f"{what}: merge", env=base_environment())
    lines = (Path(out) / "records.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    images = sorted(Path(r.get("image", "")).name for r in records)
    failed = [r for r in records if r.get("status") == "failed" or "reason" in r]
    if len(records) != SCENES or images != [f.name for f in scenes] or failed:
        raise TestFailure(f"{what}: records.jsonl has {len(records)} records ({len(failed)} failed) "
                          f"for {images}, expected the {SCENES} scenes, none failed")
    missing = [n for n in ("index.html", "index-rows.js", "aggregates.json") if not (Path(out) / n).is_file()]
    if missing:
        raise TestFailure(f"{what}: the merge did not write {', '.join(missing)}")
    ok(f"{what}: merged {len(records)} records, index.html, index-rows.js, aggregates.json")


# --- Kubernetes ------------------------------------------------------------------------------

def validate_schema(docs, path):
    try:
        import kubernetes_validate
        from kubernetes_validate.utils import SchemaNotFoundError
    except ImportError:
        raise TestFailure("kubernetes-validate is not installed: python3 -m pip install -r scripts/requirements.txt")
    for doc in docs:
        name = f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as e:
            where = ".".join(str(p) for p in e.path) or "(top level)"
            raise TestFailure(f"{path.name}: {name} is not a valid Kubernetes {K8S_VERSION} object: {where}: {e.message}")
        except SchemaNotFoundError as e:  # the CLI only warns about these
            raise TestFailure(f"{path.name}: {name}: {e.message}")
        ok(f"{path.name}: {name} validates against Kubernetes {K8S_VERSION} (strict)")


def check_job_rules(job):
    """API-server validation rules for Jobs that the JSON schema does not express."""
    spec, name = job["spec"], job["metadata"]["name"]
    pod = spec["template"]["spec"]
    problems = []
    never = pod.get("restartPolicy") == "Never"
    if pod.get("restartPolicy") not in ("Never", "OnFailure"):
        problems.append("a Job's restartPolicy must be Never or OnFailure")
    if "podFailurePolicy" in spec and not never:
        problems.append("podFailurePolicy needs restartPolicy Never")
    if "backoffLimitPerIndex" in spec and (spec.get("completionMode") != "Indexed" or not never):
        problems.append("backoffLimitPerIndex needs completionMode Indexed and restartPolicy Never")
    containers = {c["name"] for c in pod["containers"]}
    for rule in (spec.get("podFailurePolicy") or {}).get("rules", []):
        if rule.get("action") == "FailIndex" and "backoffLimitPerIndex" not in spec:
            problems.append("the FailIndex action needs backoffLimitPerIndex")
        named = (rule.get("onExitCodes") or {}).get("containerName")
        if named is not None and named not in containers:
            problems.append(f"onExitCodes names container {named!r}, not one of {sorted(containers)}")
        if 0 in (rule.get("onExitCodes") or {}).get("values", []) and rule["onExitCodes"].get("operator") == "In":
            problems.append("onExitCodes cannot match exit code 0 with In")
    if spec.get("completionMode") == "Indexed" and "completions" not in spec:
        problems.append("an Indexed Job needs completions")
    volumes = {v["name"] for v in pod.get("volumes", [])}
    for c in pod["containers"]:
        for m in c.get("volumeMounts", []):
            if m["name"] not in volumes:
                problems.append(f"container {c['name']} mounts {m['name']!r}, which is not a volume of the pod")
    if problems:
        raise TestFailure(f"job/{name}: " + "; ".join(problems))


def container_argv(container):
    env = {}
    for var in container.get("env", []):
        if "value" not in var:
            raise TestFailure(f"container {container['name']}: env {var['name']} is not a literal value; extend the test")
        env[var["name"]] = str(var["value"])
    return [str(a) for a in container.get("command", []) + container.get("args", [])], env


def check_kubernetes(binary, work):
    path = EXAMPLES / "audit-job.yaml"
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    validate_schema(docs, path)
    jobs = [d for d in docs if d.get("kind") == "Job"]
    for job in jobs:
        check_job_rules(job)
    ok(f"{path.name}: Job rules beyond the schema (restartPolicy, podFailurePolicy, backoffLimitPerIndex, volumes)")

    mount, scratch = "/data", work / "kubernetes"
    shard_jobs, merge_jobs = [], []
    for job in jobs:
        pod = job["spec"]["template"]["spec"]
        for container in pod["containers"]:
            mounts = [m["mountPath"] for m in container.get("volumeMounts", [])]
            if mounts != [mount]:
                raise TestFailure(f"job/{job['metadata']['name']}: expected one volume at {mount}, found {mounts}")
            argv, env = container_argv(container)
            (shard_jobs if argv[1:2] == ["gradcam"] else merge_jobs if argv[1:2] == ["merge"] else []).append((job, argv, env))
    if len(shard_jobs) != 1 or len(merge_jobs) != 1:
        raise TestFailure(f"{path.name}: expected one gradcam container and one merge container, "
                          f"found {len(shard_jobs)} and {len(merge_jobs)}")
    (job, argv, env), (_, merge, _) = shard_jobs[0], merge_jobs[0]
    spec = job["spec"]
    if spec.get("completionMode") != "Indexed":
        raise TestFailure(f"job/{job['metadata']['name']}: the gradcam Job should be an Indexed Job")
    completions = spec["completions"]
    if option(argv, "--shards") != str(completions):
        raise TestFailure(f"job/{job['metadata']['name']}: --shards {option(argv, '--shards')} "
                          f"differs from completions {completions}")
    scratch.mkdir(parents=True)
    shard_argv = substitute(argv, binary, mount, scratch)
    envs = [{**base_environment(), **env, "JOB_COMPLETION_INDEX": str(i)} for i in range(completions)]
    check_dataset_run(binary, shard_argv, envs, substitute(merge, binary, mount, scratch), path.name)


# --- Slurm -------------------------------------------------------------------------------------

def sbatch_options(text):
    """The #SBATCH options sbatch reads: those before the first command line."""
    options, reading = {}, True
    for line in text.splitlines()[1:]:
        stripped = line.strip()
        if stripped.startswith("#SBATCH"):
            if not reading:
                raise TestFailure(f"#SBATCH after the first command is ignored by sbatch: {stripped}")
            for word in shlex.split(stripped[len("#SBATCH"):], comments=True):
                name, _, value = word.partition("=")
                options[name] = value
        elif stripped and not stripped.startswith("#"):
            reading = False
    return options


def array_ids(spec):
    """Task IDs of --array: 0-3, 1,2,5 or 0-7%2 (a throttle); a step (0-15:4) is an error."""
    ids = []
    for part in spec.split("%")[0].split(","):
        if ":" in part:
            raise TestFailure(f"--array={spec}: cnn-viz refuses arrays with a step")
        low, _, high = part.partition("-")
        ids.extend(range(int(low), int(high or low) + 1))
    return sorted(set(ids))


def command_lines(text):
    """Non-comment logical lines (backslash continuations joined)."""
    lines, current = [], ""
    for line in text.splitlines():
        if not current and line.lstrip().startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        lines.append((current + line).strip())
        current = ""
    return [line for line in lines if line]


def expand(assignments, command, env):
    """argv of `command` as bash expands it after the script's assignments, in env."""
    script = "\n".join(assignments + ["printf '%s\\0' " + command])
    proc = run(["bash", "-c", script], "bash expanding the cnn-viz command", env=env)
    return proc.stdout.split("\0")[:-1]


def check_slurm(binary, work):
    path = EXAMPLES / "audit.slurm"
    text = path.read_text()
    run(["bash", "-n", path], f"bash -n {path.name}")
    ok(f"{path.name}: bash -n")
    options = sbatch_options(text)
    for needed in ("--array", "--cpus-per-task", "--mem", "--output"):
        if needed not in options:
            raise TestFailure(f"{path.name}: no #SBATCH {needed}")
    ids = array_ids(options["--array"])
    ok(f"{path.name}: #SBATCH --array={options['--array']} gives tasks {ids}, "
       f"--cpus-per-task={options['--cpus-per-task']}, --mem={options['--mem']}")

    lines = command_lines(text)
    assignments = [line for line in lines if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", line)]
    commands = [line for line in lines if line.startswith("cnn-viz ")]
    if len(commands) != 1:
        raise TestFailure(f"{path.name}: expected one line starting with `cnn-viz `, found {len(commands)}")
    wraps = [line.lstrip("#").strip() for line in text.splitlines() if "--wrap" in line]
    if len(wraps) != 1:
        raise TestFailure(f"{path.name}: expected one `sbatch ... --wrap '...'` line for the merge, found {len(wraps)}")
    words = shlex.split(wraps[0])
    if "--dependency=afterany:$JOB" not in words:
        raise TestFailure(f"{path.name}: the merge should be submitted with --dependency=afterany:$JOB: {wraps[0]}")
    wrap = option(words, "--wrap")

    mount, scratch = "/shared", work / "slurm"
    scratch.mkdir(parents=True)
    envs = []
    for task in ids:
        env = {**base_environment(), "SLURM_ARRAY_TASK_ID": str(task), "SLURM_ARRAY_TASK_COUNT": str(len(ids)),
               "SLURM_ARRAY_TASK_MIN": str(ids[0]), "SLURM_ARRAY_TASK_MAX": str(ids[-1]), "SLURM_ARRAY_TASK_STEP": "1",
               "SLURM_CPUS_PER_TASK": options["--cpus-per-task"]}
        envs.append(env)
    argvs = [substitute(expand(assignments, commands[0], env), binary, mount, scratch) for env in envs]
    if any(a != argvs[0] for a in argvs):
        raise TestFailure(f"{path.name}: the command differs between tasks; the shard must come from the environment")
    if option(argvs[0], "--threads") != options["--cpus-per-task"]:
        raise TestFailure(f"{path.name}: --threads {option(argvs[0], '--threads')} differs from --cpus-per-task")
    merge = substitute(shlex.split(wrap), binary, mount, scratch)
    check_dataset_run(binary, argvs[0], envs, merge, path.name)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cnn-viz", required=True, type=Path, help="the cnn-viz binary")
    parser.add_argument("--work", type=Path, help="a new folder for the runs, kept (default: a temporary one)")
    args = parser.parse_args()
    binary = args.cnn_viz.resolve()
    if not os.access(binary, os.X_OK):
        print(f"FAIL: {binary} is not an executable", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="cluster-examples-") as tmp:
        work = args.work.resolve() if args.work else Path(tmp)
        failures = 0
        for check in (check_kubernetes, check_slurm):
            try:
                check(binary, work)
            except (TestFailure, subprocess.TimeoutExpired, OSError, KeyError, ValueError, yaml.YAMLError) as e:
                failures += 1
                print(f"FAIL: {type(e).__name__ + ': ' if not isinstance(e, TestFailure) else ''}{e}", file=sys.stderr)
    if failures:
        print(f"cluster examples: {failures} of 2 failed", file=sys.stderr)
        return 1
    print("cluster examples: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
