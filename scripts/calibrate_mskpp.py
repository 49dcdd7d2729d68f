#!/usr/bin/env python3
"""Fits the ascend910b1 preset's timing parameters to the 910B1 silicon tables.

Each parameter is fitted from the closed form the model follows on an idle core, 1024 identical
instructions back to back (docs/timing-model.md), and written into the preset between the
`# >>> calibrated: NAME` and `# <<< calibrated: NAME` markers with a comment naming its table:

  move of S bytes   max(issue_cycles, latency [+ format_latency] + S / issue_bytes_per_cycle,
                        S / bytes_per_cycle)
  mmad              max(cube.issue_cycles, cube.fixed_cycles + fractals)
  vector, R repeats max(issue_cycles, fixed_cycles + ceil(R x cycles_per_repeat)), per
                    instruction and operand widths (vector.instructions.<instr>.<widths>)

The fit minimises the squared log error of the cycles per instruction over the table's rows
(Nelder-Mead from several starts; pure Python, deterministic). Run it after a table or a closed
form changes, then `scripts/validate_mskpp.py` to see the result against the probe:

    scripts/calibrate_mskpp.py [--preset configs/platforms/ascend910b1.yaml] [--dry-run]
"""
import argparse
import math
import os
import re
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mskpp  # noqa: E402


def nelder_mead(f, x0, iters=4000):
    n = len(x0)
    pts = [list(x0)] + [[v * (1.25 if j == i else 1) + (0.5 if j == i and v == 0 else 0)
                         for j, v in enumerate(x0)] for i in range(n)]
    vals = [f(p) for p in pts]
    for _ in range(iters):
        order = sorted(range(n + 1), key=lambda i: vals[i])
        pts, vals = [pts[i] for i in order], [vals[i] for i in order]
        c = [sum(p[j] for p in pts[:-1]) / n for j in range(n)]
        xr = [2 * c[j] - pts[-1][j] for j in range(n)]
        fr = f(xr)
        if fr < vals[0]:
            xe = [3 * c[j] - 2 * pts[-1][j] for j in range(n)]
            fe = f(xe)
            pts[-1], vals[-1] = (xe, fe) if fe < fr else (xr, fr)
        elif fr < vals[-2]:
            pts[-1], vals[-1] = xr, fr
        else:
            xc = [(c[j] + pts[-1][j]) / 2 for j in range(n)]
            fc = f(xc)
            if fc < vals[-1]:
                pts[-1], vals[-1] = xc, fc
            else:
                pts = [pts[0]] + [[(pts[0][j] + p[j]) / 2 for j in range(n)] for p in pts[1:]]
                vals = [vals[0]] + [f(p) for p in pts[1:]]
    best = min(range(n + 1), key=lambda i: vals[i])
    return pts[best]


def fit(model, data, starts):
    """Parameters minimising sum(log(silicon / model)^2); all must stay positive."""
    def cost(p):
        if any(v < 0 for v in p):
            return 1e18
        return sum(math.log(c / max(model(p, x), 1e-9)) ** 2 for x, c in data)
    best = None
    for s in starts:
        p = nelder_mead(cost, nelder_mead(cost, s))
        if best is None or cost(p) < cost(best):
            best = p
    return best


def move_cycles(p, s):
    issue, latency, issue_bpc, bpc = p
    return max(issue, latency + (s / issue_bpc if issue_bpc > 0 else 0), s / bpc)


def quality(model, p, data):
    errs = [abs(c / model(p, x) - 1) for x, c in data]
    return f"median |error| {statistics.median(errs):.1%}, {sum(e <= 0.1 for e in errs)}/" \
           f"{len(errs)} within 10%"


