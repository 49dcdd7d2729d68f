#include "platform/config/platform_config.h"

namespace npusim::platform {

std::vector<models::core_params> platform_config::core_list() const {
    std::vector<models::core_params> v(cores, split ? aic : aicore);
    v.insert(v.end(), vector_cores, aiv);
    return v;
}

double platform_config::peak_fp16_flops() const {
    const auto& f = aicore.cube.fp16;
    return 2.0 * f.m * f.k * f.n * cores * cube_clock_hz;
}

void platform_config::set_timing_only() {
    gm.functional = false;
    l2.functional = false;
    aicore.functional = aic.functional = aiv.functional = false;
}

}  // namespace npusim::platform
