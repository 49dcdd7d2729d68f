// The npusim Python module (docs/python.md): platforms, workloads, runs, sweeps and profile
// tables as Python objects.
//
// SystemC elaborates one design per process, so every simulation runs in its own process: the
// module starts the npusim command (argv, never a shell) and reads what it writes (stats JSON,
// profile CSVs, sweep records). Errors are the command's own texts, raised as npusim.ConfigError
// (bad input, exit 2) or npusim.RunError (a failed run or check, exit 1).
#include <poll.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace py = pybind11;
namespace fs = std::filesystem;

extern char** environ;

namespace {

struct error : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct config_error : error {
    using error::error;
};
struct run_error : error {
    using error::error;
};

std::string binary() {
    const char* env = std::getenv("NPUSIM_BINARY");
    return env && *env ? env : NPUSIM_BINARY_PATH;
}

struct output {
    int rc = -1;
    std::string out, err;
};

// Runs `npusim args...` and collects its exit code, standard output and standard error.
output npusim(const std::vector<std::string>& args) {
    std::vector<std::string> argv_s = {binary()};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    int out_pipe[2], err_pipe[2];
    if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) throw error("npusim: cannot make a pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]})
        posix_spawn_file_actions_addclose(&fa, fd);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out_pipe[1]);
    close(err_pipe[1]);
    output o;
    if (rc != 0) {
        close(out_pipe[0]);
        close(err_pipe[0]);
        throw error("npusim: cannot start " + argv_s[0] +
                    " (set NPUSIM_BINARY to the npusim command)");
    }
    {
        py::gil_scoped_release release;  // a long run must not stop other Python threads
        pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
        std::string* to[2] = {&o.out, &o.err};
        int open_fds = 2;
        char buf[65536];
        while (open_fds > 0) {
            if (poll(fds, 2, -1) < 0) break;
            for (int k = 0; k < 2; ++k) {
                if (fds[k].fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                const ssize_t n = read(fds[k].fd, buf, sizeof buf);
                if (n > 0) {
                    to[k]->append(buf, size_t(n));
                } else {
                    close(fds[k].fd);
                    fds[k].fd = -1;
                    --open_fds;
                }
            }
        }
        int status = 0;
        waitpid(pid, &status, 0);
        o.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    return o;
}

// Raises the command's error text: ConfigError for bad input, RunError for a failed run.
void check(const output& o) {
    if (o.rc == 0) return;
    std::string text = o.err.empty() ? o.out : o.err;
    while (!text.empty() && text.back() == '\n') text.pop_back();
    if (o.rc == 2) throw config_error(text);
    if (o.rc == 1) throw run_error(o.out + o.err);
    throw error("npusim ended abnormally (exit " + std::to_string(o.rc) + "): " + text);
}

// A temporary folder, removed with the object.
struct temp_dir {
    fs::path path;
    temp_dir() {
        std::string tmpl = (fs::temp_directory_path() / "npusim-py-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) throw error("npusim: cannot make a temporary folder");
        path = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
};

std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

py::object json_loads(const std::string& text) {
    return py::module_::import("json").attr("loads")(text);
}
// JSON text for a Python object: what the module writes as a YAML file (JSON is YAML).
std::string json_dumps(const py::object& o) {
    return py::str(py::module_::import("json").attr("dumps")(o, py::arg("indent") = 2));
}
py::list csv_rows(const fs::path& p) {
    auto io = py::module_::import("io"), csv = py::module_::import("csv");
    return py::list(csv.attr("DictReader")(io.attr("StringIO")(read_text(p))));
}

// `--set K=V` arguments from a mapping of keys to values (numbers or texts with units).
std::vector<std::string> set_args(const py::dict& sets) {
    std::vector<std::string> a;
    for (const auto& [k, v] : sets) {
        a.push_back("--set");
        a.push_back(py::str(k).cast<std::string>() + "=" +
                    (py::isinstance<py::bool_>(v) ? (v.cast<bool>() ? "true" : "false")
                                                  : py::str(v).cast<std::string>()));
    }
    return a;
}

/// A platform: a preset name or a platform file, with key overrides.
struct platform {
    std::string source;
    py::dict sets;
    platform(std::string s, py::dict overrides) : source(std::move(s)), sets(std::move(overrides)) {
        auto args = std::vector<std::string>{"validate", source};
        for (auto& a : set_args(sets)) args.push_back(a);
        check(npusim(args));
    }
    std::vector<std::string> args() const {
        std::vector<std::string> a = {"--platform", source};
        for (auto& s : set_args(sets)) a.push_back(s);
        return a;
    }
};

/// A workload: a shipped name, a workload file or an ONNX model, or one built from Python
/// values (written as a file when it runs).
struct workload {
    std::string source, name, text;  // text: a built workload's file contents
    explicit workload(std::string s) : source(std::move(s)), name(source) {}
    static workload build(const std::string& name, const py::dict& tensors, const py::list& ops,
                          const std::string& precision) {
        py::dict doc;
        doc["schema"] = "npusim.workload/1";
        doc["name"] = name;
        if (!precision.empty()) doc["precision"] = precision;
        doc["tensors"] = tensors;
        doc["ops"] = ops;
        workload w("");
        w.name = name;
        w.text = json_dumps(doc) + "\n";
        temp_dir d;
        auto args = std::vector<std::string>{"validate", w.file(d)};
        check(npusim(args));
        return w;
    }
    // The path to give the command: the source, or the built text written into `d`.
    std::string file(const temp_dir& d) const {
        if (text.empty()) return source;
        std::string base = name;  // a file name, whatever the workload's name holds
        for (char& c : base)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '_';
        const fs::path p = d.path / ((base.empty() ? "workload" : base) + ".yaml");
        std::ofstream(p, std::ios::binary) << text;
        return p.string();
    }
};

/// What a run gives: the stats and report, and the profile tables when asked for.
struct result {
    py::object stats;
    std::string report;
    py::list op_summary, op_statistic;
    double sim_time_ns() const { return stats["sim_time_ns"].cast<double>(); }
    double device_span_ns() const { return stats["summary"]["device_span_ns"].cast<double>(); }
    py::object ops() const { return stats["ops"]; }
};

result run(const workload& w, const py::object& p, bool timing_only, bool check_results,
           const std::string& precision, bool profile, const py::dict& sets) {
    temp_dir d;
    std::vector<std::string> args = {"run", "--workload", w.file(d)};
    if (py::isinstance<platform>(p)) {
        for (auto& a : p.cast<const platform&>().args()) args.push_back(a);
    } else {
        args.push_back("--platform");
        args.push_back(py::str(p).cast<std::string>());
    }
    for (auto& a : set_args(sets)) args.push_back(a);
    if (timing_only) args.push_back("--timing-only");
    if (check_results) args.push_back("--check");
    if (!precision.empty()) args.push_back("--precision"), args.push_back(precision);
    const fs::path stats = d.path / "stats.json", prof = d.path / "profile";
    args.push_back("--stats");
    args.push_back(stats.string());
    if (profile) args.push_back("--profile"), args.push_back(prof.string());
    const output o = npusim(args);
    check(o);
    result r;
    r.stats = json_loads(read_text(stats));
    r.report = o.out;
    if (profile) {
        r.op_summary = csv_rows(prof / "op_summary.csv");
        r.op_statistic = csv_rows(prof / "op_statistic.csv");
    }
    return r;
}

// The sweep's records (results.jsonl), the last one of each point, in file order.
py::list sweep(const py::object& spec, unsigned jobs, const std::string& out) {
    temp_dir d;
    std::string file;
    if (py::isinstance<py::dict>(spec)) {
        py::dict doc = spec.cast<py::dict>();
        if (!doc.contains("schema")) doc["schema"] = "npusim.sweep/1";
        file = (d.path / "sweep.yaml").string();
        std::ofstream(file, std::ios::binary) << json_dumps(doc) << "\n";
    } else {
        file = py::str(spec).cast<std::string>();
    }
    const std::string dir = out.empty() ? (d.path / "out").string() : out;
    const output o = npusim({"sweep", file, "--jobs", std::to_string(jobs), "--out", dir});
    if (o.rc != 0 && o.rc != 1) check(o);  // exit 1: some point failed, and is recorded
    py::list records;
    py::dict last;  // label -> index in records
    std::istringstream lines(read_text(fs::path(dir) / "results.jsonl"));
    for (std::string line; std::getline(lines, line);) {
        if (line.empty()) continue;
        py::object r = json_loads(line);
        py::object label = r["label"];
        if (last.contains(label)) {
            records[last[label].cast<size_t>()] = r;
        } else {
            last[label] = records.size();
            records.append(r);
        }
    }
    return records;
}

}  // namespace

PYBIND11_MODULE(npusim, m) {
    m.doc() = "npusim: a SystemC/TLM-2.0 model of an Ascend-style NPU (docs/python.md)";
    static py::exception<error> base(m, "Error");
    static py::exception<config_error> cfg(m, "ConfigError", base.ptr());
    static py::exception<run_error> failed(m, "RunError", base.ptr());
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const config_error& e) {
            cfg(e.what());
        } catch (const run_error& e) {
            failed(e.what());
        } catch (const error& e) {
            base(e.what());
        }
    });

