#include "platform/vcd_writer.h"

#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <regex>
#include <stdexcept>

#include "models/common/timing.h"
#include "platform/config/units.h"

namespace npusim::platform {

vcd_writer::vcd_writer(vcd_options opt) : m_opt(std::move(opt)) {}

bool vcd_writer::wanted(const std::string& path) const {
    if (!m_opt.cores.empty()) {
        static const std::regex core_re(R"((^|\.)core(\d+)(\.|$))");
        std::smatch m;
        if (std::regex_search(path, m, core_re) &&
            !m_opt.cores.count(static_cast<unsigned>(std::stoul(m[2].str()))))
            return false;
    }
    if (m_opt.signals.empty()) return true;
    for (auto& pat : m_opt.signals)
        if (fnmatch(pat.c_str(), path.c_str(), 0) == 0 ||
            fnmatch(("*" + pat).c_str(), path.c_str(), 0) == 0)
            return true;
    return false;
}

int vcd_writer::declare(const std::string& path, unsigned width, bool counter) {
    if (!wanted(path)) return -1;
    std::string code;
    for (size_t n = m_signals.size();; n = n / 94 - 1) {
        code += static_cast<char>('!' + n % 94);
        if (n < 94) break;
    }
    m_signals.push_back({path, width, counter, code});
    m_start.emplace_back();
    m_hold.push_back(no_hold);
    return static_cast<int>(m_signals.size() - 1);
}

void vcd_writer::record(int id, uint64_t time_ps, int64_t v) {
    const uint64_t seq = m_seq++;
    if (time_ps > m_opt.to_ps) return;
    // The file opens with each value at the start of the window (in whole ns).
    if (time_ps / 1000 <= m_opt.from_ps / 1000) {
        start_value& s = m_start[size_t(id)];
        if (m_signals[size_t(id)].counter) {
            s.v += v;
        } else if (time_ps > s.t || (time_ps == s.t && seq >= s.seq)) {
            s = {v, time_ps, seq};
        }
        if (m_header) ++m_late;
        return;
    }
    if (m_header && time_ps / 1000 < m_written_ns) ++m_late;
    m_changes.push_back({time_ps, v, id});
    if (m_changes.size() >= m_opt.flush_changes) {
        // Before simulation time and every hold nothing new can arrive.
        uint64_t safe_ps = models::now_ps();
        for (uint64_t h : m_hold) safe_ps = std::min(safe_ps, h);
        if (safe_ps / 1000 > m_opt.from_ps / 1000) write_until(safe_ps / 1000);
    }
}

void vcd_writer::set(int id, uint64_t time_ps, int64_t value) {
    record(id, time_ps, value);
}

void vcd_writer::add(int id, uint64_t time_ps, int64_t delta) {
    record(id, time_ps, delta);
}

void vcd_writer::hold(int id, uint64_t time_ps) {
    m_hold[size_t(id)] = time_ps;
}

void vcd_writer::write_header() {
    m_out.open(m_opt.path);
    if (!m_out) throw std::runtime_error("cannot write VCD file " + m_opt.path);
    m_out << "$date npusim $end\n$version npusim VCD writer $end\n$timescale 1ns $end\n";

    // Scopes from the dotted hierarchy; signals sorted so each scope is opened once.
    std::vector<size_t> order(m_signals.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return m_signals[a].path < m_signals[b].path; });
    std::vector<std::string> open;
    for (size_t i : order) {
        std::vector<std::string> parts;
        const std::string& p = m_signals[i].path;
        for (size_t s = 0, e; s <= p.size(); s = e + 1) {
            e = p.find('.', s);
            if (e == std::string::npos) e = p.size();
            parts.push_back(p.substr(s, e - s));
        }
        const std::string leaf = parts.back();
        parts.pop_back();
        size_t common = 0;
        while (common < open.size() && common < parts.size() && open[common] == parts[common])
            ++common;
        while (open.size() > common) {
            m_out << "$upscope $end\n";
            open.pop_back();
        }
        for (size_t k = common; k < parts.size(); ++k) {
            m_out << "$scope module " << parts[k] << " $end\n";
            open.push_back(parts[k]);
        }
        m_out << "$var wire " << m_signals[i].width << " " << m_signals[i].code << " " << leaf
              << " $end\n";
    }
    while (!open.empty()) {
        m_out << "$upscope $end\n";
        open.pop_back();
    }
    m_out << "$enddefinitions $end\n";

    m_value.assign(m_signals.size(), 0);
    m_emitted.assign(m_signals.size(), -1);
    for (size_t id = 0; id < m_signals.size(); ++id) m_value[id] = m_start[id].v;
    const uint64_t from_ns = m_opt.from_ps / 1000;
    m_out << "#" << from_ns << "\n$dumpvars\n";
    for (size_t id = 0; id < m_signals.size(); ++id) emit(id);
    m_out << "$end\n";
    m_written_ns = from_ns + 1;
    m_header = true;
}

