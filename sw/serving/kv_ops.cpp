#include "sw/serving/kv_ops.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

#include "sw/ops/registry.h"
#include "sw/serving/attention.h"

namespace npusim::serving {

namespace {

void spread(kv_copy_plan& p, unsigned cores) {
    for (const auto& c : p.copies) p.max_bytes = std::max(p.max_bytes, c.bytes);
    p.block_dim = unsigned(std::clamp<uint64_t>(p.copies.size(), 1, std::max(cores, 1u)));
}

}  // namespace

namespace {

/// Row (i, t, h) of K is at k + ((i * tokens + t) * stride + h) rows; V likewise from v.
kv_copy_plan append_rows(const paged_kv_cache& kv, unsigned layer,
                         const std::vector<uint64_t>& seqs, unsigned tokens, uint64_t k,
                         uint64_t v_src, uint64_t stride, unsigned cores) {
    const kv_cache_config& c = kv.config();
    const uint64_t row_bytes = uint64_t(c.head_dim) * c.dtype_bytes;
    kv_copy_plan p;
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
                    const uint64_t row = (i * tokens + t) * stride + h;
                    p.copies.push_back({(v ? v_src : k) + row * row_bytes,
                                        kv.slot(id, token, layer, v == 1, h), row_bytes});
                }
        }
    }
    spread(p, cores);
    return p;
}

}  // namespace

kv_copy_plan plan_kv_append(const paged_kv_cache& kv, unsigned layer,
                            const std::vector<uint64_t>& seqs, unsigned tokens, uint64_t src,
                            unsigned cores) {
    const kv_cache_config& c = kv.config();
    const uint64_t row_bytes = uint64_t(c.head_dim) * c.dtype_bytes;
    return append_rows(kv, layer, seqs, tokens, src, src + c.kv_heads * row_bytes,
                       2ull * c.kv_heads, cores);
}

kv_copy_plan plan_kv_append(const paged_kv_cache& kv, unsigned layer,
                            const std::vector<uint64_t>& seqs, unsigned tokens, uint64_t k_src,
                            uint64_t v_src, unsigned cores) {
    return append_rows(kv, layer, seqs, tokens, k_src, v_src, kv.config().kv_heads, cores);
}

kv_copy_plan plan_kv_gather(const paged_kv_cache& kv, uint64_t seq, unsigned layer, uint64_t k_dst,
                            uint64_t v_dst, unsigned cores) {
    return plan_kv_gather_batch(kv, {seq}, 1, layer, k_dst, v_dst, kv.tokens(seq), 0, cores);
}

void pad_kv_append(kv_copy_plan& p, const kv_cache_config& c, unsigned first, unsigned rows,
                   uint64_t k_src, uint64_t v_src, uint64_t null_rows, unsigned cores) {
    const uint64_t row_bytes = uint64_t(c.head_dim) * c.dtype_bytes;
    for (unsigned r = first; r < rows; ++r)
        for (unsigned v = 0; v < 2; ++v)
            for (unsigned h = 0; h < c.kv_heads; ++h)
                p.copies.push_back(
                    {(v ? v_src : k_src) + (uint64_t(r) * c.kv_heads + h) * row_bytes,
                     null_rows + (v * c.kv_heads + h) * row_bytes, row_bytes});
    spread(p, cores);
}

