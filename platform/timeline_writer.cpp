#include "platform/timeline_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <regex>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace npusim::platform {

int timeline_writer::declare(const std::string& path, unsigned, bool counter) {
    // chip.core<N>.<pipe>.busy; chip.gm.{read,write}_bytes_in_flight; chip.l2.bytes
    static const std::regex busy(R"(^[^.]+\.core(\d+)\.([a-z0-9]+)\.busy$)");
    static const std::regex gm(R"(^[^.]+\.gm\.(read|write)_bytes_in_flight$)");
    static const std::regex l2(R"(^[^.]+\.l2\.bytes$)");
    std::smatch m;
    if (counter && std::regex_match(path, m, gm)) {
        m_rates.push_back({"GM " + std::string(m[1]) + " GB/s", true, {}});
        return rate_base + int(m_rates.size() - 1);
    }
    if (counter && std::regex_match(path, l2)) {
        m_rates.push_back({"L2 GB/s", false, {}});
        return rate_base + int(m_rates.size() - 1);
    }
    if (counter || !std::regex_match(path, m, busy)) return -1;
    std::string pipe = m[2];
    std::transform(pipe.begin(), pipe.end(), pipe.begin(), ::toupper);
    m_pipes.push_back({unsigned(std::stoul(m[1])), pipe, {}, 0});
    return int(m_pipes.size() - 1);
}

void timeline_writer::set(int id, uint64_t t, int64_t v) {
    if (id >= rate_base) return;
    pipe_track& p = m_pipes[size_t(id)];
    if (v) {
        p.open = t;
        return;
    }
    if (!p.spans.empty() && p.open <= p.spans.back().second)
        p.spans.back().second = std::max(p.spans.back().second, t);  // back to back: merge
    else
        p.spans.emplace_back(p.open, t);
}

void timeline_writer::add(int id, uint64_t t, int64_t delta) {
    if (id < rate_base) return;
    rate_track& r = m_rates[size_t(id - rate_base)];
    if (r.completions ? delta >= 0 : delta <= 0) return;
    const size_t slot = size_t(t / slot_ps);
    if (slot >= r.bytes.size()) r.bytes.resize(slot + 1, 0);
    r.bytes[slot] += uint64_t(delta < 0 ? -delta : delta);
}

void timeline_writer::add_sample(const std::string& name, uint64_t t, double v) {
    m_samples[name].emplace_back(t, v);
}

void timeline_writer::add_launch(const models::launch_record& r) {
    for (const auto& b : r.blocks) {
        std::string cores;
        for (unsigned c : b.cores) cores += (cores.empty() ? "" : ",") + std::to_string(c);
        for (unsigned c : b.cores)
            m_blocks[c].push_back({r.name, b.block, b.start, b.end, cores, b.fault});
    }
}

namespace {

/// Chrome trace times are microseconds; keep picosecond precision.
std::string us(uint64_t ps) {
    return fmt::format("{:.6f}", double(ps) / 1e6);
}

std::string quoted(const std::string& s) {
    return nlohmann::json(s).dump();
}

}  // namespace

