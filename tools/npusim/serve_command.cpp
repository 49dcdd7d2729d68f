// `npusim serve FILE`: an LLM serving study on the simulated NPU (docs/serving.md).
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include "platform/config/config_loader.h"
#include "platform/output_file.h"
#include "sw/serving/server.h"
#include "tools/npusim/commands.h"

namespace npusim::tools {

int cmd_serve(const serve_args& a) {
    using namespace serving;
    const serving_spec spec = load_serving(a.file, a.with);
    std::vector<std::string> sets = spec.platform_set;
    sets.insert(sets.end(), a.sets.begin(), a.sets.end());
    const platform::platform_config cfg = platform::load_platform(spec.platform, sets);
    check_fits(spec, cfg);
    const std::vector<request> reqs = make_requests(spec);
    const fidelity f = a.fidelity == "instr" ? fidelity::instr : fidelity::op;
    const std::string dir = a.out_dir.empty() ? "serving/" + spec.name : a.out_dir;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
        throw platform::config_error(dir, "--out", "cannot create the folder: " + ec.message(),
                                     "give a writable folder");
    // Created before the run, so an unwritable folder is found before any simulation.
    platform::output_file csv(dir + "/requests.csv", "--out"), json(dir + "/summary.json", "--out"),
        timeline(dir + "/timeline.json", "--out"), plot(dir + "/latency.svg", "--out");
    std::unique_ptr<platform::output_file> stats;
    if (!a.stats_file.empty())
        stats = std::make_unique<platform::output_file>(a.stats_file, "--stats");
    const auto t0 = std::chrono::steady_clock::now();
    const serving_result r = serve(spec, reqs, cfg, f);
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::ostringstream c, j, t, svg;
    write_requests_csv(c, r);
    write_summary_json(j, spec, r, f);
    write_serving_timeline(t, r);
    write_latency_svg(svg, r);
    csv.write_and_commit(c.str());
    json.write_and_commit(j.str());
    timeline.write_and_commit(t.str());
    plot.write_and_commit(svg.str());
    if (stats) stats->write_and_commit(j.str());
    if (a.quiet) return 0;
    const serving_summary& s = r.summary;
    std::cout << fmt::format("npusim serve: {} ({} on {}, {} requests, {} fidelity)\n", spec.name,
                             spec.model.name, cfg.name, r.requests.size(), a.fidelity);
    auto ms = [](const latency& l) {
        return fmt::format("mean {:.2f}  p50 {:.2f}  p90 {:.2f}  p99 {:.2f} ms", l.mean * 1e3,
                           l.p50 * 1e3, l.p90 * 1e3, l.p99 * 1e3);
    };
    std::cout << "TTFT       " << ms(s.ttft) << "\n";
    std::cout << "TPOT       " << ms(s.tpot) << "\n";
    std::cout << "end to end " << ms(s.e2e) << "\n";
    std::cout << fmt::format("throughput {:.1f} tokens/s, {:.3f} requests/s over {:.3f} s\n",
                             s.tokens_per_s, s.requests_per_s, s.duration);
    std::cout << fmt::format(
        "KV cache   {} blocks ({:.2f} GiB); usage mean {:.1f}%, peak {:.1f}% ({:.2f} GiB); "
        "{} preemptions; up to {} sequences at once\n",
        s.kv_blocks, s.kv_bytes / 1073741824.0, s.kv_usage_mean * 100, s.kv_usage_peak * 100,
        s.kv_peak_bytes / 1073741824.0, s.preemptions, s.peak_running);
    std::cout << fmt::format(
        "iterations {} ({} prefill, {} decode, {} padding tokens); ops: {} distinct, {} "
        "simulated, {} replayed; {:.1f} s wall\n",
        s.iterations, s.prefill_tokens, s.decode_tokens, s.padded_tokens, s.distinct_ops,
        s.simulated_ops, s.replayed_ops, wall);
    std::cout << "wrote " << dir << "/requests.csv, summary.json, timeline.json, latency.svg\n";
    return 0;
}

}  // namespace npusim::tools
