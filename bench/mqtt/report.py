#!/usr/bin/python3
"""Prints the tables of bench/mqtt/run from the JSON files it collected.

results/<broker>.<scenario>.<run>.json  -- `mote bench mqtt --json` output
results/<broker>.idle.json              -- the idle run (connections up)
results/<broker>.rss.json               -- VmRSS before and after it
"""

import glob
import json
import os
import statistics
import sys

ROWS = [
    ("1-1-q0-16", "1 → 1, QoS 0, 16 B"),
    ("fan-in-q0-16", "fan-in 16 → 1, QoS 0, 16 B"),
    ("fan-in-q0-256", "fan-in 16 → 1, QoS 0, 256 B"),
    ("fan-in-q1-16", "fan-in 16 → 1, QoS 1, 16 B"),
    ("fan-in-q1-256", "fan-in 16 → 1, QoS 1, 256 B"),
    ("fan-out-q0-16", "fan-out 1 → 16, QoS 0, 16 B"),
    ("fan-out-q0-256", "fan-out 1 → 16, QoS 0, 256 B"),
    ("fan-out-q1-16", "fan-out 1 → 16, QoS 1, 16 B"),
    ("fan-out-q1-256", "fan-out 1 → 16, QoS 1, 256 B"),
    ("fan-in-q1-16-20k", "fan-in 16 → 1, QoS 1, 16 B, at 20k msg/s"),
]
BROKERS = ["mosquitto", "mote"]


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def median_run(directory, broker, scenario):
    """The run with the median received msgs/s, and how many runs there were."""
    runs = []
    for path in glob.glob(os.path.join(directory, f"{broker}.{scenario}.*.json")):
        run = load(path)
        if not run or run.get("received_per_second", 0) <= 0:
            continue
        try:
            with open(path[:-len(".json")] + ".cpu") as f:
                run["broker_cpu_ns"] = int(f.read())
        except (OSError, ValueError):
            run["broker_cpu_ns"] = 0
        delivered = run["received"] + run["duplicates"]
        run["broker_cpu_ns_per_message"] = run["broker_cpu_ns"] / delivered if delivered else 0
        run["generator_cpu_ns_per_message"] = (
            run.get("cpu_seconds", 0) * 1e9 / delivered if delivered else 0)
        runs.append(run)
    if not runs:
        return None, 0
    runs.sort(key=lambda r: r["received_per_second"])
    return runs[(len(runs) - 1) // 2], len(runs)


def fmt_rate(x):
    return f"{x / 1000:,.0f}k" if x >= 10000 else f"{x:,.0f}"


def fmt_us(x):
    if x >= 10000:
        return f"{x / 1000:,.1f} ms"
    return f"{x:,.0f} µs"


def main():
    directory = sys.argv[1]
    json_out = sys.argv[sys.argv.index("--json") + 1] if "--json" in sys.argv else None
    summary = {"throughput": [], "memory": []}

    ran = [(key, title) for key, title in ROWS
           if any(median_run(directory, b, key)[0] for b in BROKERS)]  # none: --memory-only
    if ran:
        print("| scenario | mosquitto msg/s | mote msg/s | mote / mosquitto | "
              "mosquitto p50 | mote p50 | mosquitto p99 | mote p99 | lost (mosq / mote) | "
              "broker CPU ns/msg (mosq / mote) | generator CPU ns/msg (mosq / mote) |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for key, title in ran:
        runs = {b: median_run(directory, b, key)[0] for b in BROKERS}
        if not all(runs.values()):
            print(f"| {title} | " + " | ".join("failed" if not runs[b] else "" for b in BROKERS)
                  + " | | | | | | | | |")
            continue
        m, t = runs["mosquitto"], runs["mote"]
        ratio = t["received_per_second"] / m["received_per_second"]
        print(f"| {title} | {fmt_rate(m['received_per_second'])} | "
              f"{fmt_rate(t['received_per_second'])} | {ratio:.2f}x | "
              f"{fmt_us(m['latency_us']['p50'])} | {fmt_us(t['latency_us']['p50'])} | "
              f"{fmt_us(m['latency_us']['p99'])} | {fmt_us(t['latency_us']['p99'])} | "
              f"{m['lost']} / {t['lost']} | "
              f"{m['broker_cpu_ns_per_message']:,.0f} / {t['broker_cpu_ns_per_message']:,.0f} | "
              f"{m['generator_cpu_ns_per_message']:,.0f} / "
              f"{t['generator_cpu_ns_per_message']:,.0f} |")
        summary["throughput"].append({
            "scenario": key, "mosquitto": m, "mote": t, "ratio": ratio})

    print()
    print("| idle MQTT 3.1.1 connections | mosquitto | mote |")
    print("|---|---:|---:|")
    rows = {}
    for b in BROKERS:
        idle = load(os.path.join(directory, f"{b}.idle.json")) or {}
        rss = load(os.path.join(directory, f"{b}.rss.json")) or {}
        connected = idle.get("connected", 0)
        delta = (rss.get("rss_after_kb", 0) - rss.get("rss_before_kb", 0)) * 1024
        rows[b] = (connected, rss.get("rss_before_kb", 0), rss.get("rss_after_kb", 0),
                   delta / connected if connected else 0)
        summary["memory"].append({"broker": b, "connected": connected,
                                  "rss_before_kb": rows[b][1], "rss_after_kb": rows[b][2],
                                  "bytes_per_connection": rows[b][3]})
    print(f"| connections up | {rows['mosquitto'][0]:,} | {rows['mote'][0]:,} |")
    print(f"| VmRSS before → after | {rows['mosquitto'][1]:,} → {rows['mosquitto'][2]:,} kB | "
          f"{rows['mote'][1]:,} → {rows['mote'][2]:,} kB |")
    print(f"| bytes per connection | {rows['mosquitto'][3]:,.0f} | {rows['mote'][3]:,.0f} |")

    if json_out:
        with open(json_out, "w") as f:
            json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
