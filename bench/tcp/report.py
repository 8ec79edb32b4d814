"""Runs mote's TCP benchmarks and prints the tables of docs/benchmarks.md.

Called by bench/tcp/run after the build: every cell is its own process
(lwIP keeps its state in globals), every bulk cell runs --repeat times (in
rounds over all cells) and the median and the best run are reported.
"""

import argparse
import os
import statistics
import subprocess
import sys

STACKS = ("mote", "lwip", "lwip-ts", "kernel")
MSS_VALUES = (536, 1460, 8192)
# The grid of issue 5: loss x buffer x RTT.
LOSS = (0, 1, 5, 10, 20, 30)
BUFFERS = (128, 1024, 4096, 32768)
RTTS_MS = (10, 100)
# smoltcp's published netsim figures (100 ms RTT, 32 KiB buffers), B/s.
SMOLTCP = {0: 322945, 5: 76626, 10: 37775}


def parse(line):
    fields = {}
    for part in line.split(" "):
        if "=" in part:
            key, value = part.split("=", 1)
            fields[key] = value
    if "notes=" in line:
        fields["notes"] = line.split("notes=", 1)[1]
    return fields


def run_one(command):
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("stack=")]
    if not lines:
        sys.stderr.write(done.stderr)
        return {"result": "failed"}
    return parse(lines[-1])


def fmt(value, digits=2):
    return "—" if value is None else f"{value:.{digits}f}"


