// npusim_fuzz_loaders: runs the loader mutation fuzzer for a number of cases or seconds, saves
// every finding (and the input of a crash or a hang) under --out. scripts/fuzz-loaders drives it.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <systemc>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "tools/fuzz/loader_fuzz.h"

namespace {

using namespace npusim::fuzz;

// The input being loaded, for the crash handler and the watchdog (set before each case).
std::string g_input;
std::string g_crash_path, g_hang_path;
std::atomic<int64_t> g_case_start_ms{0};

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

void write_input(const std::string& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return;
    const char* p = g_input.data();
    size_t left = g_input.size();
    while (left > 0) {
        const ssize_t w = ::write(fd, p, left);
        if (w <= 0) break;
        p += w;
        left -= size_t(w);
    }
    ::close(fd);
}

extern "C" void on_crash(int sig) {
    write_input(g_crash_path);
    const char msg[] = "npusim_fuzz_loaders: crash; input saved\n";
    (void)!::write(2, msg, sizeof msg - 1);
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

int usage() {
    std::cerr << "usage: npusim_fuzz_loaders --loader platform|workload|sweep|model|serving|trace "
                 "[--seed N] "
                 "[--cases N | --seconds S] [--timeout S] [--out DIR] [--configs DIR]\n"
                 "       npusim_fuzz_loaders --loader KIND --replay FILE\n";
    return 2;
}

}  // namespace

int sc_main(int argc, char* argv[]) {
    std::string kind_name, out = "fuzz-findings", configs = NPUSIM_SOURCE_DIR "/configs", replay;
    uint64_t seed = 1, cases = 1000;
    double seconds = 0, timeout = 10;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) return usage();
        const std::string v = argv[++i];
        try {
            if (a == "--loader")
                kind_name = v;
            else if (a == "--seed")
                seed = std::stoull(v);
            else if (a == "--cases")
                cases = std::stoull(v);
            else if (a == "--seconds")
                seconds = std::stod(v);
            else if (a == "--timeout")
                timeout = std::stod(v);
            else if (a == "--out")
                out = v;
            else if (a == "--configs")
                configs = v;
            else if (a == "--replay")
                replay = v;
            else
                return usage();
        } catch (const std::exception&) {
            return usage();
        }
    }
    loader_kind kind;
    if (kind_name == "platform")
        kind = loader_kind::platform;
    else if (kind_name == "workload")
        kind = loader_kind::workload;
    else if (kind_name == "sweep")
        kind = loader_kind::sweep;
    else if (kind_name == "model")
        kind = loader_kind::model;
    else if (kind_name == "serving")
        kind = loader_kind::serving;
    else if (kind_name == "trace")
        kind = loader_kind::trace;
    else
        return usage();
    const std::string corpus_dir = configs + "/" + corpus_folder(kind);
    if (!replay.empty()) {
        std::ifstream in(replay, std::ios::binary);
        if (!in) return usage();
        const std::string text((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
        bool rejected = false;
        const std::string bad = classify(kind, text, corpus_dir, &rejected);
        std::cout << (bad.empty() ? (rejected ? "rejected with a proper error" : "loaded") : bad)
                  << "\n";
        return bad.empty() ? 0 : 1;
    }
    std::filesystem::create_directories(out);
    g_crash_path = out + "/crash-" + kind_name + "-seed" + std::to_string(seed) + ".yaml";
    g_hang_path = out + "/hang-" + kind_name + "-seed" + std::to_string(seed) + ".yaml";
    for (int sig : {SIGSEGV, SIGABRT, SIGFPE, SIGBUS, SIGILL}) ::signal(sig, on_crash);
    std::thread([timeout] {
        for (;;) {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            const int64_t start = g_case_start_ms.load();
            if (start > 0 && now_ms() - start > int64_t(timeout * 1000)) {
                write_input(g_hang_path);
                std::cerr << "npusim_fuzz_loaders: a case ran over " << timeout
                          << " s; input saved to " << g_hang_path << "\n";
                std::_Exit(3);
            }
        }
    }).detach();

    auto corpus = read_corpus(corpus_dir, corpus_extension(kind));
    for (auto& extra : extra_seeds(kind)) corpus.push_back(extra);
    if (corpus.empty()) {
        std::cerr << "no " << corpus_extension(kind) << " files in " << corpus_dir << "\n";
        return 2;
    }
    const fuzz_stats st =
        run(kind, corpus, corpus_dir, seed, cases, seconds, [](const std::string& s) {
            g_case_start_ms = 0;
            g_input = s;
            g_case_start_ms = now_ms();
        });
    g_case_start_ms = 0;
    std::cout << kind_name << " loader: seed " << seed << ", " << st.cases << " cases, "
              << st.loaded << " loaded, " << st.rejected << " rejected with a proper error, "
              << st.findings.size() << " findings\n";
    for (size_t i = 0; i < st.findings.size(); ++i) {
        const auto& f = st.findings[i];
        const std::string path = out + "/finding-" + kind_name + "-seed" + std::to_string(seed) +
                                 "-case" + std::to_string(f.index) + ".yaml";
        std::ofstream(path, std::ios::binary) << f.input;
        std::cout << "  " << path << ": " << f.what.substr(0, f.what.find('\n')) << "\n";
    }
    return st.findings.empty() ? 0 : 1;
}

// SystemC prints its banner before sc_main; the fuzzer's output is its summary only.
int main(int argc, char* argv[]) {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    return sc_core::sc_elab_and_sim(argc, argv);
}
