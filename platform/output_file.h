#pragma once
// Output files (--stats, --timeline, --vcd) are written whole or not at all.
#include <string>

namespace npusim::platform {

/// @brief A file written through a temporary in the same folder and renamed over the target on
/// commit(), so a failed or interrupted run never leaves a truncated file and never destroys the
/// previous one. The temporary is created by the constructor, so an unwritable path is found
/// before any simulation runs; SIGINT, SIGTERM and SIGHUP remove pending temporaries.
class output_file {
  public:
    /// @brief `flag` names the option the path came from (for messages).
    /// @throws config_error naming the flag and path when the folder is missing or unwritable.
    output_file(std::string path, std::string flag);
    ~output_file();
    output_file(const output_file&) = delete;
    output_file& operator=(const output_file&) = delete;

    const std::string& path() const { return m_path; }
    /// @brief Where writers put the contents before commit().
    const std::string& temp_path() const { return m_temp; }

    /// @brief Replaces the temporary's contents with `text` and commits.
    /// @throws std::runtime_error on a write error (e.g. a full disk); the target is untouched.
    void write_and_commit(const std::string& text);
    /// @brief Renames the temporary over the target. @throws std::runtime_error if it fails.
    void commit();

  private:
    std::string m_path, m_flag, m_temp;
    int m_slot = -1;  ///< index in the signal handler's table of pending temporaries
    bool m_committed = false;
};

}  // namespace npusim::platform
