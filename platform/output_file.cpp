#include "platform/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "platform/config/config_error.h"

namespace npusim::platform {

namespace {

// Pending temporaries, for the signal handler: fixed storage, since a handler may only call
// async-signal-safe functions (unlink, signal, raise).
constexpr int max_pending = 16;
char g_pending[max_pending][4096];
std::atomic<bool> g_used[max_pending];

extern "C" void remove_pending_and_reraise(int sig) {
    for (int i = 0; i < max_pending; ++i)
        if (g_used[i].load()) unlink(g_pending[i]);
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}

int register_pending(const std::string& temp) {
    static const bool installed = [] {
        for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, remove_pending_and_reraise);
        return true;
    }();
    (void)installed;
    if (temp.size() >= sizeof g_pending[0]) return -1;
    for (int i = 0; i < max_pending; ++i)
        if (!g_used[i].load()) {
            std::memcpy(g_pending[i], temp.c_str(), temp.size() + 1);
            g_used[i].store(true);
            return i;
        }
    return -1;
}

mode_t default_mode() {
    const mode_t mask = umask(0);
    umask(mask);
    return 0666 & ~mask;
}

std::string system_error(const std::string& what, const std::string& path) {
    return what + " " + path + ": " + std::strerror(errno);
}

}  // namespace

output_file::output_file(std::string path, std::string flag)
    : m_path(std::move(path)), m_flag(std::move(flag)) {
    namespace fs = std::filesystem;
    const fs::path target(m_path);
    if (m_path.empty() || target.filename().empty())
        throw config_error(m_flag + " '" + m_path + "'", m_flag, "not a file name",
                           "give a file path, e.g. " + m_flag + " out/result.json");
    std::error_code ec;
    if (fs::is_directory(target, ec))
        throw config_error(m_path, m_flag, "is a folder, not a file", "give a file path inside it");
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::string templ = (dir / ("." + target.filename().string() + ".tmp.XXXXXX")).string();
    const int fd = mkstemp(templ.data());
    if (fd < 0) {
        const std::string why = std::strerror(errno);
        throw config_error(m_path, m_flag, "cannot write this file (" + why + ")",
                           fs::is_directory(dir, ec)
                               ? "check that the folder " + dir.string() + " is writable"
                               : "the folder " + dir.string() + " does not exist; create it first");
    }
    fchmod(fd, default_mode());
    close(fd);
    m_temp = templ;
    m_slot = register_pending(m_temp);
}

output_file::~output_file() {
    if (!m_committed) unlink(m_temp.c_str());
    if (m_slot >= 0) g_used[m_slot].store(false);
}

void output_file::write_and_commit(const std::string& text) {
    const int fd = open(m_temp.c_str(), O_WRONLY | O_TRUNC);
    if (fd < 0) throw std::runtime_error(system_error("cannot write", m_temp));
    for (size_t done = 0; done < text.size();) {
        const ssize_t n = write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const std::string msg = system_error("cannot write " + m_flag + " file", m_path);
            close(fd);
            throw std::runtime_error(msg);
        }
        done += size_t(n);
    }
    // A full disk can surface only when the data is flushed.
    if (fsync(fd) != 0 && errno != EINVAL) {
        const std::string msg = system_error("cannot write " + m_flag + " file", m_path);
        close(fd);
        throw std::runtime_error(msg);
    }
    if (close(fd) != 0) throw std::runtime_error(system_error("cannot write", m_path));
    commit();
}

void output_file::commit() {
    if (m_committed) return;
    if (std::rename(m_temp.c_str(), m_path.c_str()) != 0)
        throw std::runtime_error(system_error("cannot replace " + m_flag + " file", m_path));
    m_committed = true;
    if (m_slot >= 0) g_used[m_slot].store(false);
    m_slot = -1;
}

}  // namespace npusim::platform
