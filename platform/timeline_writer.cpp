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
    // chip.core<N>.<pipe>.busy
    static const std::regex busy(R"(^[^.]+\.core(\d+)\.([a-z0-9]+)\.busy$)");
    std::smatch m;
    if (counter || !std::regex_match(path, m, busy)) return -1;
    std::string pipe = m[2];
    std::transform(pipe.begin(), pipe.end(), pipe.begin(), ::toupper);
    m_pipes.push_back({unsigned(std::stoul(m[1])), pipe, {}, 0});
    return int(m_pipes.size() - 1);
}

void timeline_writer::set(int id, uint64_t t, int64_t v) {
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

void timeline_writer::add_launch(const models::launch_record& r) {
    for (const auto& b : r.blocks)
        for (unsigned c : b.cores) m_blocks[c].push_back({r.name, b.block, b.start, b.end});
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
    std::ofstream out(m_path);
    if (!out) throw std::runtime_error("cannot write timeline file " + m_path);
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
                    uint64_t e) {
        event(fmt::format(R"({{"ph":"X","pid":{},"tid":{},"name":{},"cat":"{}","ts":{},"dur":{}}})",
                          pid, tid, quoted(name), cat, us(s), us(e - s)));
        ++n;
    };
    out << R"({"displayTimeUnit":"ns","traceEvents":[)";
    // pid 1: host threads, pid 2: streams, pid 10+N: core N (tid 0 blocks, then pipes)
    std::map<std::pair<std::string, std::string>, int> tracks;
    for (const auto& s : m_spans) {
        const int pid = s.group == "host" ? 1 : 2;
        auto [it, fresh] = tracks.emplace(std::make_pair(s.group, s.track), int(tracks.size()) + 1);
        if (fresh) meta(pid, it->second, "thread_name", s.track);
        span(pid, it->second, s.name, s.group == "host" ? "host" : "stream", s.start, s.end);
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
        core_name(core);
        for (const auto& b : blocks)
            span(10 + int(core), 0, fmt::format("{} #{}", b.kernel, b.block), "block", b.start,
                 b.end);
    }
    int tid = 1;
    for (const auto& p : m_pipes) {
        if (p.spans.empty()) continue;
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
    out << "\n]}\n";
    out.close();
    if (!out) throw std::runtime_error("cannot write timeline file " + m_path + " (disk full?)");
    return n;
}

}  // namespace npusim::platform
