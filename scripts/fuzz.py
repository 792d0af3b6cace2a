#!/usr/bin/env python3
"""Fuzzes `recorder inspect`, `recorder inspect --json` and `recorder recover` with mutated real sessions.

The seeds (Tests/fuzz/corpus/*.h5.gz) are tiny sessions the recorder really wrote: sealed (zstd with
replayed input, lz4 with motion references) and one whose writer was SIGKILLed. Each mutant is a
truncation, bit flips, overwritten byte runs, or a crafted edit made with h5py (attributes stored as
arrays or with the wrong type, oversized strings, datasets with huge extents or wrong shapes), or a
file that is not ours at all (empty, random bytes, a foreign HDF5 file). Every tool run has a time
limit. An outcome passes when it is
  - a clean error: exit status 1..125 with a `recorder <command>:` message on stderr (this includes
    exit 75, the tool's own deadline, and exit 70, a crash inside libhdf5 that the tool contained
    and reported; both are counted separately in the figures), or
  - a correct result: exit 0 with a JSON summary/report (and a recovered file inspects cleanly), and
  - for recover of a file that is not a recorder session (or that it refuses): the file is unchanged.
A signal, a hang past the limit, garbage output or a changed foreign file is a failure; the input
is kept in the failures directory.

    scripts/fuzz.py [--minutes M | --count N] [--seed S] [--recorder PATH] [--failures DIR]
"""
import argparse
import gzip
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(REPO, "Tests", "fuzz", "corpus")
DEFAULT_RECORDER = os.environ.get("RECORDER_BIN", os.path.join(REPO, ".build", "debug", "recorder"))
# The tools' own deadline (a clean exit 75) sits well inside the hard limit that counts as a hang.
TOOL_TIMEOUT = 20
HARD_LIMIT = 40


def seeds():
    """(name, bytes) of every committed seed."""
    out = []
    for name in sorted(os.listdir(CORPUS)):
        if name.endswith(".h5.gz"):
            with gzip.open(os.path.join(CORPUS, name), "rb") as f:
                out.append((name[:-6], f.read()))
    if not out:
        raise SystemExit(f"no seeds in {CORPUS}")
    return out


# MARK: byte-level mutations

def truncate(data, rng):
    return data[:rng.randrange(0, len(data))]


def flip_bits(data, rng):
    b = bytearray(data)
    for _ in range(rng.choice([1, 1, 2, 4, 8, 32])):
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def flip_bits_in_metadata(data, rng):
    """Bit flips in the first 4 KiB, where the superblock and root object headers live."""
    b = bytearray(data)
    for _ in range(rng.choice([1, 2, 3])):
        i = rng.randrange(min(4096, len(b)))
        b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def overwrite_run(data, rng):
    b = bytearray(data)
    start = rng.randrange(len(b))
    length = rng.choice([1, 4, 8, 16, 64, 512])
    fill = rng.choice([b"\xff", b"\x00", bytes([rng.randrange(256)])])
    for i in range(start, min(len(b), start + length)):
        b[i] = fill[0]
    return bytes(b)


# MARK: crafted edits (h5py on a sealed copy)

