#pragma once
// Shared by the benchmarks: wall-clock rates on a shared machine vary from run to run, so a
// figure is measured in several child processes (SystemC elaborates once per process) and
// reported as best and median.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace npusim::bench {

/// @brief Runs `cmd` `runs` times; prints each run's last output line and collects the number
/// in front of `unit` on it. Returns the rates sorted; `rc` becomes non-zero if a run failed.
inline std::vector<double> child_rates(const std::string& cmd, int runs, const std::string& unit,
                                       int& rc) {
    std::vector<double> rates;
    for (int i = 0; i < runs; ++i) {
        FILE* p = popen(cmd.c_str(), "r");
        char line[1024];
        std::string last;
        while (p && std::fgets(line, sizeof line, p)) last = line;
        rc |= p ? pclose(p) : 1;
        std::printf("%s", last.c_str());
        std::fflush(stdout);
        const auto at = last.find(" " + unit);
        if (at != std::string::npos)
            rates.push_back(std::atof(last.substr(last.rfind(' ', at - 1)).c_str()));
    }
    std::sort(rates.begin(), rates.end());
    return rates;
}

}  // namespace npusim::bench
