// The built-in operator library: each family of ops registers its schemas and kernels from
// its own file (see library_parts.h).
#include "sw/ops/library_parts.h"

namespace npusim::ops {

namespace lib {

std::string dims(const std::vector<int64_t>& shape) {
    std::string s;
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
    return "[" + s + "]";
}

const models::core_params& vector_core(const platform::platform_config& p) {
    return p.split ? p.aiv : p.aicore;
}

unsigned vector_units(const platform::platform_config& p) {
    return p.split ? p.vector_cores : p.cores;
}

const models::core_params& cube_core(const platform::platform_config& p) {
    return p.split ? p.aic : p.aicore;
}

}  // namespace lib

namespace {

registry build_library() {
    registry r;
    lib::register_elementwise(r);
    lib::register_matmul(r);
    lib::register_norm(r);
    lib::register_views(r);
    lib::register_conv(r);
    lib::register_layout(r);
    return r;
}

}  // namespace

const registry& library() {
    static const registry lib = build_library();
    return lib;
}

}  // namespace npusim::ops