def fit_move(table, clock):
    data = [(pt.x, pt.cycles_at(clock)) for pt in mskpp.points(table)]
    p = fit(move_cycles, data, [[4, 100, 150, 100], [2, 5, 300, 250], [50, 200, 80, 45],
                                [1, 1, 1000, 30]])
    # Cycle keys are whole cycles; rates to 0.1 B/cycle. Terms that cannot bind are dropped so
    # the preset shows what matters: an issue rate 10x above the port's is unbounded (0); with
    # no start-up, an issue rate below the port's is the port's rate; a
    # floor at or below the start-up is 0.
    issue, latency = round(p[0]), round(p[1])
    issue_bpc = round(p[2], 1)
    bpc = round(p[3], 1)
    if issue_bpc > 10 * bpc:
        issue_bpc = 0
    if latency == 0 and 0 < issue_bpc < bpc:
        bpc, issue_bpc = issue_bpc, 0
    if issue <= latency:
        issue = 0
    r = (issue, latency, issue_bpc, bpc)
    return r, quality(move_cycles, r, data)


def fit_format_latency(table, clock, base):
    issue, latency, issue_bpc, bpc = base
    data = [(pt.x, pt.cycles_at(clock)) for pt in mskpp.points(table)]

    def model(p, s):
        return move_cycles((issue, latency + p[0], issue_bpc, bpc), s)
    p = fit(model, data, [[100], [500], [1000]])
    extra = round(p[0])
    return extra, quality(model, [extra], data)


def fit_cube(table):
    pts = mskpp.points(table)
    data = [(math.ceil(m / 16) * math.ceil(k / 16) * math.ceil(n / 16), pt.cycles)
            for pt in pts for (m, k, n) in [pt.shape]]

    def model(p, fr):
        return max(p[0], p[1] + fr)
    best = min(((i, f) for i in range(1, 17) for f in range(0, 9)),
               key=lambda p: sum(math.log(c / model(p, x)) ** 2 for x, c in data))
    return best, quality(model, best, data)


# Dtype names of the tables the vector unit runs, and their bytes.
MODEL_DTYPES = {"fp16": 2, "bf16": 2, "fp32": 4, "int32": 4, "int8": 1, "int16": 2, "uint16": 2,
                "uint32": 4, "uint8": 1, "int64": 8, "uint64": 8, "int4": 0.5}
FLOATS = {"fp16", "bf16", "fp32"}


def cost_key(src, dst):
    return src if src == dst else f"{src}_{dst}"


def key_types(key):
    parts = key.split("_")
    return parts[0], parts[-1]


# Instructions the tables do not measure, costed as the sibling they share a unit with.
SIBLINGS = {"vsub": "vadd", "vmin": "vmax", "vmaxs": "vadds", "vmins": "vadds", "vln": "vexp",
            "vsel": "vadd", "vsubrelu": "vaddrelu", "vor": "vand", "vnot": "vand",
            "vshr": "vshl", "vmadd": "vmla", "vmaddrelu": "vmla", "vcmin": "vcmax",
            "vcgmax": "vcgadd", "vcgmin": "vcgadd", "vsubreluconv": "vaddreluconv"}


def modelled_vector_keys():
    """(instr, dtype key) rows of the platform schema, from its generated reference."""
    with open(os.path.join(HERE, "..", "docs", "config-reference.md")) as f:
        return set(re.findall(r"`vector\.instructions\.(\w+)\.(\w+)\.issue_cycles`", f.read()))


def vector_groups():
    """{(instr, dtype key): [tables]} for the tables the vector unit can run."""
    known = modelled_vector_keys()
    groups = {}
    for name in mskpp.table_names():
        if not name.startswith("v"):
            continue
        instr, dtypes = mskpp.vector_parts(name)
        parts = dtypes.split("_")
        if any(p not in MODEL_DTYPES for p in parts):
            continue
        key = cost_key(parts[0], parts[-1])
        if (instr, key) in known:
            groups.setdefault((instr, key), []).append(name)
    return groups


def same_width_row(rows, key):
    """The measured row of an instruction for a dtype key without a table: same operand widths,
    a float source for a float source (bf16 takes fp16's row, uint16 int16's)."""
    src, dst = key_types(key)
    best = None
    for row in rows:
        s, d = key_types(row[0])
        if MODEL_DTYPES[s] != MODEL_DTYPES[src] or MODEL_DTYPES[d] != MODEL_DTYPES[dst]:
            continue
        score = ((s in FLOATS) == (src in FLOATS)) + ((d in FLOATS) == (dst in FLOATS))
        if best is None or score > best[0]:
            best = (score, row)
    return best[1] if best else None


