#include "sw/runtime/status.h"

namespace npusim::runtime {

status_band band(status s) {
    const uint32_t v = static_cast<uint32_t>(s);
    if (v == 0) return status_band::success;
    if (v < 200000) return status_band::bad_argument;
    if (v < 500000) return status_band::resource;
    return status_band::execution;
}

const char* to_string(status s) {
    switch (s) {
        case status::success:
            return "success";
        case status::invalid_argument:
            return "invalid_argument";
        case status::invalid_handle:
            return "invalid_handle";
        case status::not_subscribed:
            return "not_subscribed";
        case status::already_subscribed:
            return "already_subscribed";
        case status::not_permitted_in_callback:
            return "not_permitted_in_callback";
        case status::failure_mode_already_set:
            return "failure_mode_already_set";
        case status::graph_cycle:
            return "graph_cycle";
        case status::stream_stopped:
            return "stream_stopped";
        case status::not_ready:
            return "not_ready";
        case status::context_destroyed:
            return "context_destroyed";
        case status::deadlock:
            return "deadlock";
        case status::memory_allocation:
            return "memory_allocation";
        case status::device_oom:
            return "device_oom";
        case status::internal:
            return "internal";
        case status::report_timeout:
            return "report_timeout";
        case status::aicore_exception:
            return "aicore_exception";
        case status::vector_core_exception:
            return "vector_core_exception";
        case status::stream_sync_timeout:
            return "stream_sync_timeout";
        case status::event_sync_timeout:
            return "event_sync_timeout";
        case status::copy_exception:
            return "copy_exception";
        case status::callback_exception:
            return "callback_exception";
        case status::task_cancelled:
            return "task_cancelled";
        case status::freed_memory_read:
            return "freed_memory_read";
    }
    return "unknown";
}

const char* to_string(status_band b) {
    switch (b) {
        case status_band::success:
            return "success";
        case status_band::bad_argument:
            return "bad argument";
        case status_band::resource:
            return "resource";
        case status_band::execution:
            return "execution";
    }
    return "?";
}

}  // namespace npusim::runtime
