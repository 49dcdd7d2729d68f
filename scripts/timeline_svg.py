#!/usr/bin/env python3
"""Draws a Chrome trace from `npusim run --timeline` as an SVG Gantt chart, one row per track
(host threads, streams, each core's blocks and pipes), for documents where Perfetto is not at
hand. Usage: scripts/timeline_svg.py TRACE.json OUT.svg [--cores 0,24] [--all] [--width PX]
By default the window starts at the first kernel block (host copies before it are cut).
"""
import argparse
import colorsys
import html
import json
import math

PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#bab0ac"]


def nth_colour(i):
    """Ten hand-picked colours, then distinct hues by the golden angle."""
    if i < len(PALETTE):
        return PALETTE[i]
    h = (i * 0.618033988749895) % 1.0
    r, g, b = colorsys.hls_to_rgb(h, 0.5 if i % 2 else 0.38, 0.65)
    return "#%02x%02x%02x" % (int(r * 255), int(g * 255), int(b * 255))


def op_type(e):
    """What colours a span: its op type (a stream span's `op` argument; a block's or pipe's
    kernel name up to ' -> ', which workload ops are named 'op -> node')."""
    args = e.get("args", {})
    if "op" in args:
        return args["op"]
    name = args.get("kernel", e["name"].split(" #")[0])
    return name.split(" -> ")[0]


def nice_step(span, ticks=8):
    raw = span / ticks
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


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

    def colour_of(e):
        key = op_type(e)
        if key not in colour:
            colour[key] = nth_colour(len(colour))
        return colour[key]

    for e in sorted(spans, key=lambda e: e["ts"]):
        colour_of(e)
    # The legend wraps over as many lines as it needs.
    legend, x, line = [], label_w, 0
    for name in colour:
        w = 14 + 7 * len(name) + 16
        if x + w > a.width - 10 and x > label_w:
            x, line = label_w, line + 1
        legend.append((name, x, line))
        x += w
    axis_y = top + row_h * len(rows)
    height = axis_y + 30 + 16 * (line + 1) + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{a.width}" '
           f'height="{height}" font-family="sans-serif" font-size="11">',
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
                       f'fill="{colour_of(e)}"><title>{html.escape(e["name"])} '
                       f'{e["dur"]:.3f} us</title></rect>')
    # Time axis: ticks at round multiples, in us.
    step = nice_step(t1 - t0)
    out.append(f'<line x1="{label_w}" x2="{a.width - 10}" y1="{axis_y + 2}" y2="{axis_y + 2}" '
               'stroke="black"/>')
    tick = math.ceil(t0 / step) * step
    while tick <= t1 + 1e-9:
        x = label_w + (tick - t0) * scale
        out.append(f'<line x1="{x:.2f}" x2="{x:.2f}" y1="{axis_y + 2}" y2="{axis_y + 6}" '
                   f'stroke="black"/><text x="{x:.2f}" y="{axis_y + 18}" '
                   f'text-anchor="middle">{tick:g} us</text>')
        tick += step
    for name, x, line in legend:
        y = axis_y + 40 + 16 * line
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour[name]}"/>'
                   f'<text x="{x + 14}" y="{y}">{html.escape(name)}</text>')
    out.append("</svg>")
    open(a.out, "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
