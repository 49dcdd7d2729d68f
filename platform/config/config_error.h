#pragma once
#include <stdexcept>
#include <string>

namespace npusim::platform {

/// @brief Bad platform input. The message reads "FILE:LINE:COL: error: KEY: what" followed by
/// a hint line saying how to fix it, so it can be printed as is.
/// @brief "file:line:col" for a 0-based line and column (as YAML marks count them).
inline std::string source_position(const std::string& source, int line0, int column0) {
    return source + ":" + std::to_string(line0 + 1) + ":" + std::to_string(column0 + 1);
}

class config_error : public std::runtime_error {
  public:
    config_error(const std::string& where, const std::string& key, const std::string& what,
                 const std::string& hint = "")
        : std::runtime_error(format(where, key, what, hint)), m_key(key) {}
    const std::string& key() const { return m_key; }

  private:
    static std::string format(const std::string& where, const std::string& key,
                              const std::string& what, const std::string& hint) {
        std::string s = where + ": error: ";
        if (!key.empty()) s += key + ": ";
        s += what;
        if (!hint.empty()) s += "\n  hint: " + hint;
        return s;
    }
    std::string m_key;
};

}  // namespace npusim::platform
