#include "sw/kernel/kernel_api.h"

#include <algorithm>
#include <cstdio>

#include "models/common/model_fault.h"
#include "models/core/fractal_layout.h"

namespace npusim::kernel {

using models::mem_space;
using models::model_fault;

models::mem_space space_of(position p) {
    switch (p) {
        case position::A1:
        case position::B1:
            return mem_space::l1;
        case position::A2:
            return mem_space::l0a;
        case position::B2:
            return mem_space::l0b;
        case position::CO1:
            return mem_space::l0c;
        case position::C1:
            return mem_space::l1;
        case position::C2:
            return mem_space::bt;
        case position::C2PIPE2GM:
            return mem_space::fb;
        default:
            return mem_space::ub;
    }
}

const char* to_string(position p) {
    static const char* names[] = {"A1",     "B1",      "A2", "B2", "CO1",      "VECIN",
                                  "VECOUT", "VECCALC", "C1", "C2", "C2PIPE2GM"};
    return names[size_t(p)];
}

namespace {

/// The core's on-chip buffers by mem_space; a buffer the core lacks has size 0.
std::vector<memory::buffer_manager::buffer> buffers_of(models::ai_core& core) {
    std::vector<memory::buffer_manager::buffer> out;
    for (size_t s = 0; s < size_t(mem_space::count); ++s) {
        auto* buf = core.buffer(mem_space(s));
        out.push_back({models::to_string(mem_space(s)), buf ? buf->size() : 0,
                       core.params().buffer(mem_space(s)).alignment});
    }
    return out;
}

}  // namespace

kernel_context::kernel_context(models::ai_core& core, unsigned block, unsigned block_dim)
    : m_core(core),
      m_block(block),
      m_block_dim(block_dim),
      m_buffers(buffers_of(core)),
      m_event_ids(11 * 11, 0) {}

uint64_t kernel_context::alloc_bytes(position pos, uint64_t bytes) {
    return alloc_queue_bytes(pos, 1, bytes).front();
}

std::vector<uint64_t> kernel_context::alloc_queue_bytes(position pos, unsigned count,
                                                        uint64_t bytes) {
    try {
        return m_buffers.alloc_queue(size_t(space_of(pos)), count, bytes, to_string(pos));
    } catch (const std::exception& e) {  // buffer_error or a zero size
        throw model_fault(m_core.name(), 0, "alloc", e.what());
    }
}

uint64_t kernel_context::free_bytes(position pos) const {
    return m_buffers.free_bytes(size_t(space_of(pos)));
}

uint32_t kernel_context::alloc_event_id(pipe_id src, pipe_id dst) {
    uint32_t& next = m_event_ids[size_t(src) * 11 + size_t(dst)];
    if (next >= params().event_ids)
        throw model_fault(m_core.name(), 0, "alloc_event_id",
                          std::string("no event id left for ") + models::to_string(src) + "->" +
                              models::to_string(dst) + " (the chip has " +
                              std::to_string(params().event_ids) + " per pipe pair)");
    return next++;
}

pipe_id kernel_context::producer_of(position p) const {
    switch (p) {
        case position::A1:
        case position::B1:
        case position::C1:
            return pipe_id::MTE2;
        case position::A2:
        case position::B2:
        case position::C2:
            return pipe_id::MTE1;
        case position::CO1:
            return pipe_id::M;
        case position::C2PIPE2GM:
            return pipe_id::FIX;
        case position::VECIN:
            return pipe_id::MTE2;
        default:
            return pipe_id::V;
    }
}

pipe_id kernel_context::consumer_of(position p) const {
    switch (p) {
        case position::A1:
        case position::B1:
        case position::C1:
            return pipe_id::MTE1;
        case position::A2:
        case position::B2:
        case position::C2:
            return pipe_id::M;
        case position::CO1:
            return core_type() == models::core_kind::aic ? pipe_id::FIX : pipe_id::V;
        case position::C2PIPE2GM:
            return pipe_id::FIX;
        case position::VECIN:
            return pipe_id::V;
        default:
            return pipe_id::MTE3;
    }
}

models::dma_request kernel_context::request(mem_space s, uint64_t src, mem_space d,
                                            uint64_t dst) const {
    models::dma_request r;
    r.src_space = s;
    r.src = src;
    r.dst_space = d;
    r.dst = dst;
    return r;
}

void kernel_context::issue_dma(const models::dma_request& r) {
    const pipe_id p = models::engine_for_path(r.src_space, r.dst_space);
    if (p == pipe_id::S)
        throw model_fault(m_core.name(), r.src, r.describe(),
                          std::string("no engine moves ") + models::to_string(r.src_space) + "->" +
                              models::to_string(r.dst_space));
    m_core.issue(p, r);
}

void kernel_context::fill_zero_bytes(position pos, uint64_t offset, uint64_t bytes) {
    if (space_of(pos) != mem_space::l1)
        throw model_fault(m_core.name(), offset, "fill_zero",
                          std::string("fill_zero: operand dst is at ") + to_string(pos) +
                              "; it must be in L1 (A1/B1/C1)");
    models::dma_request r = request(mem_space::gm, 0, mem_space::l1, offset);
    r.conv = models::layout_conv::fill;
    r.row_bytes = bytes;
    issue_dma(r);
}

void kernel_context::copy_bytes(mem_space s, uint64_t src, mem_space d, uint64_t dst,
                                uint64_t bytes) {
    models::dma_request r = request(s, src, d, dst);
    r.row_bytes = bytes;
    issue_dma(r);
}

void kernel_context::fractal_load(models::layout_conv conv, position want, position dst_pos,
                                  uint64_t dst, position src_pos, uint64_t src, uint32_t nz_rows,
                                  uint32_t row0, uint32_t col0, uint32_t rows, uint32_t cols,
                                  dtype t, bool transpose) {
    const char* call = conv == models::layout_conv::nz2zz ? "load_a" : "load_b";
    check_position(call, "dst", dst_pos, want);
    if (space_of(src_pos) != mem_space::l1)
        throw model_fault(m_core.name(), src, call,
                          std::string(call) + ": operand src is at " + to_string(src_pos) +
                              "; it must be in L1 (A1/B1)");
    models::dma_request r = request(mem_space::l1, src, space_of(dst_pos), dst);
    r.conv = conv;
    r.rows = rows;
    r.row_bytes = uint64_t(cols) * models::dtype_size(t);
    r.src_type = r.dst_type = t;
    r.nz_rows = nz_rows;
    r.nz_row0 = row0;
    r.nz_col0 = col0;
    r.transpose = transpose;
    m_core.issue(pipe_id::MTE1, r);
}

void kernel_context::check_position(const char* call, const char* operand, position got,
                                    position want) const {
    if (got != want)
        throw model_fault(m_core.name(), 0, call,
                          std::string(call) + ": operand " + operand + " is at " + to_string(got) +
                              " (" + models::to_string(space_of(got)) + "); it must be at " +
                              to_string(want) + " (" + models::to_string(space_of(want)) + ")");
}

void kernel_context::check_vector_operand(const char* call, const char* operand,
                                          position got) const {
    if (space_of(got) != mem_space::ub)
        throw model_fault(m_core.name(), 0, call,
                          std::string(call) + ": operand " + operand + " is at " + to_string(got) +
                              " (" + models::to_string(space_of(got)) +
                              "); vector operands must be in UB (VECIN/VECOUT/VECCALC)");
}

void kernel_context::pipe_barrier(pipe_id p) {
    if (p == pipe_id::ALL) {
        m_core.barrier_all();
        return;
    }
    if (p == pipe_id::S)
        throw model_fault(m_core.name(), 0, "pipe_barrier(S)",
                          "PipeBarrier<PIPE_S> is a hardware error");
    m_core.issue(p, models::barrier_op{});
}

void kernel_context::vector_run(models::vec_opcode op, dtype t, dtype dt, position dp, uint64_t d,
                                position ap, uint64_t a, position bp, uint64_t b, uint64_t n,
                                float scalar, bool b_block, bool b_offsets,
                                models::round_mode round) {
    const char* call = models::to_string(op);
    check_vector_operand(call, "dst", dp);
    check_vector_operand(call, "src0", ap);
    check_vector_operand(call, "src1", bp);
    // in bits: an int4 side packs two elements a byte
    const unsigned sbits = models::dtype_bits(t), dbits = models::dtype_bits(dt);
    const uint64_t per_repeat = 256 * 8 / std::max(sbits, dbits);
    models::vector_op v;
    v.op = op;
    v.type = t;
    v.dst_type = dt;
    v.scalar = scalar;
    v.round = round;
    v.src0_rep_stride = v.src1_rep_stride = static_cast<uint16_t>(per_repeat * sbits / 256);
    if (b_block) v.src1_blk_stride = v.src1_rep_stride = 0;
    v.dst_rep_stride = static_cast<uint16_t>(per_repeat * dbits / 256);
    uint64_t done = 0;
    while (done < n) {
        const uint64_t full = (n - done) / per_repeat;
        v.dst = d + done * dbits / 8;  // done is a whole number of repeats: whole bytes
        v.src0 = b_offsets ? a : a + done * sbits / 8;  // a gather's offsets are from a
        v.src1 = b_block ? b : b + done * (b_offsets ? 32 : sbits) / 8;
        if (full > 0) {
            v.repeats = static_cast<uint32_t>(std::min<uint64_t>(full, 255));
            v.mask_lo = v.mask_hi = ~0ull;
        } else {  // the tail: one masked repeat
            const uint64_t tail = n - done;
            v.repeats = 1;
            v.mask_lo = tail >= 64 ? ~0ull : ((1ull << tail) - 1);
            v.mask_hi = tail <= 64 ? 0 : (tail >= 128 ? ~0ull : ((1ull << (tail - 64)) - 1));
        }
        m_core.issue(pipe_id::V, v);
        done += full > 0 ? uint64_t(v.repeats) * per_repeat : n - done;
    }
}

void kernel_context::reduce_run(models::vec_opcode op, dtype t, position dp, uint64_t d,
                                position ap, uint64_t a, uint64_t n) {
    const char* call = models::to_string(op);
    check_vector_operand(call, "dst", dp);
    check_vector_operand(call, "src0", ap);
    const models::vec_form f = models::form_of(op);
    const unsigned size = models::dtype_size(t);
    const uint64_t per_repeat = 256 / size;
    const uint64_t group = f == models::vec_form::reduce         ? per_repeat
                           : f == models::vec_form::group_reduce ? 32 / size
                                                                 : 2;
    if (f != models::vec_form::reduce && f != models::vec_form::group_reduce &&
        f != models::vec_form::pair_reduce)
        throw model_fault(m_core.name(), 0, call,
                          std::string("reduce: ") + call + " is not a reduction");
    if (n % group != 0)
        throw model_fault(m_core.name(), 0, call,
                          std::string(call) + ": " + std::to_string(n) +
                              " elements is not a multiple of its run of " + std::to_string(group));
    models::vector_op v;
    v.op = op;
    v.type = v.dst_type = t;
    for (uint64_t done = 0; done < n;) {
        const uint64_t full = (n - done) / per_repeat;
        const uint64_t take = full > 0 ? std::min<uint64_t>(full, 255) * per_repeat : n - done;
        v.repeats = full > 0 ? static_cast<uint32_t>(take / per_repeat) : 1;
        if (full > 0) {
            v.mask_lo = v.mask_hi = ~0ull;
        } else {
            v.mask_lo = take >= 64 ? ~0ull : ((1ull << take) - 1);
            v.mask_hi = take <= 64 ? 0 : (take >= 128 ? ~0ull : ((1ull << (take - 64)) - 1));
        }
        v.src0 = a + done * size;
        v.dst = d + done / group * size;
        m_core.issue(pipe_id::V, v);
        done += take;
    }
}

void kernel_context::brcb_run(dtype t, position dp, uint64_t d, position sp, uint64_t s,
                              uint64_t count) {
    check_vector_operand("brcb", "dst", dp);
    check_vector_operand("brcb", "src0", sp);
    models::vector_op v;
    v.op = models::vec_opcode::brcb;
    v.type = v.dst_type = t;
    v.dst_blk_stride = 1;
    v.dst_rep_stride = 8;
    for (uint64_t done = 0; done < count;) {
        const uint64_t reps = std::min<uint64_t>(255, (count - done + 7) / 8);
        v.repeats = static_cast<uint32_t>(reps);
        v.src0 = s + done * models::dtype_size(t);
        v.dst = d + done * 32;
        m_core.issue(pipe_id::V, v);
        done += reps * 8;
    }
}

}  // namespace npusim::kernel
