#include "sw/serving/kv_ops.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace npusim::serving {

kv_append_plan plan_kv_append(const paged_kv_cache& kv, unsigned layer,
                              const std::vector<uint64_t>& seqs, unsigned tokens, uint64_t src,
                              unsigned cores) {
    const kv_cache_config& c = kv.config();
    kv_append_plan p;
    p.row_bytes = uint64_t(c.head_dim) * c.dtype_bytes;
    for (size_t i = 0; i < seqs.size(); ++i) {
        const uint64_t id = seqs[i];
        if (!kv.has(id) || kv.state(id) != seq_state::running || kv.tokens(id) < tokens)
            throw std::invalid_argument(fmt::format(
                "kv_append: sequence {} must be running in the cache with at least {} tokens; "
                "grow it first",
                id, tokens));
        for (unsigned t = 0; t < tokens; ++t) {
            const unsigned token = kv.tokens(id) - tokens + t;
            for (unsigned v = 0; v < 2; ++v)
                for (unsigned h = 0; h < c.kv_heads; ++h) {
                    const uint64_t row = ((i * tokens + t) * 2 + v) * c.kv_heads + h;
                    p.rows.emplace_back(src + row * p.row_bytes,
                                        kv.slot(id, token, layer, v == 1, h));
                }
        }
    }
    p.block_dim = unsigned(std::clamp<uint64_t>(p.rows.size(), 1, std::max(cores, 1u)));
    return p;
}

kernel::kernel_fn kv_append_kernel(kv_append_plan plan) {
    auto p = std::make_shared<const kv_append_plan>(std::move(plan));
    return [p](kernel::kernel_context& c) {
        using kernel::global_tensor;
        using models::pipe_id;
        const uint64_t n = p->rows.size(), dim = c.block_num(), me = c.block_idx();
        const uint64_t first = n * me / dim, last = n * (me + 1) / dim;
        auto buf = c.alloc_queue<uint8_t>(kernel::position::VECIN, 2, p->row_bytes);
        for (uint64_t r = first; r < last; ++r) {
            const unsigned b = unsigned((r - first) % 2);
            // The buffer's previous write (two rows back) must have left before it is refilled.
            if (r - first >= 2) c.wait_flag(pipe_id::MTE3, pipe_id::MTE2, b);
            c.data_copy(buf[b], global_tensor<uint8_t>{p->rows[r].first, p->row_bytes},
                        p->row_bytes);
            c.set_flag(pipe_id::MTE2, pipe_id::MTE3, b);
            c.wait_flag(pipe_id::MTE2, pipe_id::MTE3, b);
            c.data_copy(global_tensor<uint8_t>{p->rows[r].second, p->row_bytes}, buf[b],
                        p->row_bytes);
            c.set_flag(pipe_id::MTE3, pipe_id::MTE2, b);
        }
        // Leave no flag set: consume the last one or two MTE3 -> MTE2 signals.
        for (uint64_t r = std::max(first, last >= 2 ? last - 2 : first); r < last; ++r)
            c.wait_flag(pipe_id::MTE3, pipe_id::MTE2, unsigned((r - first) % 2));
    };
}

}  // namespace npusim::serving
