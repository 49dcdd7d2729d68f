#include "sw/runtime/runtime_state.h"

#include <fmt/format.h>

namespace npusim::runtime {

namespace {

memory::allocator_config allocator_settings(const platform::memory_params& m) {
    memory::allocator_config a;
    a.alignment = m.alignment;
    a.max_split_size = m.max_split_size ? m.max_split_size : ~uint64_t(0);
    a.gc_threshold = m.gc_threshold;
    a.caching = m.caching;
    return a;
}

}  // namespace

runtime_state::runtime_state(platform::chip& c, std::vector<platform::op_record>* o)
    : chip(c),
      api(c.host_api()),
      costs(c.config().host_api),
      ops(o),
      driver(c.config().gm.capacity, c.config().memory.alignment),
      memory(driver, clock, allocator_settings(c.config().memory)) {
    poisoning = c.config().memory.poison_freed;
    if (poisoning)
        memory.on_block_state = [this](uint64_t addr, uint64_t size, bool freed) {
            api.poison(addr, size, freed);
        };
}

uint64_t runtime_clock::position(stream_id s) const {
    return st.streams[s]->next_seq;
}

bool runtime_clock::passed(stream_id s, uint64_t mark) const {
    return st.streams[s]->done_prefix >= mark;
}

void runtime_clock::synchronize_all() {
    // A callback cannot wait for the streams (its own may be waiting for it): in a callback, an
    // allocation that misses the cache does not wait for other streams' blocks.
    if (st.in_callback.count(st.api.current_thread())) return;
    st.wait_all_idle();
}

void runtime_state::wait_all_idle() {
    for (auto& s : streams)
        while (s->pending > 0) s->changed.wait();
}

// --- diagnostics ---

std::string runtime_state::event_detail(const event& e, uint64_t gen) {
    if (gen > e.recorded)
        return "event '" + e.name + "' has never been recorded (no record_event call made it)";
    return "event '" + e.name + "' record #" + std::to_string(gen) + " is queued on stream '" +
           e.records[gen - 1].stream + "', which has not reached it";
}

std::string runtime_state::blocked_report() const {
    std::string out;
    for (const auto& [thread, w] : host_waits) {
        out += "host thread '" + api.thread_name(thread) + "' waits in " + w.call;
        if (w.ev) out += ": " + event_detail(*w.ev, w.gen);
        if (w.s) out += fmt::format(", which has {} unfinished tasks", w.s->pending);
        out += "\n";
    }
    for (const auto& s : streams) {
        if (s->pending == 0 || !s->current) continue;
        const task& t = *s->current;
        out += "stream '" + s->name + "' waits for ";
        switch (t.w.kind) {
            case work_kind::event_wait:
                out += "event '" + t.ev->name + "' record #" + std::to_string(t.gen) + ": " +
                       event_detail(*t.ev, t.gen);
                break;
            case work_kind::callback: {
                const unsigned thread =
                    t.report_thread >= 0 ? unsigned(t.report_thread) : runtime_callbacks->thread;
                out +=
                    "callback '" + t.w.name + "' on host thread '" + api.thread_name(thread) + "'";
                break;
            }
            default:
                out += std::string(to_string(t.w.kind)) + " '" + t.w.name + "' to finish";
        }
        out += fmt::format(" ({} tasks queued behind it)\n", s->queue.size());
    }
    return out;
}

std::string report::origin() const {
    if (!s) return graph_node;
    return "stream '" + s->name + "' task #" + std::to_string(seq);
}

}  // namespace npusim::runtime
