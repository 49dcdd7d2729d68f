#pragma once
#include <string>
#include <vector>

namespace npusim::tools {

/// @brief Options of `npusim probe`: one instruction kind timed on an idle core.
struct probe_args {
    std::vector<std::string>
        what;  ///< move SRC DST BYTES|--repeat R | mmad M K N | vector INSTR DTYPES R
    std::string platform;
    std::vector<std::string> sets;
    unsigned count = 1024;       ///< back-to-back identical instructions timed
    std::string dtype = "fp16";  ///< mmad input dtype
    std::string format;          ///< move: nd2nz or nz2nd layout conversion ("" = none)
    unsigned repeat = 0;         ///< move: the load's repeat count instead of BYTES (0 = unset)
};

/// @brief Runs `count` identical instructions on one pipe of an idle core twice (the first
/// round warms the source, as the silicon tables were measured L2-warm) and prints one JSON
/// object with the second round's cost per instruction. Exit 2 on an unknown kind, path,
/// instruction or dtype, listing the known ones.
int cmd_probe(const probe_args& a);

}  // namespace npusim::tools
