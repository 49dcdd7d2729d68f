#pragma once
#include <stdexcept>
#include <string>

namespace npusim::platform {

/// @brief Bad platform input. The message reads "FILE:LINE:COL: error: KEY: what" followed by
/// a hint line saying how to fix it, so it can be printed as is.
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
