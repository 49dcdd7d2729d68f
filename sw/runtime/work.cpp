#include "sw/runtime/work.h"

namespace npusim::runtime {

const char* to_string(work_kind k) {
    switch (k) {
        case work_kind::kernel:
            return "kernel";
        case work_kind::memcpy_h2d:
            return "memcpy_h2d";
        case work_kind::memcpy_d2h:
            return "memcpy_d2h";
        case work_kind::memcpy_d2d:
            return "memcpy_d2d";
        case work_kind::memset:
            return "memset";
        case work_kind::event_record:
            return "event_record";
        case work_kind::event_wait:
            return "event_wait";
        case work_kind::callback:
            return "callback";
        case work_kind::graph:
            return "graph";
    }
    return "?";
}

work kernel_work(const std::string& name, unsigned block_dim, models::kernel_kind kind,
                 kernel::kernel_fn fn, const kernel_info& info) {
    work w;
    w.kind = work_kind::kernel;
    w.name = name;
    w.block_dim = block_dim;
    w.cores = kind;
    w.kernel = std::move(fn);
    w.op = info.op;
    w.kernel_name = info.kernel;
    w.tiling = info.tiling;
    w.flops = info.flops;
    w.bytes = info.bytes;
    w.expected_ps = info.expected_ps;
    return w;
}

work to_device_work(const std::string& name, uint64_t dst, const void* src, uint64_t bytes) {
    work w;
    w.kind = work_kind::memcpy_h2d;
    w.name = name;
    w.dst = dst;
    w.host_src = src;
    w.bytes = bytes;
    return w;
}

work to_host_work(const std::string& name, void* dst, uint64_t src, uint64_t bytes) {
    work w;
    w.kind = work_kind::memcpy_d2h;
    w.name = name;
    w.host_dst = dst;
    w.src = src;
    w.bytes = bytes;
    return w;
}

work on_device_work(const std::string& name, uint64_t dst, uint64_t src, uint64_t bytes) {
    work w;
    w.kind = work_kind::memcpy_d2d;
    w.name = name;
    w.dst = dst;
    w.src = src;
    w.bytes = bytes;
    return w;
}

work memset_work(const std::string& name, uint64_t dst, uint8_t value, uint64_t bytes) {
    work w;
    w.kind = work_kind::memset;
    w.name = name;
    w.dst = dst;
    w.value = value;
    w.bytes = bytes;
    return w;
}

work callback_work(const std::string& name, callback_fn fn, bool blocking) {
    work w;
    w.kind = work_kind::callback;
    w.name = name;
    w.fn = std::move(fn);
    w.blocking = blocking;
    return w;
}

}  // namespace npusim::runtime