def crafted(data, rng, directory):
    """A structurally valid HDF5 file with one hostile edit; None when the seed cannot be edited."""
    import h5py
    import numpy as np
    path = os.path.join(directory, "craft.h5")
    with open(path, "wb") as f:
        f.write(data)
    kind = rng.choice(["attr_array", "attr_string_array", "attr_wrong_type", "attr_long_string",
                       "huge_dataset", "huge_frames", "wide_frames", "devices_2d", "dataset_wrong_type", "many_attrs"])
    try:
        with h5py.File(path, "r+") as f:
            if kind == "attr_array":
                obj, name = rng.choice([(f, "clean_shutdown"), (f, "format_version"), (f["video"], "width"),
                                        (f["video"], "height"), (f["video"], "fps")])
                obj.attrs[name] = np.arange(rng.choice([2, 17, 1000, 100000]), dtype=np.int64)
            elif kind == "attr_string_array":
                obj, name = rng.choice([(f, "format"), (f, "end_reason"), (f, "summary_json"), (f["video"], "codec"),
                                        (f["meta"], "note")])
                n = rng.choice([2, 50, 5000])
                if rng.random() < 0.5:
                    obj.attrs[name] = np.array([b"recorder-session"] * n, dtype="S16")
                else:
                    obj.attrs.create(name, ["recorder-session"] * n, dtype=h5py.string_dtype())
            elif kind == "attr_wrong_type":
                obj, name = rng.choice([(f, "format"), (f, "clean_shutdown"), (f["video"], "width"), (f["video"], "codec")])
                value = rng.choice([np.float64(1e300), np.int64(-1), np.array([(1, 2.0)], dtype=[("a", "<i4"), ("b", "<f8")])[0],
                                    np.uint64(2**64 - 1), b"\xff" * 40])
                obj.attrs[name] = value
            elif kind == "attr_long_string":
                obj, name = rng.choice([(f, "format"), (f, "summary_json"), (f["video"], "codec")])
                size = rng.choice([255, 70000, 3_000_000])
                obj.attrs[name] = np.array(b"x" * size, dtype=f"S{size}")
            elif kind == "huge_dataset":
                name = rng.choice(["video/tick", "video/reference", "video/timestamp_ns", "video/reference_shift",
                                   "input/events", "state/samples", "log/notes"])
                if name in f and f[name].chunks is not None:
                    d = f[name]
                    shape = list(d.shape)
                    shape[0] = rng.choice([2**31, 2**40, 2**62])
                    d.resize(shape)
            elif kind == "huge_frames":
                d = f["video/frames"]
                d.resize((rng.choice([2**31, 2**40, 2**62]),) + d.shape[1:])
            elif kind == "wide_frames":
                del f["video/frames"]
                f.create_dataset("video/frames", shape=(5, 100000, 100000, 3), maxshape=(None, 100000, 100000, 3),
                                 dtype="u1", chunks=(1, 1, 1024, 3))
                f["video"].attrs["width"] = np.int64(2**62)
                f["video"].attrs["height"] = np.int64(2**62)
            elif kind == "devices_2d":
                dtype = f["input/devices"].dtype
                del f["input/devices"]
                f.create_dataset("input/devices", shape=(64, 64), dtype=dtype)
            elif kind == "dataset_wrong_type":
                name = rng.choice(["video/tick", "video/reference", "video/timestamp_ns", "input/devices"])
                del f[name]
                f.create_dataset(name, data=np.array([b"junk"] * 7, dtype="S4"))
            elif kind == "many_attrs":
                for i in range(rng.choice([100, 3000])):
                    f["meta"].attrs[f"k{i}"] = np.arange(3)
    except Exception:  # the seed itself may refuse h5py editing (the killed one); use it unedited
        return None
    with open(path, "rb") as f:
        return f.read()


def foreign(rng, directory):
    import h5py
    import numpy as np
    kind = rng.choice(["empty", "random", "foreign_hdf5", "foreign_with_our_attrs"])
    if kind == "empty":
        return b""
    if kind == "random":
        return os.urandom(rng.choice([1, 8, 512, 4096]))
    path = os.path.join(directory, "foreign.h5")
    with h5py.File(path, "w") as f:
        f["data"] = np.arange(10)
        if kind == "foreign_with_our_attrs":
            f.attrs["clean_shutdown"] = np.int64(0)
            f.create_group("video").create_dataset("frames", data=np.zeros((2, 4, 4, 3), dtype="u1"))
    with open(path, "rb") as f:
        return f.read()


MUTATIONS = [truncate, flip_bits, flip_bits, flip_bits_in_metadata, overwrite_run]


def mutant(seed_list, rng, directory):
    """(description, bytes, ours) where ours is False for inputs that are not recorder sessions."""
    roll = rng.random()
    if roll < 0.08:
        return "foreign", foreign(rng, directory), False
    name, data = rng.choice(seed_list)
    if roll < 0.40:
        edited = crafted(data, rng, directory)
        if edited is not None:
            data = edited
            name += "+crafted"
            if rng.random() < 0.3:
                data = flip_bits(data, rng)
                name += "+flip"
            return name, data, True
    mutation = rng.choice(MUTATIONS)
    return f"{name}+{mutation.__name__}", mutation(data, rng), True


# MARK: running the tools

