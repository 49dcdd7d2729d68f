#include "sw/graph/builtin_workloads.h"

#include <fmt/format.h>

#include <cmath>
#include <memory>
#include <random>
#include <stdexcept>

#include "models/common/host_buffer.h"
#include "models/core/dtype.h"
#include "models/core/fractal_layout.h"
#include "platform/config/config_error.h"
#include "sw/kernel/launch.h"
#include "sw/kernel/reference_kernels.h"
#include "sw/runtime/context.h"

namespace npusim::graph {

using models::ps_t;

namespace {

/// n fp16 values on the host, zero until written, in an untouched mapping: a timing-only run
/// copies no bytes, so its inputs and outputs cost neither a memset nor page faults.
class halves {
  public:
    explicit halves(uint64_t n) : m_buf(n * 2) {}
    /// @brief Uniform values in [-1, 1) from `seed` (functional runs only need them).
    void randomize(unsigned seed) {
        std::mt19937 rng(seed);
        std::uniform_real_distribution<float> d(-1.f, 1.f);
        for (uint64_t i = 0; i < size(); ++i) data()[i] = models::float_to_half(d(rng));
    }
    uint16_t* data() { return reinterpret_cast<uint16_t*>(m_buf.data()); }
    uint16_t operator[](uint64_t i) const {
        return reinterpret_cast<const uint16_t*>(m_buf.data())[i];
    }
    uint64_t size() const { return m_buf.size() / 2; }