kv_copy_plan plan_kv_gather_batch(const paged_kv_cache& kv, const std::vector<uint64_t>& seqs,
                                  unsigned rows, unsigned layer, uint64_t k_dst, uint64_t v_dst,
                                  uint64_t padded, uint64_t zeros, unsigned cores) {
    const kv_cache_config& c = kv.config();
    const uint64_t row_bytes = uint64_t(c.head_dim) * c.dtype_bytes;
    // At most 8 KiB per copy, so that two fit the smallest UB whatever the block size.
    const uint64_t chunk =
        std::max<uint64_t>(1, std::min<uint64_t>(c.block_tokens, 8192 / row_bytes));
    kv_copy_plan p;
    for (size_t i = 0; i < std::max<size_t>(rows, seqs.size()); ++i) {
        const uint64_t n = i < seqs.size() ? kv.tokens(seqs[i]) : 0;
        if (n > padded)
            throw std::invalid_argument(
                fmt::format("kv_gather: sequence {} holds {} tokens, more than the {} gathered",
                            seqs[i], n, padded));
        for (unsigned v = 0; v < 2; ++v)
            for (unsigned h = 0; h < c.kv_heads; ++h) {
                // Copies of at most `chunk` rows, never across a block (a contiguous run).
                for (uint64_t t0 = 0; t0 < n; t0 += chunk) {
                    const uint64_t block_end = (t0 / c.block_tokens + 1) * c.block_tokens;
                    const uint64_t rows = std::min({chunk, n - t0, block_end - t0});
                    const uint64_t dst_row = (i * c.kv_heads + h) * padded + t0;
                    p.copies.push_back({kv.slot(seqs[i], unsigned(t0), layer, v == 1, h),
                                        (v ? v_dst : k_dst) + dst_row * row_bytes,
                                        rows * row_bytes});
                }
                // Padding rows from `zeros` (it holds at least `chunk` rows).
                for (uint64_t t0 = n; zeros && t0 < padded; t0 += chunk) {
                    const uint64_t rows = std::min<uint64_t>(chunk, padded - t0);
                    const uint64_t dst_row = (i * c.kv_heads + h) * padded + t0;
                    p.copies.push_back(
                        {zeros, (v ? v_dst : k_dst) + dst_row * row_bytes, rows * row_bytes});
                }
            }
    }
    spread(p, cores);
    return p;
}

kernel::kernel_fn kv_copy_kernel(kv_copy_plan plan) {
    auto p = std::make_shared<const kv_copy_plan>(std::move(plan));
    return [p](kernel::kernel_context& c) {
        using kernel::global_tensor;
        using models::pipe_id;
        const uint64_t n = p->copies.size(), dim = c.block_num(), me = c.block_idx();
        const uint64_t first = n * me / dim, last = n * (me + 1) / dim;
        auto buf = c.alloc_queue<uint8_t>(kernel::position::VECIN, 2, p->max_bytes);
        for (uint64_t r = first; r < last; ++r) {
            const kv_copy& k = p->copies[r];
            const unsigned b = unsigned((r - first) % 2);
            // The buffer's previous write (two copies back) must have left before it is refilled.
            if (r - first >= 2) c.wait_flag(pipe_id::MTE3, pipe_id::MTE2, b);
            c.data_copy(buf[b], global_tensor<uint8_t>{k.src, k.bytes}, k.bytes);
            c.set_flag(pipe_id::MTE2, pipe_id::MTE3, b);
            c.wait_flag(pipe_id::MTE2, pipe_id::MTE3, b);
            c.data_copy(global_tensor<uint8_t>{k.dst, k.bytes}, buf[b], k.bytes);
            c.set_flag(pipe_id::MTE3, pipe_id::MTE2, b);
        }
        // Leave no flag set: consume the last one or two MTE3 -> MTE2 signals.
        for (uint64_t r = std::max(first, last >= 2 ? last - 2 : first); r < last; ++r)
            c.wait_flag(pipe_id::MTE3, pipe_id::MTE2, unsigned((r - first) % 2));
    };
}

runtime::status paged_attention(runtime::context& ctx, runtime::stream* s, const paged_kv_cache& kv,
                                uint64_t seq, unsigned layer, uint64_t q, uint64_t out,
                                const platform::platform_config& p) {
    using runtime::status;
    const unsigned n = kv.tokens(seq);
    if (n == 0)
        throw std::invalid_argument(
            fmt::format("paged_attention: sequence {} has no tokens; grow it first", seq));
    // One sequence, no padding: a mask of zeros.
    uint64_t mask = 0;
    status st = ctx.malloc(mask, int64_t(n) * 2, s, "attention scratch");
    if (st == status::success) st = ctx.memset(s, mask, 0, uint64_t(n) * 2);
    direct_runner run;
    if (st == status::success)
        st = decode_attention(ctx, s, kv, {seq}, layer, 1, kv.config().kv_heads, q, mask, 0, out, n,
                              p, run);
    if (mask) (void)ctx.free(mask);  // reused only after, on s
    return st;
}

}  // namespace npusim::serving
