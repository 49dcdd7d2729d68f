"""The msKPP 910B1 silicon tables in validation/mskpp-910b1/, read as points to compare with.

A point is one row of a table: the `npusim probe` arguments that time the same instruction,
and the silicon's cycles per instruction at the model's core clock. Rows the source README
lists as wrong are corrected or left out here, once, for every script that uses the tables.
"""
import csv
import os
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
TABLES = os.path.join(HERE, "..", "validation", "mskpp-910b1")

# Move tables: probe memories and the extra probe options of the table.
MOVES = {
    "gm_to_l1_910b1": ("gm", "l1", []),
    "gm_to_l1_trans_910b1": ("gm", "l1", ["--format", "nd2nz"]),
    "gm_to_ub_910b1": ("gm", "ub", []),
    "l1_to_l0a_910b1": ("l1", "l0a", []),
    "l0c_to_gm_910b1": ("l0c", "gm", []),
    "l1_to_bt_910b1": ("l1", "bt", []),
    "ub_to_ub_910b1": ("ub", "ub", []),
    "gm_to_l0a_910b1_repeat": ("gm", "l0a", None),  # None: the x column is --repeat
    "l1_to_l0a_910b1_repeat": ("l1", "l0a", None),
}
REPEAT_BYTES = 1024  # one repeat of a load, as `npusim probe move --repeat` defines it

# The tables' sizeof(src0) (README): int4 counts as 1 byte there, though it packs two a byte.
DTYPE_BYTES = {"fp16": 2, "bf16": 2, "int16": 2, "uint16": 2, "fp32": 4, "int32": 4,
               "uint32": 4, "int8": 1, "uint8": 1, "int4": 1, "int64": 8, "uint64": 8}
# README anomaly 5: num_elements is mis-generated; total_cycles is right.
TOTAL_CYCLES_TABLES = {"vshl_uint16_uint16", "vmla_fp16_fp16_fp32", "vmla_fp16_fp16_fp16",
                       "vreducev2_uint16_uint16_uint16"}


@dataclass
class Point:
    table: str
    args: list     # npusim probe arguments
    x: float       # bytes (moves), multiply-accumulates (mmad) or repeats (vector)
    ns: float      # silicon time per instruction (moves; the tables give GiB/s), else None
    cycles: float  # silicon cycles per instruction (mmad, vector; the tables count cycles)
    shape: tuple = ()

    def cycles_at(self, clock_hz):
        return self.cycles if self.ns is None else self.ns * 1e-9 * clock_hz

    def error(self, probe):
        """model rate / silicon rate - 1 for `npusim probe` output of the same instruction."""
        if self.ns is not None:
            return self.ns / probe["ns_per_instr"] - 1
        return self.cycles / probe["cycles_per_instr"] - 1


def table_names():
    return sorted(f[:-4] for f in os.listdir(TABLES) if f.endswith(".csv"))


def rows_of(name):
    with open(os.path.join(TABLES, name + ".csv"), newline="") as f:
        return list(csv.DictReader(f))


def vector_parts(name):
    """'vadd_fp16_fp16_fp16_1_core_910b1' -> ('vadd', 'fp16_fp16_fp16')."""
    stem = name[: name.index("_1_core")]
    return stem[: stem.index("_")], stem[stem.index("_") + 1:]


def points(name):
    """The comparable rows of a table (failed measurements left out)."""
    out = []
    for row in rows_of(name):
        if name in MOVES:
            src, dst, extra = MOVES[name]
            if extra is None:
                reps = int(row["repeat_count"])
                nbytes, args = reps * REPEAT_BYTES, ["move", src, dst, "--repeat", str(reps)]
            else:
                nbytes = round(float(row["num_bursts_KiB"]) * 1024)
                args = ["move", src, dst, str(nbytes), *extra]
            ns = nbytes / (float(row["bandwidth_GB_per_s"]) * 2**30) * 1e9
            out.append(Point(name, args, nbytes, ns, None))
        elif name.startswith("mmad_"):
            m, k, n = (int(row[c]) for c in ("m_elements", "k_elements", "n_elements"))
            cycles = 2 * m * k * n / float(row["cal_perf_ops_per_cycle"])
            out.append(Point(name, ["mmad", str(m), str(k), str(n)], m * k * n, None, cycles,
                             (m, k, n)))
        else:
            instr, dtypes = vector_parts(name)
            stem = name[: name.index("_1_core")]
            perf = float(row["cal_perf_bytes_per_cycle"])
            if perf < 6:  # failed measurements (README anomaly 3)
                continue
            src_bytes = DTYPE_BYTES[dtypes.split("_")[0]]
            if stem == "vconv_fp32_fp16":  # rate computed with the 2-byte output (anomaly 4)
                src_bytes = 2
            if stem in TOTAL_CYCLES_TABLES:
                cycles = float(row["total_cycles"])
            else:
                cycles = float(row["num_elements"]) * src_bytes / perf
            reps = int(row["repeat_count"])
            out.append(Point(name, ["vector", instr, dtypes, str(reps)], reps, None, cycles))
    return out
