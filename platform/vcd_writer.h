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
/// buffered and written, time-ordered, by close(). Counter signals accumulate deltas.
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
        uint32_t seq;
        int id;
        int64_t v;
        bool delta;
    };
    bool wanted(const std::string& path) const;

    vcd_options m_opt;
    std::vector<signal> m_signals;
    std::vector<change> m_changes;
};

/// @brief Parses "0,2,5-7" into core ids; throws std::invalid_argument on bad text.
std::set<unsigned> parse_core_list(const std::string& text);
/// @brief Parses "FROM:TO" with time units (e.g. "0ns:10us"; either side may be empty).
std::pair<uint64_t, uint64_t> parse_time_window(const std::string& text);

}  // namespace npusim::platform
