"""The npusim Python module against the npusim command it drives: the same stats, the same
error texts, workloads built from Python values, profile tables, sweeps and ONNX models.

Run by CTest (python/*) with PYTHONPATH at build/python and NPUSIM_TEST_BINARY at the command.
"""
import json
import os
import subprocess
import tempfile
import unittest

import npusim

NPUSIM = os.environ["NPUSIM_TEST_BINARY"]


def cli(*args):
    """The command's exit code, standard output and standard error (argv, no shell)."""
    p = subprocess.run([NPUSIM, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


MLP = dict(
    tensors={
        "x": {"shape": [64, 128], "dtype": "fp16", "init": "random"},
        "w": {"shape": [128, 96], "dtype": "fp16", "init": "random", "scale": 0.05},
        "g": {"shape": [96], "dtype": "fp16", "init": "ones"},
        "b": {"shape": [96], "dtype": "fp16", "init": "zeros"},
    },
    ops=[
        {"op": "matmul", "inputs": ["x", "w"], "outputs": ["h"]},
        {"op": "gelu", "inputs": ["h"], "outputs": ["a"]},
        {"op": "layernorm", "inputs": ["a", "g", "b"], "outputs": ["y"]},
    ],
)


def kernels(r):
    """The kernel launches of a run, by name."""
    return [o["name"] for o in r.ops if o["type"] == "kernel"]


class api(unittest.TestCase):
    def test_run_gives_the_commands_stats(self):
        r = npusim.run("mlp", platform="tiny", timing_only=True)
        with tempfile.TemporaryDirectory() as d:
            rc, _, err = cli("run", "--platform", "tiny", "--workload", "mlp", "--timing-only",
                             "--quiet", "--stats", d + "/s.json")
            self.assertEqual(rc, 0, err)
            with open(d + "/s.json") as f:
                want = json.load(f)
        self.assertEqual(r.stats, want)  # same run, same numbers, as Python values
        self.assertEqual(r.sim_time_ns, want["sim_time_ns"])
        self.assertEqual(r.device_span_ns, want["summary"]["device_span_ns"])
        self.assertEqual(kernels(r), ["matmul -> h", "add -> res", "matmul -> o", "add -> y"])
        self.assertIn("mlp_block", r.report)

    def test_timing_only_equals_functional(self):
        p = npusim.Platform("tiny", set={"chip.cores": 2})
        a = npusim.run(npusim.Workload("bert_check"), platform=p, timing_only=True)
        b = npusim.run(npusim.Workload("bert_check"), platform=p)
        self.assertEqual(a.sim_time_ns, b.sim_time_ns)
        self.assertEqual(a.stats["cores"], b.stats["cores"])
        self.assertEqual(len(a.stats["cores"]), 2)
        c = npusim.run("bert_check", platform=p, check=True)
        self.assertIn("results match the CPU reference", c.report)

    def test_built_workload_infers_outputs_and_checks(self):
        w = npusim.Workload.build("py_mlp", **MLP)
        r = npusim.run(w, platform="tiny", check=True)
        self.assertEqual(kernels(r), ["matmul -> h", "gelu -> a", "layernorm -> y"])
        self.assertIn("results match the CPU reference", r.report)
        # The same workload as a file gives the same time (both without --check, which keeps
        # every tensor and so changes the allocation pattern).
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "py_mlp.yaml")
            with open(path, "w") as f:
                f.write(w.text)
            self.assertEqual(npusim.run(npusim.Workload(path), platform="tiny").sim_time_ns,
                             npusim.run(w, platform="tiny").sim_time_ns)

    def test_profile_tables_are_lists_of_dicts(self):
        r = npusim.run("mlp", platform="tiny", timing_only=True, profile=True)
        kernels_ = [row for row in r.op_summary if row["kernel"]]
        self.assertEqual([row["name"] for row in kernels_],
                         ["matmul -> h", "add -> res", "matmul -> o", "add -> y"])
        self.assertEqual(kernels_[0]["kernel"], "matmul_tiled")
        self.assertIn("matmul", [row["op_type"] for row in r.op_statistic])

    def test_sweep_returns_one_record_per_point(self):
        spec = {
            "name": "py_sweep",
            "platform": "tiny",
            "workloads": ["mlp"],
            "timing_only": True,
            "parameters": [{"grid": {"chip.cores": [1, 2]}}],
            "metrics": ["summary.device_span_ns"],
        }
        recs = npusim.sweep(spec, jobs=2)
        self.assertEqual(len(recs), 2)
        self.assertEqual([r["status"] for r in recs], ["ok", "ok"])
        spans = {r["params"]["chip.cores"]: r["metrics"]["summary.device_span_ns"] for r in recs}
        self.assertGreater(spans["1"], spans["2"])  # two cores finish sooner

    def test_errors_are_the_commands_texts(self):
        with self.assertRaises(npusim.ConfigError) as e:
            npusim.Platform("tiny", set={"chip.corez": 2})
        rc, _, err = cli("validate", "tiny", "--set", "chip.corez=2")
        self.assertEqual(rc, 2)
        self.assertIn(str(e.exception), err)
        self.assertIn("did you mean 'chip.cores'?", str(e.exception))

        bad = dict(MLP)
        bad["ops"] = [{"op": "matmul", "inputs": ["x", "x"], "outputs": ["h"]}]
        with self.assertRaises(npusim.ConfigError) as e:
            npusim.Workload.build("bad_mlp", **bad)
        self.assertIn("op 'matmul' input 'b' has 64 rows but 'a' has 128 columns", str(e.exception))

        # A workload's name never becomes a path outside the module's temporary folder.
        odd = npusim.Workload.build("../../odd name", **MLP)
        self.assertEqual(odd.name, "../../odd name")
        self.assertGreater(npusim.run(odd, platform="tiny", timing_only=True).sim_time_ns, 0)

        with self.assertRaises(npusim.ConfigError) as e:
            npusim.run("no_such_workload.yaml", platform="tiny")
        self.assertIn("no_such_workload.yaml", str(e.exception))
        self.assertTrue(issubclass(npusim.ConfigError, npusim.Error))

    def test_onnx_model_runs(self):
        # A two-node model written with the ONNX Python API (Debian's python3-onnx).
        import onnx
        from onnx import TensorProto, helper

        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [32, 64])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [32, 64])
        g = helper.make_graph([helper.make_node("Relu", ["x"], ["r"]),
                               helper.make_node("Sigmoid", ["r"], ["y"])], "tiny_onnx", [x], [y])
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.onnx")
            onnx.save(helper.make_model(g), path)
            r = npusim.run(npusim.Workload(path), platform="tiny", check=True)
        self.assertEqual(kernels(r), ["relu -> r", "sigmoid -> y"])


if __name__ == "__main__":
    unittest.main()