  private:
    models::host_buffer m_buf;
};

uint64_t place(uint64_t& next, uint64_t bytes) {
    const uint64_t at = next;
    next = models::round_up(next + bytes, 4096);
    return at;
}

void check_launch(const models::launch_record& rec) {
    if (!rec.fault.empty()) throw std::runtime_error(rec.name + " kernel fault: " + rec.fault);
}

std::string matmul(platform::chip& c, const builtin_options& opt,
                   std::vector<platform::op_record>& ops) {
    if (opt.shape.size() != 3) throw std::invalid_argument("matmul needs --shape MxKxN");
    const uint32_t m = uint32_t(opt.shape[0]), k = uint32_t(opt.shape[1]),
                   n = uint32_t(opt.shape[2]);
    const auto& cfg = c.config();
    const bool functional = cfg.gm.functional;
    uint64_t next = 0;
    const uint64_t a_addr = place(next, uint64_t(m) * k * 2),
                   b_addr = place(next, uint64_t(k) * n * 2);
    const uint64_t c_addr = place(next, uint64_t(m) * n * 2);
    // Timing only: the bytes are not stored, so there is no point making random ones.
    halves a(uint64_t(m) * k), b(uint64_t(k) * n);
    if (functional) a.randomize(1), b.randomize(2);
    ps_t t0 = models::now_ps();
    c.host().to_device(a_addr, a.data(), a.size() * 2);
    c.host().to_device(b_addr, b.data(), b.size() * 2);
    ops.push_back({"h2d_inputs", "memcpy", t0, models::now_ps(), 0, (a.size() + b.size()) * 2});

    const kernel::matmul_tiling t = kernel::tile_matmul(
        kernel::matmul_chip_of(cfg), kernel::matmul_problem{1, m, k, n}, opt.depth);
    const auto rec = kernel::launch(
        c, "matmul", t.block_dim, models::kernel_kind::cube, [&](kernel::kernel_context& ctx) {
            kernel::matmul_kernel(ctx, {a_addr, uint64_t(m) * k}, {b_addr, uint64_t(k) * n},
                                  {c_addr, uint64_t(m) * n}, t);
        });
    check_launch(rec);
    ops.push_back({fmt::format("matmul_{}x{}x{}", m, k, n), "matmul", rec.start, rec.end,
                   2.0 * m * n * k, (uint64_t(m) * k + uint64_t(k) * n + uint64_t(m) * n) * 2});
    platform::add_launch(ops.back(), rec);

    halves out(uint64_t(m) * n);
    t0 = models::now_ps();
    c.host().to_host(out.data(), c_addr, out.size() * 2);
    ops.push_back({"d2h_output", "memcpy", t0, models::now_ps(), 0, out.size() * 2});
    if (!opt.check || !functional) return {};
    // CPU reference: float accumulation in i-k-j order, fp16 inputs.
    std::vector<float> af(a.size()), bf(b.size()), ref(out.size(), 0.f);
    for (size_t i = 0; i < a.size(); ++i) af[i] = models::half_to_float(a[i]);
    for (size_t i = 0; i < b.size(); ++i) bf[i] = models::half_to_float(b[i]);
    for (uint32_t i = 0; i < m; ++i)
        for (uint32_t p = 0; p < k; ++p) {
            const float av = af[uint64_t(i) * k + p];
            const float* brow = &bf[uint64_t(p) * n];
            float* crow = &ref[uint64_t(i) * n];
            for (uint32_t j = 0; j < n; ++j) crow[j] += av * brow[j];
        }
    double worst = 0;
    uint64_t at = 0;
    for (uint64_t i = 0; i < out.size(); ++i) {
        const double e =
            std::fabs(double(models::half_to_float(out[i])) - ref[i]) / (std::fabs(ref[i]) + 1);
        if (e > worst) worst = e, at = i;
    }
    // fp16 output rounding (2^-11 relative) plus accumulation-order differences.
    if (worst > 2e-3)
        return fmt::format(
            "matmul C[{}][{}] = {} but the CPU reference gives {} (relative error {:.2e})", at / n,
            at % n, models::half_to_float(out[at]), ref[at], worst);
    return {};
}

std::string elementwise(platform::chip& c, const builtin_options& opt,
                        std::vector<platform::op_record>& ops) {
    if (opt.shape.size() != 1) throw std::invalid_argument("elementwise needs --shape N");
    const uint64_t n = opt.shape[0];
    const auto& cfg = c.config();
    uint64_t next = 0;
    const uint64_t x_addr = place(next, n * 2), y_addr = place(next, n * 2),
                   z_addr = place(next, n * 2);
    const bool functional = cfg.gm.functional;
    halves x(n), y(n);
    if (functional) x.randomize(3), y.randomize(4);
    ps_t t0 = models::now_ps();
    c.host().to_device(x_addr, x.data(), n * 2);
    c.host().to_device(y_addr, y.data(), n * 2);
    ops.push_back({"h2d_inputs", "memcpy", t0, models::now_ps(), 0, 4 * n});
    const auto& core = cfg.split ? cfg.aiv : cfg.aicore;
    const unsigned units = c.scheduler().units(models::kernel_kind::vector);
    const kernel::elementwise_tiling t = kernel::tile_elementwise(core, units, n, 2, opt.depth);
    const auto rec = kernel::launch(c, "add", t.block_dim, models::kernel_kind::vector,
                                    [&](kernel::kernel_context& ctx) {
                                        kernel::elementwise_add_kernel<kernel::half>(
                                            ctx, {x_addr, n}, {y_addr, n}, {z_addr, n}, t);
                                    });
    check_launch(rec);
    ops.push_back({fmt::format("add_{}", n), "elementwise", rec.start, rec.end, double(n), 6 * n});
    platform::add_launch(ops.back(), rec);
    halves z(n);
    t0 = models::now_ps();
    c.host().to_host(z.data(), z_addr, n * 2);
    ops.push_back({"d2h_output", "memcpy", t0, models::now_ps(), 0, 2 * n});
    if (!opt.check || !cfg.gm.functional) return {};
    for (uint64_t i = 0; i < n; ++i) {
        const uint16_t want =
            models::float_to_half(models::half_to_float(x[i]) + models::half_to_float(y[i]));
        if (z[i] != want)  // fp16 add rounds once: exact
            return fmt::format("add z[{}] = {} but the CPU reference gives {}", i,
                               models::half_to_float(z[i]), models::half_to_float(want));
    }
    return {};
}

/// Two streams through the runtime, each adding its own pair of vectors on half the cores, then
/// stream s1 waits for s0's event and adds the two sums: w = (x0 + y0) + (x1 + y1).
std::string streams(platform::chip& c, const builtin_options& opt,
                    std::vector<platform::op_record>& ops) {
    if (opt.shape.size() != 1) throw std::invalid_argument("streams needs --shape N");
    const uint64_t n = opt.shape[0];
    const auto& cfg = c.config();
    const bool functional = cfg.gm.functional;
    uint64_t next = 0;
    std::vector<uint64_t> in(4), sum(2);
    for (auto& a : in) a = place(next, n * 2);
    for (auto& a : sum) a = place(next, n * 2);
    const uint64_t w_addr = place(next, n * 2);
    std::vector<std::unique_ptr<halves>> host(4);
    for (unsigned i = 0; i < 4; ++i) {
        host[i] = std::make_unique<halves>(n);
        if (functional) host[i]->randomize(10 + i);
    }
    halves w(n);
    const auto& core = cfg.split ? cfg.aiv : cfg.aicore;
    const unsigned units = c.scheduler().units(models::kernel_kind::vector);
    const kernel::elementwise_tiling half_tiling =
        kernel::tile_elementwise(core, std::max(1u, units / 2), n, 2, opt.depth);
    const kernel::elementwise_tiling all_tiling =
        kernel::tile_elementwise(core, units, n, 2, opt.depth);
    auto add = [](uint64_t x, uint64_t y, uint64_t z, uint64_t len, kernel::elementwise_tiling t) {
        return [=](kernel::kernel_context& ctx) {
            kernel::elementwise_add_kernel<kernel::half>(ctx, {x, len}, {y, len}, {z, len}, t);
        };
    };
    runtime::context rt(c, &ops);
    std::string failure;
    auto check = [&](runtime::status s) {
        if (s != runtime::status::success && failure.empty()) failure = rt.get_last_error().message;
    };
    runtime::stream* s[2] = {nullptr, nullptr};
    runtime::event* done0 = nullptr;
    check(rt.create_stream(s[0], {"s0", 4}));
    check(rt.create_stream(s[1], {"s1", 4}));
    check(rt.create_event(done0, "s0_done"));
    unsigned callbacks = 0;
    for (unsigned i = 0; i < 2; ++i) {
        check(rt.memcpy_to_device(s[i], in[2 * i], host[2 * i]->data(), n * 2));
        check(rt.memcpy_to_device(s[i], in[2 * i + 1], host[2 * i + 1]->data(), n * 2));
        check(rt.launch(s[i], fmt::format("add{}", i), half_tiling.block_dim,
                        models::kernel_kind::vector,
                        add(in[2 * i], in[2 * i + 1], sum[i], n, half_tiling), double(n), 6 * n));
        check(rt.launch_host_func(s[i], [&](runtime::status st) {
            if (st == runtime::status::success) ++callbacks;
        }));
    }
    check(rt.record_event(done0, s[0]));
    check(rt.stream_wait_event(s[1], done0));
    check(rt.launch(s[1], "add_sums", all_tiling.block_dim, models::kernel_kind::vector,
                    add(sum[0], sum[1], w_addr, n, all_tiling), double(n), 6 * n));
    check(rt.memcpy_to_host(s[1], w.data(), w_addr, n * 2));
    check(rt.synchronize_device());
    if (!failure.empty()) throw std::runtime_error(failure);
    if (callbacks != 2) throw std::runtime_error("a stream callback did not run");
    if (!opt.check || !functional) return {};
    auto h = [](uint16_t v) { return models::half_to_float(v); };
    for (uint64_t i = 0; i < n; ++i) {
        const uint16_t s0 = models::float_to_half(h((*host[0])[i]) + h((*host[1])[i]));
        const uint16_t s1 = models::float_to_half(h((*host[2])[i]) + h((*host[3])[i]));
        const uint16_t want = models::float_to_half(h(s0) + h(s1));
        if (w[i] != want)
            return fmt::format("streams w[{}] = {} but the CPU reference gives {}", i, h(w[i]),
                               h(want));
    }
    return {};
}

}  // namespace

void check_builtin(const std::string& name, const builtin_options& opt,
                   const platform::platform_config& cfg) {
    const std::string where = "--shape";
    const size_t dims = name == "matmul" ? 3 : 1;
    if (opt.shape.size() != dims)
        throw platform::config_error(
            where, "--shape",
            name + " takes " + std::to_string(dims) + " dimension" + (dims > 1 ? "s" : ""),
            name == "matmul" ? "write e.g. --shape 1024x1024x1024 (MxKxN)"
                             : "write e.g. --shape 1048576 (N)");
    // fp16 tensors, each on a 4 KiB boundary (see place()); dimensions are at most 2^31, so
    // the products fit in 64 bits.
    const auto& d = opt.shape;
    const uint64_t elems = name == "matmul"    ? d[0] * d[1] + d[1] * d[2] + d[0] * d[2]
                           : name == "streams" ? 7 * d[0]
                                               : 3 * d[0];
    const long double bytes = (long double)elems * 2 + 7 * 4096.0L;
    if (bytes > (long double)cfg.gm.capacity)
        throw platform::config_error(
            where, "--shape",
            fmt::format("{} needs {:.1f} GiB of global memory; the platform has {:.1f} GiB", name,
                        double(bytes / (1ull << 30)), double(cfg.gm.capacity) / (1ull << 30)),
            "use a smaller shape, or raise gm.capacity with --set");
}

const std::vector<std::string>& builtin_kernel_workloads() {
    static const std::vector<std::string> names = {"matmul", "elementwise", "streams"};
    return names;
}

std::string run_builtin(platform::chip& c, const std::string& name, const builtin_options& opt,
                        std::vector<platform::op_record>& ops) {
    if (name == "matmul") return matmul(c, opt, ops);
    if (name == "elementwise") return elementwise(c, opt, ops);
    if (name == "streams") return streams(c, opt, ops);
    throw std::invalid_argument("unknown built-in workload '" + name + "'");
}

}  // namespace npusim::graph
