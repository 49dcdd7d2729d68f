#include "platform/config/platform_config.h"

namespace npusim::platform {

std::vector<models::core_params> platform_config::core_list() const {
    std::vector<models::core_params> v(cores, split ? aic : aicore);
    v.insert(v.end(), vector_cores, aiv);
    return v;
}

double platform_config::peak_fp16_flops() const {
    return 2.0 * fp16.m * fp16.k * fp16.n * cores * cube_clock_hz;
}

}  // namespace npusim::platform