    py::class_<platform>(m, "Platform",
                         "A preset name or platform file with key overrides; checked on creation")
        .def(py::init<std::string, py::dict>(), py::arg("source") = "ascend910b1",
             py::arg("set") = py::dict())
        .def_readonly("source", &platform::source)
        .def_readonly("set", &platform::sets)
        .def("__repr__", [](const platform& p) { return "npusim.Platform('" + p.source + "')"; });

    py::class_<workload>(m, "Workload",
                         "A shipped workload name, a workload file, an ONNX model, or one built "
                         "from Python values")
        .def(py::init<std::string>(), py::arg("source"))
        .def_static("build", &workload::build, py::arg("name"), py::arg("tensors"), py::arg("ops"),
                    py::arg("precision") = "",
                    "A workload from a mapping of tensors and a list of ops, as in a workload "
                    "file; checked on creation")
        .def_readonly("name", &workload::name)
        .def_readonly("text", &workload::text)
        .def("__repr__", [](const workload& w) { return "npusim.Workload('" + w.name + "')"; });

    py::implicitly_convertible<std::string, workload>();  // run("mlp"), run("model.onnx")

    py::class_<result>(m, "Result", "A run's stats (npusim.stats/1 as Python values) and report")
        .def_readonly("stats", &result::stats)
        .def_readonly("report", &result::report)
        .def_readonly("op_summary", &result::op_summary)
        .def_readonly("op_statistic", &result::op_statistic)
        .def_property_readonly("sim_time_ns", &result::sim_time_ns)
        .def_property_readonly("device_span_ns", &result::device_span_ns)
        .def_property_readonly("ops", &result::ops);

    m.def("run", &run, py::arg("workload"), py::arg("platform") = "ascend910b1",
          py::arg("timing_only") = false, py::arg("check") = false, py::arg("precision") = "",
          py::arg("profile") = false, py::arg("set") = py::dict(),
          "Runs a workload on a platform (a Platform or a preset name or file) in its own "
          "process; profile=True also reads the op_summary and op_statistic tables");
    m.def("sweep", &sweep, py::arg("spec"), py::arg("jobs") = 1, py::arg("out") = "",
          "Runs a sweep (a sweep file, or a mapping as in one) and returns its records, one per "
          "point, failed points included");
    m.def(
        "presets",
        [] {
            const output o = npusim({"presets"});
            check(o);
            std::vector<std::string> names;
            std::istringstream lines(o.out);
            for (std::string line; std::getline(lines, line);)
                if (!line.empty() && line.rfind("default:", 0) != 0)
                    names.push_back(line.substr(0, line.find(' ')));
            return names;
        },
        "The platform presets' names");
    m.def(
        "version",
        [] {
            std::string v = npusim({"--version"}).out;
            while (!v.empty() && v.back() == '\n') v.pop_back();
            return v;
        },
        "The npusim command's version");
}