void vcd_writer::emit(size_t id) {
    const signal& s = m_signals[id];
    const int64_t v = std::max<int64_t>(0, m_value[id]);
    if (m_emitted[id] == v) return;
    m_emitted[id] = v;
    if (s.width == 1) {
        m_out << (v ? '1' : '0') << s.code << "\n";
    } else {
        std::string bits;
        for (uint64_t u = static_cast<uint64_t>(v); u; u >>= 1)
            bits.insert(bits.begin(), char('0' + (u & 1)));
        m_out << 'b' << (bits.empty() ? "0" : bits) << ' ' << s.code << "\n";
    }
}

void vcd_writer::write_until(uint64_t upto_ns) {
    if (!m_header) write_header();
    std::stable_sort(m_changes.begin(), m_changes.end(),
                     [](const change& a, const change& b) { return a.t < b.t; });
    size_t i = 0;
    std::vector<size_t> touched;
    while (i < m_changes.size() && m_changes[i].t / 1000 < upto_ns) {
        const uint64_t t_ns = m_changes[i].t / 1000;
        touched.clear();
        for (; i < m_changes.size() && m_changes[i].t / 1000 == t_ns; ++i) {
            const change& c = m_changes[i];
            m_value[size_t(c.id)] =
                m_signals[size_t(c.id)].counter ? m_value[size_t(c.id)] + c.v : c.v;
            touched.push_back(size_t(c.id));
        }
        bool header = false;
        for (size_t id : touched) {
            if (m_emitted[id] == std::max<int64_t>(0, m_value[id])) continue;
            if (!header) m_out << "#" << t_ns << "\n";
            header = true;
            emit(id);
        }
    }
    m_changes.erase(m_changes.begin(), m_changes.begin() + long(i));
    m_written_ns = std::max(m_written_ns, upto_ns);
}

size_t vcd_writer::close() {
    write_until(UINT64_MAX);
    m_out.close();
    if (!m_out) throw std::runtime_error("cannot write VCD file " + m_opt.path + " (disk full?)");
    if (m_late)
        throw std::runtime_error("VCD file " + m_opt.path + ": " + std::to_string(m_late) +
                                 " value changes arrived for times already written (a model "
                                 "reported a time in the past)");
    return m_signals.size();
}

std::set<unsigned> parse_core_list(const std::string& text, unsigned limit) {
    std::set<unsigned> out;
    static const std::regex item(R"(^\s*(\d{1,18})\s*(?:-\s*(\d{1,18}))?\s*$)");
    size_t s = 0;
    while (s <= text.size()) {
        size_t e = text.find(',', s);
        if (e == std::string::npos) e = text.size();
        const std::string part = text.substr(s, e - s);
        std::smatch m;
        if (!std::regex_match(part, m, item))
            throw std::invalid_argument("bad core list item '" + part + "' (use e.g. 0,2,4-7)");
        const uint64_t a = std::stoull(m[1].str());
        const uint64_t b = m[2].matched ? std::stoull(m[2].str()) : a;
        if (b < a) throw std::invalid_argument("core range '" + part + "' ends before it starts");
        if (b >= limit)
            throw std::invalid_argument("core " + std::to_string(b) +
                                        " does not exist (the chip has " + std::to_string(limit) +
                                        " cores: 0-" + std::to_string(limit - 1) + ")");
        for (uint64_t c = a; c <= b; ++c) out.insert(unsigned(c));
        s = e + 1;
    }
    return out;
}

std::pair<uint64_t, uint64_t> parse_time_window(const std::string& text) {
    const auto colon = text.find(':');
    if (colon == std::string::npos)
        throw std::invalid_argument("time window '" + text + "' needs FROM:TO, e.g. 0ns:10us");
    auto side = [&](const std::string& s, uint64_t dflt) -> uint64_t {
        if (s.empty()) return dflt;
        const auto v = parse_value(value_kind::time, s);
        if (!v)
            throw std::invalid_argument("bad time '" + s + "' in window (" +
                                        unit_help(value_kind::time) + ")");
        // 1e18 ps (about 11.6 days of simulated time) keeps the window in 64 bits.
        if (!std::isfinite(*v) || *v < 0 || *v > 1e18)
            throw std::invalid_argument("time '" + s + "' in window is out of range (0 to 1e6s)");
        return static_cast<uint64_t>(*v);
    };
    const uint64_t from = side(text.substr(0, colon), 0);
    const uint64_t to = side(text.substr(colon + 1), UINT64_MAX);
    if (to < from) throw std::invalid_argument("time window '" + text + "' ends before it starts");
    return {from, to};
}

}  // namespace npusim::platform