def vector_cycles(p, reps):
    issue, fixed, per = p
    return max(issue, fixed + math.ceil(reps * per - 1e-9))


def fit_vector(tables):
    data = [(pt.x, pt.cycles) for t in tables for pt in mskpp.points(t)]
    smooth = fit(lambda p, r: max(p[0], p[1] + r * p[2]), data,
                 [[3, 0, 1], [3, 0, 2], [6, 3, 4], [3, 3, 12]])
    issue, fixed = max(1, round(smooth[0])), round(smooth[1])

    def cost(per):
        return sum(math.log(c / vector_cycles((issue, fixed, per), r)) ** 2 for r, c in data)
    # Cycles per repeat to 1/64 of a cycle, searched around the smooth fit (the model rounds
    # repeats x cycles per repeat up to whole cycles).
    centre = max(1, round(smooth[2] * 64))
    per = min((k / 64 for k in range(max(1, centre // 2), centre * 2 + 2)), key=cost)
    r = (issue, fixed, round(per, 4))
    return r, quality(vector_cycles, r, data)


def replace_block(text, name, lines, indent):
    begin, end = f"{indent}# >>> calibrated: {name}", f"{indent}# <<< calibrated: {name}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        sys.exit(f"calibrate_mskpp: the preset has no '{begin.strip()}' ... '{end.strip()}' "
                 "block")
    body = "\n".join([begin + " (scripts/calibrate_mskpp.py; do not edit by hand)"] +
                     [indent + ln for ln in lines] + [end])
    return pattern.sub(lambda _: body, text, count=1)


def path_line(name, p, source, fmt=None):
    issue, latency, issue_bpc, bpc = p
    fields = [f"bytes_per_cycle: {bpc:g}", f"latency: {latency}"]
    if issue_bpc:
        fields.append(f"issue_bytes_per_cycle: {issue_bpc:g}")
    fields += [f"issue_cycles: {issue}", "burst_overhead: 0"]
    if fmt is not None:
        fields.append(f"format_latency: {fmt}")
    return f"{name + ':':11s}{{{', '.join(fields)}}}  # {source}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default=os.path.join(HERE, "..", "configs", "platforms",
                                                     "ascend910b1.yaml"))
    ap.add_argument("--dry-run", action="store_true", help="print the fit, leave the preset")
    a = ap.parse_args()
    with open(a.preset) as f:
        text = f.read()
    m = re.search(r"^\s+cube:\s*([0-9.]+)GHz", text, re.M)
    if not m:
        sys.exit("calibrate_mskpp: no chip.clock.cube in GHz in the preset")
    clock = float(m.group(1)) * 1e9

    fitted, notes = {}, []
    for path, table in [("gm_to_l1", "gm_to_l1_910b1"), ("gm_to_ub", "gm_to_ub_910b1"),
                        ("gm_to_l0a", "gm_to_l0a_910b1_repeat"),
                        ("l1_to_l0a", "l1_to_l0a_910b1"), ("l1_to_bt", "l1_to_bt_910b1"),
                        ("l0c_to_gm", "l0c_to_gm_910b1"), ("ub_to_ub", "ub_to_ub_910b1")]:
        fitted[path], q = fit_move(table, clock)
        notes.append(f"{path}: {fitted[path]} from {table}: {q}")
    fmt, q = fit_format_latency("gm_to_l1_trans_910b1", clock, fitted["gm_to_l1"])
    notes.append(f"gm_to_l1 format_latency {fmt} from gm_to_l1_trans_910b1: {q}")
    (cube_issue, cube_fixed), q = fit_cube("mmad_fp16_fp16_fp32_1_core_910b1")
    notes.append(f"cube issue {cube_issue} fixed {cube_fixed}: {q}")
    vector = []
    by_instr = {}
    for (instr, key), tables in sorted(vector_groups().items()):
        (issue, fixed, per), q = fit_vector(tables)
        notes.append(f"{instr} {key}: issue {issue} fixed {fixed} per repeat {per} from "
                     f"{', '.join(tables)}: {q}")
        by_instr.setdefault(instr, []).append((key, issue, fixed, per, tables))
    # Instructions without a table take their measured sibling's costs, and dtypes without a
    # table the row of the same instruction at the same operand widths.
    known = modelled_vector_keys()
    for instr, sibling in SIBLINGS.items():
        rows = [r for r in by_instr.get(sibling, []) if (instr, r[0]) in known]
        if rows:
            by_instr[instr] = [(k, i, f, p, [f"{sibling} (sibling, no table)"])
                               for k, i, f, p, _ in rows]
    for instr, key in sorted(known):
        rows = by_instr.get(instr, [])
        if any(r[0] == key for r in rows):
            continue
        row = same_width_row(rows, key)
        if row:
            rows.append((key, row[1], row[2], row[3], [f"{key} as {row[0]}"]))
    for instr, rows in sorted(by_instr.items()):
        vector.append(f"{instr}:  # " + ", ".join(dict.fromkeys(
            t.replace("_1_core_910b1", "") for row in rows for t in row[4])))
        vector += [f"  {key}: {{issue_cycles: {issue}, fixed_cycles: {fixed}, "
                   f"cycles_per_repeat: {per:g}}}" for key, issue, fixed, per, _ in rows]
    for n in notes:
        print(n)

    def sibling(of, bpc=None):
        issue, latency, issue_bpc, own = fitted[of]
        return (issue, latency, issue_bpc if bpc is None else 0, bpc or own)
    t = "table"
    paths = [
        path_line("gm_to_l1", fitted["gm_to_l1"], f"{t} gm_to_l1, format_latency "
                  "gm_to_l1_trans", fmt),
        path_line("gm_to_l0a", fitted["gm_to_l0a"], f"{t} gm_to_l0a_repeat"),
        path_line("gm_to_l0b", sibling("gm_to_l0a"), "estimate: as gm_to_l0a"),
        path_line("gm_to_ub", fitted["gm_to_ub"], f"{t} gm_to_ub"),
        path_line("l1_to_l0a", fitted["l1_to_l0a"], f"{t} l1_to_l0a"),
        path_line("l1_to_l0b", sibling("l1_to_l0a", 128),
                  "128 B/cycle [MSKPP map]; start-up as l1_to_l0a (estimate)"),
        "l1_to_ub:  {bytes_per_cycle: 0}      # no L1<->UB on split chips [AC-ARCH220]",
        path_line("l1_to_bt", fitted["l1_to_bt"], f"{t} l1_to_bt"),
        path_line("l1_to_fb", sibling("l1_to_bt"), "estimate: as l1_to_bt"),
        path_line("l1_to_gm", sibling("l0c_to_gm", 128),
                  "128 B/cycle [MSKPP map]; start-up as l0c_to_gm (estimate)"),
        path_line("ub_to_gm", sibling("l0c_to_gm", 64),
                  "ub_to_ddr_rate 64 [RT-INI]; start-up as l0c_to_gm (estimate)"),
        "ub_to_l1:  {bytes_per_cycle: 0}",
        path_line("ub_to_ub", fitted["ub_to_ub"], f"{t} ub_to_ub"),
        path_line("l0c_to_gm", fitted["l0c_to_gm"], f"{t} l0c_to_gm"),
        path_line("l0c_to_l1", sibling("l1_to_l0a", 256),
                  "256 B/cycle [MSKPP map]; start-up as l1_to_l0a (estimate)"),
        "l0c_to_ub: {bytes_per_cycle: 0}",
    ]
    cube = [f"issue_cycles: {cube_issue}      # table mmad_fp16_fp16_fp32",
            f"fixed_cycles: {cube_fixed}      # table mmad_fp16_fp16_fp32"]
    text = replace_block(text, "paths", paths, "  ")
    text = replace_block(text, "cube", cube, "  ")
    text = replace_block(text, "vector", vector, "    ")
    if a.dry_run:
        return 0
    with open(a.preset, "w") as f:
        f.write(text)
    print("wrote", os.path.relpath(a.preset))
    return 0


if __name__ == "__main__":
    sys.exit(main())