def run_tool(recorder, args, path):
    started = time.monotonic()
    try:
        result = subprocess.run([recorder, *args, "--timeout", str(TOOL_TIMEOUT), path], capture_output=True,
                                timeout=HARD_LIMIT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, b"", b"", time.monotonic() - started
    return result.returncode, result.stdout, result.stderr, time.monotonic() - started


def judge(command, code, out, err, json_out):
    """None when the outcome is acceptable, else why not."""
    if code is None:
        return f"{command}: no exit within {HARD_LIMIT} s (hang)"
    if code < 0:
        return f"{command}: killed by signal {-code}"
    if code == 0:
        if json_out:
            try:
                json.loads(out)
            except ValueError:
                return f"{command}: exit 0 but stdout is not JSON"
        return None
    if code > 125:
        return f"{command}: exit {code} (a shell-style signal status)"
    if not err.startswith(f"recorder {command.split()[0]}:".encode()):
        return f"{command}: exit {code} without a recorder message: {err[:200]!r}"
    return None


def outcome_name(code, err):
    """How a run ended, for the figures: a contained library crash (exit 70) is counted on its own."""
    if code == 0:
        return "ok"
    if code == 75:
        return "deadline"
    if code == 70 and b"crashed the HDF5 library" in err:
        return "contained HDF5 crash"
    return "error"


def check_one(recorder, description, data, ours, directory):
    """(failures, outcome counts) for one input."""
    path = os.path.join(directory, "input.h5")
    failures, outcomes = [], {}

    def note(kind):
        outcomes[kind] = outcomes.get(kind, 0) + 1

    for args, json_out in ((["inspect"], False), (["inspect", "--json"], True)):
        with open(path, "wb") as f:
            f.write(data)
        code, out, err, _ = run_tool(recorder, args, path)
        problem = judge(" ".join(args), code, out, err, json_out)
        if problem:
            failures.append(problem)
        note(f"{' '.join(args)}: {outcome_name(code, err)}")
    with open(path, "wb") as f:
        f.write(data)
    before = hashlib.sha256(data).hexdigest()
    code, out, err, _ = run_tool(recorder, ["recover", "--json"], path)
    problem = judge("recover", code, out, err, True)
    if problem:
        failures.append(problem)
    with open(path, "rb") as f:
        after = hashlib.sha256(f.read()).hexdigest()
    if (not ours or b"left as it is" in err) and before != after:
        failures.append(f"recover changed a file it must leave alone (exit {code}: {err[:200]!r})")
    if not ours and code == 0:
        failures.append("recover accepted a file that is not a recorder session")
    note(f"recover: {'refused' if b'left as it is' in err else outcome_name(code, err)}")
    if code == 0 and not problem:
        code2, out2, err2, _ = run_tool(recorder, ["inspect", "--json"], path)
        problem = judge("inspect --json (after recover)", code2, out2, err2, True)
        if problem:
            failures.append(problem)
    return failures, outcomes


def fuzz(recorder, count=None, minutes=None, seed=0, failures_dir=None, log=print):
    """Runs mutants until `count` or `minutes`; returns a figures dict."""
    if not os.path.exists(recorder):
        raise SystemExit(f"recorder binary missing at {recorder}")
    seed_list = seeds()
    rng = random.Random(seed)
    deadline = time.monotonic() + minutes * 60 if minutes else None
    figures = {"inputs": 0, "failures": 0, "outcomes": {}, "failure_cases": [], "seed": seed, "seconds": 0.0}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="recorder-fuzz-") as directory:
        index = 0
        while (count is None or index < count) and (deadline is None or time.monotonic() < deadline):
            description, data, ours = mutant(seed_list, rng, directory)
            failures, outcomes = check_one(recorder, description, data, ours, directory)
            figures["inputs"] += 1
            for key, value in outcomes.items():
                figures["outcomes"][key] = figures["outcomes"].get(key, 0) + value
            if failures:
                figures["failures"] += 1
                case = {"index": index, "input": description, "problems": failures}
                if failures_dir:
                    os.makedirs(failures_dir, exist_ok=True)
                    kept = os.path.join(failures_dir, f"case-{seed}-{index}.h5")
                    with open(kept, "wb") as f:
                        f.write(data)
                    case["kept"] = kept
                figures["failure_cases"].append(case)
                log(f"FAIL #{index} {description}: {failures}")
            index += 1
    figures["seconds"] = round(time.monotonic() - started, 1)
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float)
    parser.add_argument("--count", type=int)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--recorder", default=DEFAULT_RECORDER)
    parser.add_argument("--failures", default=os.path.join(REPO, ".build", "fuzz-failures"))
    args = parser.parse_args()
    if args.minutes is None and args.count is None:
        args.minutes = 10
    figures = fuzz(args.recorder, count=args.count, minutes=args.minutes, seed=args.seed, failures_dir=args.failures)
    print(json.dumps(figures, indent=1, sort_keys=True))
    return 1 if figures["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
