#pragma once
// Where models send waveform activity. Models know nothing of VCD; the platform supplies a sink.
#include <cstdint>
#include <string>

namespace npusim::models {

/// @brief Receives value changes of named signals. Times may lie in the future of the current
/// simulation time (reservations are computed ahead), so a sink must order them itself.
class trace_sink {
  public:
    virtual ~trace_sink() = default;
    /// @brief Declares a signal; returns its id, or -1 when the sink filters it out.
    /// A `counter` signal is driven by deltas (e.g. bytes in flight), a level one by values.
    virtual int declare(const std::string& path, unsigned width, bool counter) = 0;
    virtual void set(int id, uint64_t time_ps, int64_t value) = 0;
    virtual void add(int id, uint64_t time_ps, int64_t delta) = 0;
    /// @brief Says that changes of the signal at or after `time_ps`, possibly before the
    /// current simulation time, may still come (a pipe reports an instruction's busy span when
    /// it ends); no_hold lifts it. A sink that writes as time passes waits for held signals.
    virtual void hold(int /*id*/, uint64_t /*time_ps*/) {}
    static constexpr uint64_t no_hold = UINT64_MAX;
};

/// @brief A declared signal: cheap to call when tracing is off or the signal filtered out.
class traced_signal {
  public:
    void bind(trace_sink* sink, const std::string& path, unsigned width, bool counter) {
        m_sink = sink;
        m_id = sink ? sink->declare(path, width, counter) : -1;
    }
    bool on() const { return m_id >= 0; }
    void set(uint64_t t, int64_t v) const {
        if (m_id >= 0) m_sink->set(m_id, t, v);
    }
    void add(uint64_t t, int64_t d) const {
        if (m_id >= 0) m_sink->add(m_id, t, d);
    }
    void hold(uint64_t t) const {
        if (m_id >= 0) m_sink->hold(m_id, t);
    }

  private:
    trace_sink* m_sink = nullptr;
    int m_id = -1;
};

}  // namespace npusim::models
