#pragma once
#include <cstdint>
#include <string>

namespace npusim::runtime {

/// @brief Result of a runtime call, in the CANN runtime's bands: 1xxxxx bad argument or misuse
/// (the call did nothing), 2xxxxx resources, 5xxxxx execution. Codes that CANN defines keep its
/// value; the others are npusim's, placed in the band they belong to.
enum class status : uint32_t {
    success = 0,
    invalid_argument = 107000,
    invalid_handle = 107001,  ///< a stream, event or graph not from this context, or destroyed
    not_subscribed = 107012,  ///< no report thread for the stream / calling thread
    already_subscribed = 107013,
    not_permitted_in_callback = 107020,
    failure_mode_already_set = 107021,
    graph_cycle = 107030,
    stream_stopped = 107040,  ///< a launch onto a stream stopped by an earlier failure
    not_ready = 107050,       ///< asked for a result (elapsed time) that is not complete
    context_destroyed = 107060,
    deadlock = 107070,  ///< the wait (or the work submitted) would close a wait-for cycle
    memory_allocation = 207001,
    device_oom = 207018,
    internal = 507000,
    report_timeout = 507012,
    aicore_exception = 507015,
    vector_core_exception = 507035,
    stream_sync_timeout = 507046,
    event_sync_timeout = 507047,
    copy_exception = 507053,
    callback_exception = 507060,
    task_cancelled = 507061,
    freed_memory_read = 507062,  ///< a kernel read freed device memory (memory.poison_freed)
};

/// @brief The band a status belongs to.
enum class status_band { success, bad_argument, resource, execution };

status_band band(status s);
/// @brief Short name, e.g. "aicore_exception".
const char* to_string(status s);
const char* to_string(status_band b);

/// @brief A status with the text that explains it (what, where, how to fix).
struct error_info {
    status code = status::success;
    std::string message;
    bool failed() const { return code != status::success; }
};

}  // namespace npusim::runtime
