#pragma once
// One trace sink feeding several (e.g. a VCD file and a timeline at once).
#include <vector>

#include "models/common/trace_sink.h"

namespace npusim::platform {

class trace_fanout : public models::trace_sink {
  public:
    explicit trace_fanout(std::vector<models::trace_sink*> sinks) : m_sinks(std::move(sinks)) {}
    int declare(const std::string& path, unsigned width, bool counter) override {
        std::vector<int> ids;
        bool any = false;
        for (auto* s : m_sinks) {
            ids.push_back(s->declare(path, width, counter));
            any |= ids.back() >= 0;
        }
        if (!any) return -1;
        m_ids.push_back(std::move(ids));
        return int(m_ids.size() - 1);
    }
    void set(int id, uint64_t t, int64_t v) override {
        const auto& ids = m_ids[size_t(id)];
        for (size_t i = 0; i < ids.size(); ++i)
            if (ids[i] >= 0) m_sinks[i]->set(ids[i], t, v);
    }
    void add(int id, uint64_t t, int64_t d) override {
        const auto& ids = m_ids[size_t(id)];
        for (size_t i = 0; i < ids.size(); ++i)
            if (ids[i] >= 0) m_sinks[i]->add(ids[i], t, d);
    }

    void hold(int id, uint64_t t) override {
        const auto& ids = m_ids[size_t(id)];
        for (size_t i = 0; i < ids.size(); ++i)
            if (ids[i] >= 0) m_sinks[i]->hold(ids[i], t);
    }

  private:
    std::vector<models::trace_sink*> m_sinks;
    std::vector<std::vector<int>> m_ids;  ///< per fan-out id, each sink's id
};

}  // namespace npusim::platform
