#pragma once
// Runs the points of a sweep: one `npusim run` process per point, --jobs at once, each result
// appended to results.jsonl as it finishes so a rerun resumes (results.csv is regenerated from
// it); crashed, failed and timed-out points are recorded with their error and log, and the
// sweep goes on. Point processes die with the sweep; an interrupted sweep records nothing for
// the points it stopped.
#include <nlohmann/json.hpp>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "tools/npusim/sweep_spec.h"

namespace npusim::tools {

struct sweep_options {
    unsigned jobs = 1;
    std::string out_dir;        ///< results, per-point logs and stats, plots
    std::string self;           ///< path of the npusim executable
    bool retry_failed = false;  ///< rerun points recorded as failed, crashed or timed out
};

/// @brief Another sweep holds the output folder, or the folder cannot be locked.
class sweep_busy : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// @brief An exclusive lock on a sweep's output folder (flock on OUT/.lock, which holds the
/// owner's pid), kept for the object's life; the kernel drops it if the process dies.
class sweep_lock {
  public:
    /// @throws sweep_busy naming the pid of the sweep that holds it.
    explicit sweep_lock(const std::string& out_dir);
    ~sweep_lock();
    sweep_lock(const sweep_lock&) = delete;
    sweep_lock& operator=(const sweep_lock&) = delete;

  private:
    int m_fd = -1;
};

/// @brief Runs `args` (args[0] found on PATH when it has no '/') without a shell, in `dir`
/// when not empty, and returns its exit status as waitpid reports it, or -1 when it could not
/// start. Standard output goes to `out` when given (with standard error too if `merge_err`),
/// else to /dev/null; it is killed after `timeout_s`.
int run_process(const std::vector<std::string>& args, std::string* out, bool merge_err,
                const std::string& dir = "", double timeout_s = 60);

/// @brief The path of an executable named `name` on PATH, or "".
std::string find_on_path(const std::string& name);

/// @brief Runs one point to completion (or its timeout) and returns its result record:
/// index, label, workload, params, status (ok, failed, crashed, timeout), exit_code, wall_s,
/// error, log, metrics. Also writes it to OUT/points/<index>.result.json. Returns null, with
/// nothing written, when SIGINT or SIGTERM stopped it (see interrupt_signal).
nlohmann::json run_point(const sweep_spec& s, const sweep_point& p, const sweep_options& o);

/// @brief The signal (SIGINT, SIGTERM or SIGHUP) that stopped the last run, or 0.
int interrupt_signal();

/// @brief Makes OUT/results.jsonl whole before it is used: a torn last line (an interrupted
/// write) is cut off, repeated records of a point are merged (the last wins) and, with
/// retry_failed, the records of this sweep's points that are not ok are dropped so they run
/// again. Returns the labels recorded. Call with the folder locked.
std::set<std::string> prepare_results(const sweep_spec& s, const sweep_options& o);

/// @brief Runs every point not yet in OUT/results.jsonl. Returns 0 when all points are ok, 1
/// when some failed, 128 + the signal when interrupted.
int run_sweep(const sweep_spec& s, const sweep_options& o);

/// @brief Merges OUT/points/*.result.json (e.g. from a Slurm array) into the results files,
/// with the same resume rules; points with no result are listed as missing. Returns 0 when
/// all points are ok.
int collect_sweep(const sweep_spec& s, const sweep_options& o);

}  // namespace npusim::tools
