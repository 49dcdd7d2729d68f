#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "platform/chip.h"
#include "platform/stats.h"

namespace npusim::platform {

/// @brief Options of the built-in data-movement workload.
struct dma_stream_options {
    uint64_t bytes_per_core = 256 * 1024;
    uint64_t chunk_bytes = 0;  ///< 0 = half the staging buffer, at most 32 KiB
};

/// @brief Built-in workload: every core streams a buffer GM->L1->GM and GM->UB->GM (the
/// buffers it has), double-buffered so copy-in and copy-out overlap, then the host copies the
/// results back over the host link and compares them with what it sent.
///
/// Runs on the host thread. Returns an empty string when every byte matched, else what differed.
std::string run_dma_stream(chip& c, const dma_stream_options& opt, std::vector<op_record>& ops);

}  // namespace npusim::platform
