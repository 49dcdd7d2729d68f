#include "platform/config/runnable_checks.h"

#include <string>

#include "platform/config/config_error.h"
#include "platform/config/units.h"

namespace npusim::platform {

namespace {

class checker {
  public:
    explicit checker(const platform_config& cfg) : m_cfg(cfg) {}

    double num(const std::string& key) const { return m_cfg.numbers.at(key); }

    /// A key left at its default has no line: point at the file and say it is the default.
    [[noreturn]] void fail(const std::string& key, const std::string& what,
                           const std::string& hint) const {
        const auto it = m_cfg.where.find(key);
        std::string where = it == m_cfg.where.end() ? m_cfg.source : it->second;
        std::string detail;
        const std::string dflt = " (default)";
        if (where.size() > dflt.size() &&
            where.compare(where.size() - dflt.size(), dflt.size(), dflt) == 0) {
            where = m_cfg.source + ":1:1";
            detail = " (not set in the file: the default applies)";
        }
        throw config_error(where, key, what + detail, hint);
    }

  private:
    const platform_config& m_cfg;
};

}  // namespace

void check_runnable(const platform_config& cfg) {
    const checker c(cfg);
    for (const char* b : {"l1", "l0a", "l0b", "l0c", "ub"}) {
        const std::string key = std::string("buffers.") + b + ".size";
        if (c.num(key) <= 0)
            c.fail(key, "size 0: the matmul and vector kernels need this buffer",
                   "give it a size, e.g. 64KiB");
    }
    // One fractal tile of each cube operand must fit: A (M0 x K0) in L0A, B (K0 x N0) in L0B,
    // the fp32/int32 accumulator (M0 x N0) in L0C.
    for (const auto& [dt, in_bytes] :
         {std::pair{"fp16", 2.0}, {"bf16", 2.0}, {"int8", 1.0}, {"fp32", 4.0}}) {
        const std::string f = std::string("cube.fractal.") + dt;
        const double m = c.num(f + ".m"), k = c.num(f + ".k"), n = c.num(f + ".n");
        const struct {
            const char* buffer;
            double bytes;
            const char* tile;
            const char* blame;
        } tiles[] = {{"l0a", m * k * in_bytes, "M0 x K0", ".k"},
                     {"l0b", k * n * in_bytes, "K0 x N0", ".n"},
                     {"l0c", m * n * 4, "M0 x N0 (32-bit accumulator)", ".m"}};
        for (const auto& t : tiles) {
            const double size = c.num(std::string("buffers.") + t.buffer + ".size");
            if (t.bytes > size)
                c.fail(f + t.blame,
                       std::string("a ") + dt + " fractal tile " + t.tile + " of " +
                           format_value(value_kind::size, t.bytes) + " does not fit in " +
                           t.buffer + " (" + format_value(value_kind::size, size) + ")",
                       "use a smaller fractal (the Ascend cube is 16x16x16 for fp16, 16x32x16 "
                       "for int8) or a larger buffers." +
                           std::string(t.buffer) + ".size");
        }
    }
    // Kernel queues are double-buffered: two ids per direction of a pipe pair.
    if (c.num("chip.event_ids") < 2)
        c.fail("chip.event_ids",
               "1 event id per pipe pair cannot synchronise a double-buffered queue",
               "use at least 2 (910: 4; 310P, 910B: 8)");
    const bool split = cfg.split;
    std::vector<std::pair<const char*, const char*>> paths = {
        {"gm_to_l1", "cube operands are loaded into L1"},
        {"l1_to_l0a", "the cube's left operand moves from L1 to L0A"},
        {"l1_to_l0b", "the cube's right operand moves from L1 to L0B"},
        {"gm_to_ub", "vector operands are loaded into UB"},
        {"ub_to_gm", "vector results are stored from UB"}};
    if (split)
        paths.push_back({"l0c_to_gm", "a split chip stores matmul results from L0C (FixPipe)"});
    else
        paths.push_back(
            {"l0c_to_ub", "a coupled chip moves matmul results from L0C through the vector unit"});
    for (const auto& [p, why] : paths) {
        const std::string key = std::string("paths.") + p + ".bytes_per_cycle";
        if (c.num(key) <= 0)
            c.fail(key, std::string("path absent (0 bytes/cycle), but ") + why,
                   "give it a bandwidth, e.g. 128");
    }
}

}  // namespace npusim::platform
