#pragma once
// Running the npusim command from tests: temp files, reading files, exit code and output.
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/test_util.h"

namespace npusim::test {

namespace fs = std::filesystem;

/// A file name in the temp directory, unique to this process; removed on destruction.
struct temp_file {
    explicit temp_file(const std::string& stem, const std::string& ext = ".txt") {
        static int counter = 0;
        path = fs::temp_directory_path() / ("npusim_cli_" + stem + "_" + std::to_string(getpid()) +
                                            "_" + std::to_string(counter++) + ext);
    }
    ~temp_file() {
        std::error_code ec;
        fs::remove(path, ec);
    }
    std::string str() const { return path.string(); }
    fs::path path;
};

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct cli_result {
    int rc = -1;
    std::string out;  ///< stdout and stderr together
};

/// Runs `npusim ARGS` and captures its exit code and output.
inline cli_result run_cli(const std::string& args) {
    temp_file out("out");
    const std::string cmd =
        std::string("'") + NPUSIM_BINARY + "' " + args + " > '" + out.str() + "' 2>&1";
    const int status = std::system(cmd.c_str());
    cli_result r;
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_file(out.str());
    BOOST_TEST_MESSAGE("npusim " << args << " -> " << r.rc << "\n" << r.out);
    return r;
}

}  // namespace npusim::test
