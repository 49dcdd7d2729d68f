#pragma once
#include <cstdint>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "models/common/trace_sink.h"

namespace npusim::platform {

/// @brief What goes into a VCD file.
struct vcd_options {
    std::string path;
    std::set<unsigned> cores;          ///< empty = every core
    std::vector<std::string> signals;  ///< glob patterns on the full signal path; empty = all
    uint64_t from_ps = 0;
    uint64_t to_ps = UINT64_MAX;
    /// Buffered changes that trigger writing out the finished past (24 bytes each).
    size_t flush_changes = size_t(1) << 22;
};

/// @brief Writes model activity as a VCD file (timescale 1 ns).
///
/// Models report changes with times that may be ahead of simulation time, and behind it only
/// while they hold the signal (see trace_sink::hold), so changes are buffered and written in
/// time order once simulation time and every hold have passed them: when the buffer fills, and
/// by close(). Counter signals accumulate deltas, level signals take
/// values. Changes before the window fold into each signal's value at the window's start and
/// later ones are dropped, so memory stays bounded however long the run.
class vcd_writer : public models::trace_sink {
  public:
    explicit vcd_writer(vcd_options opt);
    int declare(const std::string& path, unsigned width, bool counter) override;
    void set(int id, uint64_t time_ps, int64_t value) override;
    void add(int id, uint64_t time_ps, int64_t delta) override;
    void hold(int id, uint64_t time_ps) override;
    /// @brief Writes the file; returns the number of signals written.
    size_t close();

  private:
    struct signal {
        std::string path;
        unsigned width;
        bool counter;
        std::string code;
    };
    struct change {
        uint64_t t;
        int64_t v;  ///< a delta for counters, a value for level signals
        int id;     ///< changes at one time keep their order of arrival (a stable sort)
    };
    /// A signal's value at the window's start, from the changes before it.
    struct start_value {
        int64_t v = 0;
        uint64_t t = 0;  ///< time and order of the level value taken (latest wins)
        uint64_t seq = 0;
    };
    bool wanted(const std::string& path) const;
    void record(int id, uint64_t time_ps, int64_t v);
    void write_header();
    /// Writes the buffered changes of whole nanoseconds before `upto_ns`.
    void write_until(uint64_t upto_ns);
    void emit(size_t id);

    vcd_options m_opt;
    std::vector<signal> m_signals;
    std::vector<start_value> m_start;
    std::vector<change> m_changes;
    uint64_t m_seq = 0;
    std::ofstream m_out;
    bool m_header = false;
    uint64_t m_written_ns = 0;  ///< changes before this ns are in the file
    uint64_t m_late = 0;        ///< changes that arrived for a time already written
    std::vector<int64_t> m_value, m_emitted;
    std::vector<uint64_t> m_hold;  ///< per signal: changes from this time may still come
};

/// @brief Parses "0,2,5-7" into core ids below `limit` (the chip's core count); throws
/// std::invalid_argument on bad text or an id at or past the limit.
std::set<unsigned> parse_core_list(const std::string& text, unsigned limit);
/// @brief Parses "FROM:TO" with time units (e.g. "0ns:10us"; either side may be empty).
std::pair<uint64_t, uint64_t> parse_time_window(const std::string& text);

}  // namespace npusim::platform
