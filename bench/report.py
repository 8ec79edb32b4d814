#!/usr/bin/python3
"""Runs mote_async_bench and prints the markdown tables of docs/benchmarks.md.

Called by scripts/bench after it has built the binary:

    bench/report.py --binary build/release/bench/mote_async_bench [--instructions]

1. Runs every row with a few repetitions (--benchmark_format=json) and prints,
   from the medians, ns/op for mote and Boost.Asio and the ratio asio/mote,
   for wall-clock time and for CPU time.
2. Compiles bench/sizes.cpp to assembly for the host (g++) and for a 32-bit
   Cortex-M0 (arm-none-eabi-g++) and reads the sizeof constants from the
   `.word` / `.long` directives, then prints the per-task memory table next
   to the heap bytes Asio allocated per operation in the same run.
3. With --instructions: instructions per operation of every row under
   valgrind --tool=callgrind (two fixed iteration counts, the difference
   divided by the extra operations, so start-up is excluded).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ROWS = ["spawn_complete", "ping_pong", "timers_10k"]
SIDES = ["mote", "asio"]

SIZE_FLAGS = ["-std=c++20", "-O2", "-fno-exceptions", "-fno-rtti",
              "-I", os.path.join(ROOT, "base/include"),
              "-I", os.path.join(ROOT, "async/include")]
ARM = ["arm-none-eabi-g++", "-mcpu=cortex-m0", "-mthumb", "-ffreestanding",
       "--specs=picolibc.specs", "-DMOTE_FREESTANDING=1"]
HOST = ["g++"]


def fail(message):
    print(f"scripts/bench: {message}", file=sys.stderr)
    sys.exit(1)


# --- timing ---------------------------------------------------------------------

def run_benchmarks(binary, repetitions, min_time):
    command = [binary, "--benchmark_format=json",
               f"--benchmark_repetitions={repetitions}",
               "--benchmark_report_aggregates_only=true",
               f"--benchmark_min_time={min_time}"]
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        fail(f"{binary} exited with {result.returncode}")
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        sys.stderr.write(result.stderr)
        fail("the benchmark did not print JSON")
    medians = {}
    errors = []
    for entry in report["benchmarks"]:
        # run_name is e.g. "spawn_complete/mote/real_time".
        parts = entry["run_name"].split("/")
        key = (parts[0], parts[1])
        if entry.get("error_occurred"):
            errors.append(f"{parts[0]}/{parts[1]}: {entry.get('error_message')}")
            continue
        # With one repetition there are no aggregates: the run is the median.
        if entry.get("aggregate_name") == "median" or (
                entry.get("run_type") == "iteration" and key not in medians):
            medians[key] = entry
    if errors:
        fail("a row failed its correctness check:\n  " + "\n  ".join(errors))
    for row in ROWS:
        for side in SIDES:
            if (row, side) not in medians:
                fail(f"no result for {row}/{side}")
    return report["context"], medians


def per_op(entry, field):
    scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[entry.get("time_unit", "ns")]
    return entry[field] * scale / entry["ops"]


def fmt_ns(value):
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def timing_table(medians, repetitions):
    lines = [
        f"Time per operation (median of {repetitions} repetitions; ns/op):",
        "",
        "| row | mote ns/op | asio ns/op | asio/mote | mote CPU ns/op | asio CPU ns/op | CPU asio/mote |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    labels = {
        "spawn_complete": "spawn_complete (per task)",
        "ping_pong": "ping_pong (per one-way message)",
        "timers_10k": "timers_10k (per timer; wall includes the 0..2 ms sleep span)",
    }
    for row in ROWS:
        mote, asio = medians[(row, "mote")], medians[(row, "asio")]
        wall_m, wall_a = per_op(mote, "real_time"), per_op(asio, "real_time")
        cpu_m, cpu_a = per_op(mote, "cpu_time"), per_op(asio, "cpu_time")
        lines.append(f"| {labels[row]} | {fmt_ns(wall_m)} | {fmt_ns(wall_a)} | {wall_a / wall_m:.1f}x"
                     f" | {fmt_ns(cpu_m)} | {fmt_ns(cpu_a)} | {cpu_a / cpu_m:.1f}x |")
    return lines


# --- memory ---------------------------------------------------------------------

def compile_sizes(compiler, extra, output):
    source = os.path.join(ROOT, "bench/sizes.cpp")
    result = subprocess.run(compiler + SIZE_FLAGS + extra + [source, "-o", output],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        fail(f"cannot compile bench/sizes.cpp with {compiler[0]}")
    return result.stdout


def sizes_for(compiler):
    """The kName constants of sizes.cpp, read from the assembly."""
    assembly = compile_sizes(compiler, ["-S"], "-")
    values = {}
    label = None
    for line in assembly.splitlines():
        match = re.match(r"^(k\w+):", line)
        if match:
            label = match.group(1)
            continue
        match = re.match(r"^\s+\.(?:word|long|4byte)\s+(\d+)", line)
        if match and label:
            values[label] = int(match.group(1))
            label = None
    return values


def layout_for(compiler, type_name):
    """The data members of `type_name` as [(name, offset, size)], from the
    debug info of sizes.cpp compiled by `compiler` (gdb's ptype /o). Base
    classes come first as one entry named after them. None without gdb."""
    with tempfile.TemporaryDirectory() as scratch:
        obj = os.path.join(scratch, "sizes.o")
        compile_sizes(compiler, ["-c", "-g", "-fno-eliminate-unused-debug-types"], obj)
        try:
            result = subprocess.run(["gdb", "-batch", "-nx", "-ex", f"ptype /o '{type_name}'", obj],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        except FileNotFoundError:
            return None
    lines = result.stdout.splitlines()
    if not lines or "type =" not in lines[0]:
        return None
    header = re.search(r"type = \w+ \S+(?: : (.*?))? \{\s*$", lines[0])
    members = []
    depth = 0
    pending = None
    total = None
    for line in lines:
        match = re.match(r"^/\*\s+(\d+)(?::\s*\d+)?\s+\|\s+(\d+) \*/(.*)$", line)
        code = re.sub(r"/\*.*?\*/", "", match.group(3) if match else line)
        if match and depth == 1 and "static " not in code:
            offset, size = int(match.group(1)), int(match.group(2))
            if code.rstrip().endswith("{"):
                pending = (offset, size)
            else:
                name = re.search(r"(\w+)(?:\[\d+\])*;\s*$", code)
                members.append((name.group(1) if name else "?", offset, size))
        closes = code.count("}")
        if closes and pending and depth - closes == 1:
            name = re.search(r"\}\s*(\w+);", code)
            members.append((name.group(1) if name else "?", *pending))
            pending = None
        depth += code.count("{") - closes
        total_match = re.search(r"total size \(bytes\):\s+(\d+)", line)
        if total_match:
            total = int(total_match.group(1))
    if header and header.group(1) and members and members[0][1] > 0:
        bases = ", ".join(re.sub(r"^(?:private|protected|public) ", "", base.strip())
                          .replace("mote::async::", "")
                          for base in header.group(1).split(","))
        members.insert(0, (f"base {bases}", 0, members[0][1]))
    if members and total is not None:
        end = members[-1][1] + members[-1][2]
        if total > end:
            members.append(("(padding)", end, total - end))
    return members


# What each part of the control block is for, by member name.
SCHEDULING = {"executor_"}
ARENA = {"arena_"}
DESCRIPTIONS = {
    "executor_": "executor pointer",
    "arena_": "frame-arena bookkeeping",
    "root_": "root coroutine handle",
    "joiners_": "join waiters (list head)",
    "state_": "state",
    "exit_status_": "exit status",
    "end_requested_": "pending end",
    "returns_status_": "returns-Status flag",
}


def memory_lines(medians):
    host, arm = sizes_for(HOST), sizes_for(ARM)
    host_layout = layout_for(HOST, "mote::async::TaskStorageBase")
    arm_layout = layout_for(ARM, "mote::async::TaskStorageBase")

    spawn_m, spawn_a = medians[("spawn_complete", "mote")], medians[("spawn_complete", "asio")]
    timer_m, timer_a = medians[("timers_10k", "mote")], medians[("timers_10k", "asio")]
    ping_a = medians[("ping_pong", "asio")]

    def heap(entry):
        return f'{entry["bytes_per_op"]:,.0f} B in {entry["allocs_per_op"]:.2f} allocs'

    def overhead(s):
        return s["kTaskStorage64"] - 64

    lines = [
        "Memory per task, bytes (mote: sizeof on x86-64 and on arm-none-eabi Cortex-M0;"
        " Asio: heap allocated during the timed loops, x86-64):",
        "",
        "| per task | mote x86-64 | mote Cortex-M0 | Asio x86-64 |",
        "|---|---:|---:|---:|",
        f'| control block, sizeof(TaskStorageBase) | {host["kTaskStorageBase"]} | {arm["kTaskStorageBase"]} | — |',
    ]
    scheduling_arm = None
    if host_layout and arm_layout:
        sizes_h = {name: size for name, _, size in host_layout}
        sizes_a = {name: size for name, _, size in arm_layout}
        names = [name for name, _, _ in host_layout]
        names += [name for name, _, _ in arm_layout if name not in sizes_h]
        bases = [name for name in names if name.startswith("base ")]
        sched = bases + [name for name in names if name in SCHEDULING]
        sched_h = sum(sizes_h.get(name, 0) for name in sched)
        sched_a = sum(sizes_a.get(name, 0) for name in sched)
        scheduling_arm = sched_a
        def fields(base):
            layout = layout_for(ARM, "mote::async::" + base)
            return f' ({", ".join(name for name, _, _ in layout)})' if layout else ""

        what = " + ".join([b.replace("base ", "") + fields(b.replace("base ", ""))
                           for b in bases] + ["executor pointer"])
        lines.append(f"| · scheduling: {what} | {sched_h} | {sched_a} | — |")
        for name in names:
            if name in sched:
                continue
            label = DESCRIPTIONS.get(name, name)
            label = label if name.startswith("(") else f"{label} (`{name}`)"
            lines.append(f"| · {label} | {sizes_h.get(name, 0)} | {sizes_a.get(name, 0)} | — |")
    else:
        lines.append("| · (no per-member breakdown: gdb could not read the layout) | | | |")
    lines += [
        f'| padding up to the frame alignment ({host["kFrameAlignment"]} / {arm["kFrameAlignment"]})'
        f' | {overhead(host) - host["kTaskStorageBase"]} | {overhead(arm) - arm["kTaskStorageBase"]} | — |',
        f"| **overhead beyond the frame bytes** (sizeof(TaskStorage<64>) − 64) | **{overhead(host)}**"
        f" | **{overhead(arm)}** | — |",
        f'| trivial task frame (spawn_complete, measured high-water mark) | {spawn_m["frame_bytes"]:.0f} | — | — |',
        f'| heap per spawn_complete task | {heap(spawn_m)} | none (no heap) | {heap(spawn_a)} |',
        f'| heap per timers_10k task (spawn + one timer) | {heap(timer_m)} | none (no heap) | {heap(timer_a)} |',
        f'| heap per ping_pong message | 0 B | none (no heap) | {heap(ping_a)} |',
        "",
        "| other per-item costs | mote x86-64 | mote Cortex-M0 |",
        "|---|---:|---:|",
        f'| per join/select branch: sizeof(Runnable) | {host["kRunnable"]} | {arm["kRunnable"]} |',
        f"| per join/select branch: what one more branch adds to the awaiter"
        f' (its Runnable-based Branch and its Task) | {host["kForkTwoBranches"] - host["kForkOneBranch"]}'
        f' | {arm["kForkTwoBranches"] - arm["kForkOneBranch"]} |',
        f'| per timer: sizeof(TimerNode) | {host["kTimerNode"]} | {arm["kTimerNode"]} |',
        f'| per timer: sizeof(SleepAwaiter), in the sleeping frame | {host["kSleepAwaiter"]} | {arm["kSleepAwaiter"]} |',
        "",
    ]
    # The executor's own per-task cost is what it needs to schedule a task:
    # the run-queue node and the executor link. The rest of the control block
    # is the frame allocator's bookkeeping and the task's life cycle, shown
    # above so nobody has to take this line on trust.
    if scheduling_arm is not None:
        verdict = "met" if scheduling_arm <= 16 else "NOT met"
        sentence = (f'32-bit target "at most 16 bytes of executor overhead per task": {verdict} — '
                    f"scheduling (Runnable + executor pointer) is {scheduling_arm} B on the Cortex-M0; "
                    f"the whole control block, with frame-arena bookkeeping and life cycle, "
                    f"is {overhead(arm)} B")
    else:
        sentence = (f"control block on the Cortex-M0: {overhead(arm)} B "
                    f"(install gdb for the breakdown into scheduling, arena and life cycle)")
    lines.append(sentence + ".")
    return lines


# --- instructions -----------------------------------------------------------------

def instructions_lines(binary):
    low, high = 1, 4

    def collected(row, side, iterations):
        env = dict(os.environ, MOTE_BENCH_ITERATIONS=str(iterations))
        with tempfile.TemporaryDirectory() as scratch:
            result = subprocess.run(
                ["valgrind", "--tool=callgrind", f"--callgrind-out-file={scratch}/out",
                 binary, f"--benchmark_filter=^{row}/{side}/", "--benchmark_format=json"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        match = re.search(r"Collected\s*:\s*(\d+)", result.stderr)
        if result.returncode != 0 or not match:
            fail(f"callgrind run of {row}/{side} failed")
        ops = json.loads(result.stdout)["benchmarks"][0]["ops"]
        return int(match.group(1)), ops

    lines = [
        "",
        f"Instructions per operation (valgrind --tool=callgrind; ({high} − {low} iterations) / ops,"
        " so start-up is excluded):",
        "",
        "| row | mote instr/op | asio instr/op | asio/mote |",
        "|---|---:|---:|---:|",
    ]
    for row in ROWS:
        per = {}
        for side in SIDES:
            a, ops = collected(row, side, low)
            b, _ = collected(row, side, high)
            per[side] = (b - a) / ((high - low) * ops)
        lines.append(f'| {row} | {per["mote"]:,.0f} | {per["asio"]:,.0f} |'
                     f' {per["asio"] / per["mote"]:.1f}x |')
    return lines


# --- main -----------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=0.25, help="seconds per repetition")
    parser.add_argument("--instructions", action="store_true",
                        help="also count instructions per operation under callgrind (~1 min)")
    parser.add_argument("--json", help="also write the raw benchmark medians here")
    args = parser.parse_args()

    load = open("/proc/loadavg").read().split()[0]
    context, medians = run_benchmarks(args.binary, args.repetitions, args.min_time)
    if args.json:
        with open(args.json, "w") as out:
            json.dump({f"{r}/{s}": e for (r, s), e in medians.items()}, out, indent=1)

    compiler = subprocess.run(["g++", "-dumpfullversion"], stdout=subprocess.PIPE,
                              text=True).stdout.strip()
    boost = "?"
    with open("/usr/include/boost/version.hpp") as header:
        match = re.search(r'BOOST_LIB_VERSION "([\d_]+)"', header.read())
        if match:
            boost = match.group(1).replace("_", ".")
    print(f'Host: {context.get("num_cpus")} CPUs at {context.get("mhz_per_cpu")} MHz, '
          f"load average {load} before the run; g++ {compiler}, Boost {boost}; "
          f"{os.path.relpath(args.binary, ROOT)}.")
    print()
    print("\n".join(timing_table(medians, args.repetitions)))
    print()
    print("\n".join(memory_lines(medians)))
    if args.instructions:
        print("\n".join(instructions_lines(args.binary)))


if __name__ == "__main__":
    main()
