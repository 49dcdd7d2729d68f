#include "sw/serving/kv_cache.h"

#include <fmt/format.h>

#include <stdexcept>

namespace npusim::serving {

using runtime::status;

paged_kv_cache::paged_kv_cache(runtime::context& ctx, runtime::stream* s,
                               const kv_cache_config& cfg)
    : m_ctx(ctx), m_stream(s), m_cfg(cfg) {
    auto need = [](uint64_t v, const char* field) {
        if (v == 0)
            throw std::invalid_argument(std::string("kv cache: ") + field +
                                        " is 0; give it a positive value");
    };
    need(cfg.layers, "layers");
    need(cfg.kv_heads, "kv_heads");
    need(cfg.head_dim, "head_dim");
    need(cfg.dtype_bytes, "dtype_bytes");
    need(cfg.block_tokens, "block_tokens");
    need(cfg.max_blocks, "max_blocks");
    m_counts.max_blocks = cfg.max_blocks;
}

paged_kv_cache::~paged_kv_cache() {
    (void)m_ctx.synchronize(m_stream);
    for (auto& [id, s] : m_seqs) {
        for (uint64_t b : s.blocks) (void)m_ctx.free(b);
        for (void* h : s.host) (void)m_ctx.free_host(h);
    }
    for (auto& [e, bufs] : m_host_pending) {
        for (void* h : bufs) (void)m_ctx.free_host(h);
        (void)m_ctx.destroy_event(e);
    }
}

const paged_kv_cache::sequence& paged_kv_cache::at(uint64_t id) const {
    auto it = m_seqs.find(id);
    if (it == m_seqs.end()) throw std::out_of_range(fmt::format("kv cache: no sequence {}", id));
    return it->second;
}

status paged_kv_cache::fail(status code, std::string why) {
    m_error = std::move(why);
    return code;
}

void paged_kv_cache::check(status st, const char* call) {
    if (st != status::success)
        throw std::runtime_error(std::string("kv cache: ") + call +
                                 " failed: " + m_ctx.get_last_error().message);
}

uint64_t paged_kv_cache::slot(uint64_t id, unsigned token, unsigned layer, bool value,
                              unsigned kv_head) const {
    const sequence& s = at(id);
    if (token >= s.tokens || layer >= m_cfg.layers || kv_head >= m_cfg.kv_heads)
        throw std::out_of_range(fmt::format(
            "kv cache: sequence {} has {} tokens, {} layers, {} KV heads; asked for token {}, "
            "layer {}, head {}",
            id, s.tokens, m_cfg.layers, m_cfg.kv_heads, token, layer, kv_head));
    const uint64_t bt = m_cfg.block_tokens;
    const uint64_t row =
        ((uint64_t(layer) * 2 + (value ? 1 : 0)) * m_cfg.kv_heads + kv_head) * bt + token % bt;
    return s.blocks[token / bt] + row * m_cfg.head_dim * m_cfg.dtype_bytes;
}

kv_stats paged_kv_cache::stats() const {
    kv_stats out = m_counts;
    out.blocks_in_use = m_in_use;
    out.slots = m_in_use * m_cfg.block_tokens;
    for (const auto& [id, s] : m_seqs)
        if (s.state == seq_state::running) out.tokens += s.tokens;
    return out;
}

void paged_kv_cache::free_blocks(sequence& s) {
    for (uint64_t b : s.blocks) check(m_ctx.free(b), "free");
    m_in_use -= s.blocks.size();
    s.blocks.clear();
}

void paged_kv_cache::collect_host() {
    for (size_t i = 0; i < m_host_pending.size();) {
        bool done = false;
        check(m_ctx.query_event(m_host_pending[i].first, done), "query_event");
        if (!done) {
            ++i;
            continue;
        }
        for (void* h : m_host_pending[i].second) check(m_ctx.free_host(h), "free_host");
        check(m_ctx.destroy_event(m_host_pending[i].first), "destroy_event");
        m_host_pending.erase(m_host_pending.begin() + long(i));
    }
}

void paged_kv_cache::free_host_later(std::vector<void*> bufs) {
    runtime::event* e = nullptr;
    check(m_ctx.create_event(e, "kv host copies"), "create_event");
    check(m_ctx.record_event(e, m_stream), "record_event");
    m_host_pending.emplace_back(e, std::move(bufs));
}

void paged_kv_cache::preempt(uint64_t victim) {
    sequence& v = m_seqs.at(victim);
    ++m_counts.preemptions;
    if (m_cfg.mode == preemption::recompute) {
        m_counts.recomputed_tokens += v.tokens;
        free_blocks(v);
        v.tokens = 0;
        v.state = seq_state::preempted;
        return;
    }
    const uint64_t bytes = m_cfg.block_bytes();
    for (uint64_t b : v.blocks) {
        void* h = nullptr;
        check(m_ctx.malloc_host(h, int64_t(bytes)), "malloc_host");
        check(m_ctx.memcpy_to_host(m_stream, h, b, bytes), "memcpy_to_host");
        v.host.push_back(h);
    }
    m_counts.swapped_out += v.blocks.size();
    free_blocks(v);  // reused on this stream only after the copies, which are queued first
    v.state = seq_state::swapped;
}

status paged_kv_cache::take_blocks(uint64_t id, uint64_t n, std::vector<uint64_t>& preempted) {
    while (m_in_use + n > m_cfg.max_blocks) {
        uint64_t victim = 0;
        bool found = false;
        for (const auto& [other, s] : m_seqs)
            if (other != id && s.state == seq_state::running && !s.blocks.empty() &&
                (!found || s.admitted > m_seqs.at(victim).admitted)) {
                victim = other;
                found = true;
            }
        if (!found) break;  // checked by the caller: cannot happen when it fits alone
        preempt(victim);
        preempted.push_back(victim);
    }
    sequence& s = m_seqs.at(id);
    for (uint64_t i = 0; i < n; ++i) {
        uint64_t addr = 0;
        if (m_ctx.malloc(addr, int64_t(m_cfg.block_bytes()), m_stream, "kv block") !=
            status::success)
            return fail(status::device_oom,
                        "kv cache: device memory ran out before the cache's max_blocks (" +
                            std::to_string(m_cfg.max_blocks) +
                            "); lower max_blocks to what the device holds: " +
                            m_ctx.get_last_error().message);
        s.blocks.push_back(addr);
        ++m_in_use;
    }
    m_counts.peak_blocks = std::max(m_counts.peak_blocks, m_in_use);
    return status::success;
}

status paged_kv_cache::grow(uint64_t id, unsigned tokens, std::vector<uint64_t>& preempted) {
    collect_host();
    auto it = m_seqs.find(id);
    if (it != m_seqs.end() && it->second.state == seq_state::swapped)
        return fail(status::invalid_argument,
                    fmt::format("kv cache: sequence {} is swapped out; call swap_in first", id));
    const uint64_t have = it == m_seqs.end() ? 0 : it->second.tokens;
    const uint64_t bt = m_cfg.block_tokens;
    const uint64_t blocks = (have + tokens + bt - 1) / bt;
    if (blocks > m_cfg.max_blocks)
        return fail(status::device_oom,
                    fmt::format("kv cache: sequence {} needs {} blocks of {} tokens for {} tokens, "
                                "but the cache holds {}; raise max_blocks or cap the sequence "
                                "length",
                                id, blocks, bt, have + tokens, m_cfg.max_blocks));
    if (it == m_seqs.end()) it = m_seqs.emplace(id, sequence{}).first;
    sequence& s = it->second;
    if (s.state == seq_state::preempted) s.state = seq_state::running;
    if (s.blocks.empty()) s.admitted = m_next_admit++;
    const status st = take_blocks(id, blocks - s.blocks.size(), preempted);
    if (st != status::success) return st;
    s.tokens = unsigned(have + tokens);
    return status::success;
}

status paged_kv_cache::swap_in(uint64_t id, std::vector<uint64_t>& preempted) {
    collect_host();
    auto it = m_seqs.find(id);
    if (it == m_seqs.end() || it->second.state != seq_state::swapped)
        return fail(status::invalid_argument,
                    fmt::format("kv cache: sequence {} is not swapped out", id));
    sequence& s = it->second;
    const uint64_t n = s.host.size();
    s.admitted = m_next_admit++;
    s.state = seq_state::running;
    const status st = take_blocks(id, n, preempted);
    if (st != status::success) return st;
    const uint64_t bytes = m_cfg.block_bytes();
    for (uint64_t i = 0; i < n; ++i)
        check(m_ctx.memcpy_to_device(m_stream, s.blocks[i], s.host[i], bytes), "memcpy_to_device");
    free_host_later(std::move(s.host));
    s.host.clear();
    m_counts.swapped_in += n;
    return status::success;
}

status paged_kv_cache::release(uint64_t id) {
    collect_host();
    auto it = m_seqs.find(id);
    if (it == m_seqs.end())
        return fail(status::invalid_argument, fmt::format("kv cache: no sequence {}", id));
    free_blocks(it->second);
    if (!it->second.host.empty())  // the swap-out copies may still be queued
        free_host_later(std::move(it->second.host));
    m_seqs.erase(it);
    return status::success;
}

}  // namespace npusim::serving
