#pragma once
// The npusim release: printed by `npusim --version` and recorded in every stats file.

namespace npusim {

inline constexpr const char* k_version = "0.4.0";

}  // namespace npusim
