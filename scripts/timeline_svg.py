#!/usr/bin/env python3
"""Draws a Chrome trace from `npusim run --timeline` as an SVG Gantt chart, one row per track
(host threads, streams, each core's blocks and pipes), for documents where Perfetto is not at
hand. Usage: scripts/timeline_svg.py TRACE.json OUT.svg [--cores 0,24] [--all] [--width PX]
By default the window starts at the first kernel block (host copies before it are cut).
"""
import argparse
import html
import json

PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#bab0ac"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trace")
    ap.add_argument("out")
    ap.add_argument("--cores", default="0,1", help="cores to draw, e.g. 0,24 (default 0,1)")
    ap.add_argument("--all", action="store_true", help="from time 0, not the first kernel")
    ap.add_argument("--width", type=int, default=1200)
    a = ap.parse_args()

    events = json.load(open(a.trace))["traceEvents"]
    process, thread = {}, {}
    for e in events:
        if e["ph"] == "M" and e["name"] == "process_name":
            process[e["pid"]] = e["args"]["name"]
        elif e["ph"] == "M" and e["name"] == "thread_name":
            thread[(e["pid"], e["tid"])] = e["args"]["name"]
    cores = {int(c) for c in a.cores.split(",")}
    spans = [e for e in events if e["ph"] == "X" and (e["pid"] < 10 or e["pid"] - 10 in cores)]
    if not spans:
        raise SystemExit("no spans in " + a.trace)
    blocks = [e["ts"] for e in spans if e.get("cat") == "block"]
    t0 = min(e["ts"] for e in spans) if a.all or not blocks else min(blocks)
    spans = [e for e in spans if e["ts"] + e["dur"] > t0]
    for e in spans:  # clip what started before the window
        if e["ts"] < t0:
            e["dur"] -= t0 - e["ts"]
            e["ts"] = t0
    rows = sorted({(e["pid"], e["tid"]) for e in spans})
    t1 = max(e["ts"] + e["dur"] for e in spans)
    label_w, row_h, top = 230, 18, 30
    scale = (a.width - label_w - 10) / max(t1 - t0, 1e-9)
    colour = {}

    def colour_of(name):
        key = name.split(" #")[0]
        if key not in colour:
            colour[key] = PALETTE[len(colour) % len(PALETTE)]
        return colour[key]

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{a.width}" '
           f'height="{top + row_h * len(rows) + 40}" font-family="sans-serif" font-size="11">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="{label_w}" y="18">{t0:.1f} us to {t1:.1f} us</text>']
    for i, (pid, tid) in enumerate(rows):
        y = top + i * row_h
        name = f"{process.get(pid, pid)} / {thread.get((pid, tid), tid)}"
        out.append(f'<text x="4" y="{y + 13}">{html.escape(name)}</text>')
        out.append(f'<line x1="{label_w}" x2="{a.width - 10}" y1="{y + row_h - 1}" '
                   f'y2="{y + row_h - 1}" stroke="#eee"/>')
        for e in spans:
            if (e["pid"], e["tid"]) != (pid, tid):
                continue
            x = label_w + (e["ts"] - t0) * scale
            w = max(e["dur"] * scale, 0.5)
            out.append(f'<rect x="{x:.2f}" y="{y + 2}" width="{w:.2f}" height="{row_h - 5}" '
                       f'fill="{colour_of(e["name"])}"><title>{html.escape(e["name"])} '
                       f'{e["dur"]:.3f} us</title></rect>')
    y = top + row_h * len(rows) + 20
    x = label_w
    for name, c in list(colour.items())[:12]:
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{c}"/>'
                   f'<text x="{x + 14}" y="{y}">{html.escape(name)}</text>')
        x += 14 + 7 * len(name) + 16
    out.append("</svg>")
    open(a.out, "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
