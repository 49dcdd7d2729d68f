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
};

/// @brief Writes model activity as a VCD file (timescale 1 ns).
///
/// Models report changes with times that may be ahead of simulation time, so changes are
/// buffered and written, time-ordered, by close(). Counter signals accumulate deltas, level
/// signals take values. Only changes inside the window are buffered: earlier ones fold into
/// each signal's value at the window's start, later ones are dropped, so memory grows with
/// what the file will hold, not with the length of the run.
class vcd_writer : public models::trace_sink {
  public:
    explicit vcd_writer(vcd_options opt);
    int declare(const std::string& path, unsigned width, bool counter) override;
    void set(int id, uint64_t time_ps, int64_t value) override;
    void add(int id, uint64_t time_ps, int64_t delta) override;
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
        uint32_t seq;
        int id;
    };
    /// A signal's value at the window's start, from the changes before it.
    struct start_value {
        int64_t v = 0;
        uint64_t t = 0;  ///< time and order of the level value taken (latest wins)
        uint32_t seq = 0;
    };
    bool wanted(const std::string& path) const;
    void record(int id, uint64_t time_ps, int64_t v);

    vcd_options m_opt;
    std::vector<signal> m_signals;
    std::vector<start_value> m_start;
    std::vector<change> m_changes;
    uint32_t m_seq = 0;
};

/// @brief Parses "0,2,5-7" into core ids below `limit` (the chip's core count); throws
/// std::invalid_argument on bad text or an id at or past the limit.
std::set<unsigned> parse_core_list(const std::string& text, unsigned limit);
/// @brief Parses "FROM:TO" with time units (e.g. "0ns:10us"; either side may be empty).
std::pair<uint64_t, uint64_t> parse_time_window(const std::string& text);

}  // namespace npusim::platform