def bulk(args):
    # Round robin over the cells, one run of each per round: on a shared
    # machine a burst of load from elsewhere then slows every stack alike
    # instead of all runs of one.
    results = {(stack, mss): [] for mss in MSS_VALUES for stack in STACKS}
    for _ in range(args.repeat):
        for mss in MSS_VALUES:
            for stack in STACKS:
                runs = results[(stack, mss)]
                if runs and runs[-1].get("result") != "ok":
                    continue
                runs.append(run_one([os.path.join(args.bin, "mote_tcp_bench"), "--stack", stack,
                                     "--mss", str(mss), "--bytes", str(args.bytes)]))
    print(f"Bulk transfer, {args.bytes:,} bytes, one connection, checksums on; "
          f"median of {args.repeat} runs (Gbps of checked payload):\n")
    print("| MSS | mote Gbps | lwIP Gbps | kernel Gbps | mote/lwIP | mote CPU Gbps | "
          "lwIP CPU Gbps | kernel CPU Gbps | CPU mote/lwIP |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    notes = []
    medians = {}
    bests = {}
    for mss in MSS_VALUES:
        wall, cpu = {}, {}
        for stack in STACKS:
            runs = results[(stack, mss)]
            if runs and all(run.get("result") == "ok" for run in runs):
                wall[stack] = statistics.median(float(run["gbps"]) for run in runs)
                cpu[stack] = statistics.median(float(run["cpu_gbps"]) for run in runs)
                bests[(stack, mss)] = max(float(run["cpu_gbps"]) for run in runs)
                if runs[-1].get("notes"):
                    notes.append(f"{stack} at MSS {mss}: {runs[-1]['notes']}")
            else:
                wall[stack] = cpu[stack] = bests[(stack, mss)] = None
                state = runs[-1].get("result", "failed") if runs else "failed"
                notes.append(f"{stack} at MSS {mss}: {state}")
            medians[(stack, mss)] = cpu[stack]

        def ratio(table):
            if table["mote"] is None or table["lwip"] is None:
                return "pending" if table["mote"] is None else "—"
            return f"{table['mote'] / table['lwip']:.2f}x"

        print(f"| {mss} | {fmt(wall['mote']) if wall['mote'] else 'pending'} | "
              f"{fmt(wall['lwip'])} | {fmt(wall['kernel'])} | {ratio(wall)} | "
              f"{fmt(cpu['mote']) if cpu['mote'] else 'pending'} | {fmt(cpu['lwip'])} | "
              f"{fmt(cpu['kernel'])} | {ratio(cpu)} |")
    print()
    # The same segments on both sides: lwIP's build with RFC 7323 timestamps,
    # whose 12 bytes of options mote's segments carry too (lwIP's default
    # build sends MSS bytes of payload per segment, mote MSS - 12).
    print("Like for like: lwIP built with timestamps (LWIP_TCP_TIMESTAMPS 1), so both stacks "
          "send the same segments; CPU Gbps, medians as above:\n")
    print("| MSS | mote CPU Gbps | lwIP with timestamps CPU Gbps | CPU mote/lwIP with timestamps |")
    print("|---:|---:|---:|---:|")
    for mss in MSS_VALUES:
        mote, lwip_ts = medians[("mote", mss)], medians[("lwip-ts", mss)]
        ratio = "—" if mote is None or lwip_ts is None else f"{mote / lwip_ts:.2f}x"
        print(f"| {mss} | {fmt(mote)} | {fmt(lwip_ts)} | {ratio} |")
    print()
    # Load from elsewhere only ever adds time, so the fastest run of each
    # cell is the closest to the stack's own cost (as timeit takes the
    # minimum).
    print(f"The best of the {args.repeat} runs, CPU Gbps:\n")
    print("| MSS | mote | lwIP | lwIP with timestamps | mote/lwIP | mote/lwIP with timestamps |")
    print("|---:|---:|---:|---:|---:|---:|")

    def best_ratio(mss, other):
        mote, them = bests[("mote", mss)], bests[(other, mss)]
        return "—" if mote is None or them is None else f"{mote / them:.2f}x"

    for mss in MSS_VALUES:
        print(f"| {mss} | {fmt(bests[('mote', mss)])} | {fmt(bests[('lwip', mss)])} | "
              f"{fmt(bests[('lwip-ts', mss)])} | {best_ratio(mss, 'lwip')} | "
              f"{best_ratio(mss, 'lwip-ts')} |")
    print()
    for note in notes:
        print(f"- {note}")
    print()
    return medians


def sizes(path):
    values = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            fields = parse(line.strip())
            scale = fields.pop("wnd_scale", None) or fields.pop("stack")
            for key, value in fields.items():
                values[(key, scale)] = int(value)
    print("lwIP 2.1.3 on a Cortex-M0 (arm-none-eabi-gcc -mcpu=cortex-m0 -mthumb -Os, "
          "the bench's lwipopts.h):\n")
    print("| | without window scaling | with window scaling (the benchmark's build) |")
    print("|---|---:|---:|")
    for key, label in (("lwip_tcp_pcb_size", "sizeof(struct tcp_pcb), bytes"),
                       ("lwip_tcp_pcb_listen_size", "sizeof(struct tcp_pcb_listen), bytes"),
                       ("tcp_text", "text of tcp.c + tcp_in.c + tcp_out.c, bytes")):
        print(f"| {label} | {values.get((key, '0'), '—')} | {values.get((key, '1'), '—')} |")
    mote_tcb = values.get(("mote_tcp_control_block_size", "mote"))
    print(f"| mote's TcpControlBlock, bytes (window scaling always in) | {mote_tcb or 'pending'} | "
          f"{mote_tcb or 'pending'} |")
    print()
    return values.get(("lwip_tcp_pcb_size", "0")), mote_tcb


def netsim_cell(args, stack, **cell):
    command = [os.path.join(args.bin, "mote_tcp_netsim"), "--stack", stack]
    for key, value in cell.items():
        command += ["--" + key.replace("_", "-"), str(value)]
    return run_one(command)


def netsim_grid(args, stack):
    """Goodput per (rtt, loss, buffer) for one stack; None when it is pending."""
    grid = {}
    for rtt in RTTS_MS:
        for loss in LOSS:
            for buffer in BUFFERS:
                fields = netsim_cell(args, stack, loss=loss, buffer=buffer, rtt_ms=rtt,
                                     seconds=args.seconds)
                if fields.get("result") == "pending":
                    return None
                grid[(rtt, loss, buffer)] = (float(fields["goodput"])
                                             if fields.get("result") == "ok" else None)
    return grid


def netsim(args):
    print(f"Network simulator: {args.seconds} s of virtual time per cell, MSS 1460, "
          "the loss in each direction, seed 1; goodput in bytes/s "
          "(window limit = buffer / RTT):\n")
    grids = {}
    for stack in ("mote", "lwip"):
        grid = grids[stack] = netsim_grid(args, stack)
        label = {"mote": "mote", "lwip": "lwIP 2.1.3"}[stack]
        if grid is None:
            print(f"{label}: pending (not in this build)\n")
            continue
        for rtt in RTTS_MS:
            print(f"{label}, RTT {rtt} ms:\n")
            print("| loss | " + " | ".join(f"{b:,} B" for b in BUFFERS) + " |")
            print("|---:|" + "---:|" * len(BUFFERS))
            for loss in LOSS:
                cells = ["failed" if grid[(rtt, loss, buffer)] is None
                         else f"{grid[(rtt, loss, buffer)]:,.0f}" for buffer in BUFFERS]
                print(f"| {loss}% | " + " | ".join(cells) + " |")
            print("\nwindow limit: " + ", ".join(
                f"{b:,} B → {b * 1000 // rtt:,} B/s" for b in BUFFERS) + "\n")
    print("smoltcp's published figures at 100 ms, 32 KiB: " +
          ", ".join(f"{loss}% → {value:,} B/s" for loss, value in SMOLTCP.items()) + "\n")

    rate, queue = 1_250_000, 64 * 1500
    print(f"64 flows through one bottleneck: {rate:,} B/s (10 Mbit/s), a {queue:,}-byte "
          f"tail-drop queue, RTT 100 ms, 32 KiB buffers per flow, no random loss, "
          f"{args.seconds} s:\n")
    print("| stack | goodput B/s | of the rate | frames at the queue | tail drops | drop rate |")
    print("|---|---:|---:|---:|---:|---:|")
    drop_rates = {}
    for stack in ("mote", "lwip"):
        fields = netsim_cell(args, stack, flows=64, buffer=32768, rtt_ms=100, rate=rate,
                             queue=queue, seconds=args.seconds)
        if fields.get("result") != "ok":
            drop_rates[stack] = None
            print(f"| {stack} | {fields.get('result', 'failed')} | | | | |")
            continue
        goodput = float(fields["goodput"])
        drop_rates[stack] = float(fields["drop_rate"])
        print(f"| {stack} | {goodput:,.0f} | {goodput / rate:.0%} | {int(fields['arrived']):,} | "
              f"{int(fields['queue_dropped']):,} | {drop_rates[stack]:.3f} |")
    print()
    return grids, drop_rates


def targets(bulk_results, tcbs, grids, drop_rates):
    """Issue 5's measured targets, for mote (lwIP's standing for reference)."""
    print("Issue 5's targets (mote; lwIP's standing against the same bar for reference):\n")
    print("| target | mote | lwIP |")
    print("|---|---|---|")

    def verdict(value, ok, text):
        if value is None:
            return "pending"
        return f"{text} {'met' if ok else 'NOT met'}"

    for mss in (1460, 536):
        mote, lwip = bulk_results.get(("mote", mss)), bulk_results.get(("lwip", mss))
        ratio = None if mote is None or lwip is None else mote / lwip
        print(f"| in-memory throughput ≥ 1.5x lwIP at MSS {mss} (CPU Gbps) | "
              f"{verdict(ratio, ratio is not None and ratio >= 1.5, f'{ratio:.2f}x' if ratio else '')}"
              " | 1.00x |")
    for loss, figure in SMOLTCP.items():
        row = f"| netsim 100 ms, 32 KiB, {loss}% loss ≥ smoltcp's {figure:,} B/s |"
        for stack in ("mote", "lwip"):
            grid = grids.get(stack) if grids else None
            value = None if grid is None else grid.get((100, loss, 32768))
            row += " " + verdict(value, value is not None and value >= figure,
                                 f"{value:,.0f} B/s" if value else "") + " |"
        print(row)
    row = "| netsim 0% loss within 5% of the window limit, every buffer and RTT |"
    for stack in ("mote", "lwip"):
        grid = grids.get(stack) if grids else None
        if grid is None:
            row += " pending |"
            continue
        worst = min((grid[(rtt, 0, b)] or 0) / (b * 1000 / rtt) for rtt in RTTS_MS for b in BUFFERS)
        row += f" worst {worst:.0%} of the limit, {'met' if worst >= 0.95 else 'NOT met'} |"
    print(row)
    row = "| 64-flow drop rate < 5% |"
    for stack in ("mote", "lwip"):
        value = drop_rates.get(stack) if drop_rates else None
        row += " " + verdict(value, value is not None and value < 0.05,
                             f"{value:.3f}" if value is not None else "") + " |"
    print(row)
    lwip_tcb, mote_tcb = tcbs
    mote_cell = verdict(mote_tcb, mote_tcb is not None and lwip_tcb is not None and mote_tcb < lwip_tcb,
                        f"{mote_tcb} B")
    print(f"| TCP control block < lwIP's {lwip_tcb} B (Cortex-M0) | {mote_cell} | {lwip_tcb} B |")
    print()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--sizes", required=True)
    # 256 MiB runs, 15 of each: on a shared machine more short runs give a
    # steadier best than a few long ones.
    parser.add_argument("--bytes", type=int, default=1 << 28)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--netsim", action="store_true")
    args = parser.parse_args()
    with open("/proc/loadavg", encoding="utf-8") as handle:
        load = handle.read().split()[0]
    print(f"Host: {os.cpu_count()} CPUs, load average {load} before the run.\n")
    bulk_results = bulk(args)
    tcbs = sizes(args.sizes)
    grids, drop_rates = netsim(args) if args.netsim else ({}, {})
    targets(bulk_results, tcbs, grids, drop_rates)


if __name__ == "__main__":
    main()
