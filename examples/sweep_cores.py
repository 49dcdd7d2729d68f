#!/usr/bin/env python3
"""Sweep the AI core count of a platform for one workload and plot the device span.

    PYTHONPATH=build/python python3 examples/sweep_cores.py
    PYTHONPATH=build/python python3 examples/sweep_cores.py --platform ascend910b1 \\
        --workload bert_base_s512 --cores 4 8 16 24 --out bert_cores.png

Each point is one npusim run in its own process (docs/python.md); the sweep runs them two at a
time and returns one record per point, which this script turns into a line plot. The `# %%`
cells run one by one in editors that know them (VS Code, Spyder, Jupytext).
"""
import argparse

import matplotlib

matplotlib.use("Agg")  # files only: no display needed
import matplotlib.pyplot as plt

import npusim


# %% The parameters (a notebook would set them here)
def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--platform", default="ascend910b1")
    ap.add_argument("--workload", default="bert_base_s128")
    ap.add_argument("--cores", type=int, nargs="+", default=[4, 8, 12, 16, 20, 24])
    ap.add_argument("--out", default="sweep_cores.png")
    a = ap.parse_args()

    # %% The sweep: one record per point, failed points included
    records = npusim.sweep({
        "name": "cores",
        "platform": a.platform,
        "workloads": [a.workload],
        "timing_only": True,
        "parameters": [{"grid": {"chip.cores": a.cores}}],
        "metrics": ["summary.device_span_ns", "summary.fraction_of_peak"],
    }, jobs=2)
    ok = [r for r in records if r["status"] == "ok"]
    for r in records:
        if r["status"] != "ok":
            print(f"point {r['label']} failed: {r['error']}")
    cores = [int(r["params"]["chip.cores"]) for r in ok]
    span_us = [r["metrics"]["summary.device_span_ns"] / 1000 for r in ok]
    for c, s in zip(cores, span_us):
        print(f"{c:4d} cores  {s:10.2f} us")

    # %% The plot
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(cores, span_us, marker="o")
    ax.set_xlabel("AI cores (chip.cores)")
    ax.set_ylabel("device span (us)")
    ax.set_title(f"{a.workload} on {a.platform}, timing-only")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(a.out, dpi=120)
    print(f"wrote {a.out}")
    return 0 if len(ok) == len(records) else 1


if __name__ == "__main__":
    raise SystemExit(main())