size_t timeline_writer::close() {
    std::ofstream out(m_opt.path);
    if (!out) throw std::runtime_error("cannot write timeline file " + m_opt.path);
    size_t n = 0;
    bool first = true;
    auto event = [&](const std::string& e) {
        out << (first ? "\n" : ",\n") << e;
        first = false;
    };
    auto meta = [&](int pid, int tid, const char* what, const std::string& name) {
        event(fmt::format(R"({{"ph":"M","pid":{},"tid":{},"name":"{}","args":{{"name":{}}}}})", pid,
                          tid, what, quoted(name)));
    };
    auto span = [&](int pid, int tid, const std::string& name, const char* cat, uint64_t s,
                    uint64_t e, const std::string& args = "") {
        if (!in_window(s, e)) return false;
        event(fmt::format(
            R"({{"ph":"X","pid":{},"tid":{},"name":{},"cat":"{}","ts":{},"dur":{}{}}})", pid, tid,
            quoted(name), cat, us(s), us(e - s), args.empty() ? "" : ",\"args\":{" + args + "}"));
        ++n;
        return true;
    };
    out << R"({"displayTimeUnit":"ns","traceEvents":[)";
    // pid 1: host threads, pid 2: streams, pid 3: counters, pid 10+N: core N (tid 0 blocks,
    // then pipes)
    std::map<std::pair<std::string, std::string>, int> tracks;
    for (const auto& s : m_spans) {
        const int pid = s.group == "host" ? 1 : 2;
        auto [it, fresh] = tracks.emplace(std::make_pair(s.group, s.track), int(tracks.size()) + 1);
        if (fresh) meta(pid, it->second, "thread_name", s.track);
        std::string args;
        for (const auto& [k, v] : s.args)
            args += (args.empty() ? "" : ",") + quoted(k) + ":" + quoted(v);
        if (!span(pid, it->second, s.name, s.group == "host" ? "host" : "stream", s.start, s.end,
                  args))
            continue;
        // A flow leaves the host call at its end and enters the work at its start.
        if (s.flow_out)
            event(fmt::format(
                R"({{"ph":"s","id":{},"pid":{},"tid":{},"name":"launch","cat":"flow","ts":{}}})",
                s.flow_out, pid, it->second, us(s.end > s.start ? s.end - 1 : s.end)));
        if (s.flow_in)
            event(fmt::format(
                R"({{"ph":"f","bp":"e","id":{},"pid":{},"tid":{},"name":"launch","cat":"flow","ts":{}}})",
                s.flow_in, pid, it->second, us(s.start)));
    }
    meta(1, 0, "process_name", "host threads");
    meta(2, 0, "process_name", "streams");
    std::map<unsigned, bool> named;
    auto core_name = [&](unsigned core) {
        if (named[core]) return;
        named[core] = true;
        meta(10 + int(core), 0, "process_name", fmt::format("core {}", core));
        meta(10 + int(core), 0, "thread_name", "blocks");
    };
    for (auto& [core, blocks] : m_blocks) {
        std::sort(blocks.begin(), blocks.end(),
                  [](const block_span& a, const block_span& b) { return a.start < b.start; });
        if (!keep_core(core)) continue;
        core_name(core);
        for (const auto& b : blocks)
            span(10 + int(core), 0, fmt::format("{} #{}", b.kernel, b.block), "block", b.start,
                 b.end,
                 fmt::format(R"("kernel":{},"block":{},"cores":{}{})", quoted(b.kernel), b.block,
                             quoted(b.cores),
                             b.fault.empty() ? "" : ",\"fault\":" + quoted(b.fault)));
    }
    int tid = 1;
    for (const auto& p : m_pipes) {
        if (p.spans.empty() || !keep_core(p.core)) continue;
        core_name(p.core);
        meta(10 + int(p.core), tid, "thread_name", p.pipe);
        const auto& blocks = m_blocks[p.core];
        size_t b = 0;
        for (const auto& [s, e] : p.spans) {
            while (b + 1 < blocks.size() && blocks[b].end <= s) ++b;
            const bool inside = b < blocks.size() && blocks[b].start <= s && s < blocks[b].end;
            span(10 + int(p.core), tid, inside ? blocks[b].kernel : p.pipe, "pipe", s, e);
        }
        ++tid;
    }
    // Counters: bandwidth over slots of at least 100 ns (about 2000 points over the run).
    meta(3, 0, "process_name", "counters");
    size_t slots = 0;
    for (const auto& r : m_rates) slots = std::max(slots, r.bytes.size());
    const size_t per = std::max<size_t>(1, (slots + 1999) / 2000);
    auto counter = [&](const std::string& name, uint64_t t, double v) {
        if (t < m_opt.from_ps || t > m_opt.to_ps) return;
        event(fmt::format(R"({{"ph":"C","pid":3,"name":{},"ts":{},"args":{{"value":{:.6g}}}}})",
                          quoted(name), us(t), v));
    };
    for (const auto& r : m_rates) {
        double last = -1;
        for (size_t i = 0; i < r.bytes.size() + per; i += per) {
            uint64_t bytes = 0;
            for (size_t j = i; j < std::min(i + per, r.bytes.size()); ++j) bytes += r.bytes[j];
            const double gbs = double(bytes) / (double(per * slot_ps) / 1000.0);  // B/ns = GB/s
            if (gbs != last) counter(r.name, i * slot_ps, gbs);
            last = gbs;
        }
    }
    for (const auto& [name, samples] : m_samples)
        for (const auto& [t, v] : samples) counter(name, t, v);
    out << "\n]}\n";
    out.close();
    if (!out)
        throw std::runtime_error("cannot write timeline file " + m_opt.path + " (disk full?)");
    return n;
}

}  // namespace npusim::platform
