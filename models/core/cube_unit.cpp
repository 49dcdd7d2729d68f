#include "models/core/cube_unit.h"

#include <cblas.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "models/common/model_fault.h"
#include "models/core/fractal_layout.h"

namespace npusim::models {

namespace {

inline uint16_t load16(const uint8_t* p, uint64_t i) {
    uint16_t v;
    std::memcpy(&v, p + 2 * i, 2);
    return v;
}

}  // namespace

cube_unit::cube_unit(std::string name, const cube_params& p) : m_name(std::move(name)), m_p(p) {}

uint64_t cube_unit::work_cycles(const mmad_op& op) const {
    const fractal& f = m_p.of(op.in_type);
    return m_p.fixed_cycles +
           uint64_t((op.m + f.m - 1) / f.m) * ((op.k + f.k - 1) / f.k) * ((op.n + f.n - 1) / f.n);
}

mmad_footprint cube_unit::footprint(const mmad_op& op) const {
    const fractal& f = m_p.of(op.in_type);
    const uint64_t e = dtype_size(op.in_type);
    const uint64_t mp = round_up(op.m, 16), kp = round_up(op.k, f.k), np = round_up(op.n, 16);
    return {mp * kp * e, kp * np * e, mp * np * 4, np * 4};
}

void cube_unit::execute(const mmad_op& op, uint8_t* l0a, uint64_t l0a_size, uint8_t* l0b,
                        uint64_t l0b_size, uint8_t* l0c, uint64_t l0c_size, bool functional,
                        const uint8_t* bt, uint64_t bt_size) {
    auto fail = [&](uint64_t addr, const std::string& what) {
        throw model_fault(m_name, addr, op.describe(), what);
    };
    if (op.hf32 && op.in_type != dtype::fp32)
        fail(0, std::string("HF32 mode rounds fp32 inputs; these are ") + to_string(op.in_type));
    if (op.in_type == dtype::fp32 && !m_p.fp32_mmad)
        fail(0, "this chip's cube does not multiply fp32 (cube.fp32 is false): use fp16 or bf16");
    if (op.in_type != dtype::fp16 && op.in_type != dtype::bf16 && op.in_type != dtype::int8 &&
        op.in_type != dtype::fp32)
        fail(0, std::string("mmad does not take ") + to_string(op.in_type) +
                    " inputs (use fp16, bf16, int8 or fp32)");
    if (op.m == 0 || op.k == 0 || op.n == 0 || op.m > 4095 || op.k > 4095 || op.n > 4095)
        fail(0, "m, k and n must be in 1..4095");
    const fractal& f = m_p.of(op.in_type);
    const uint64_t mp = round_up(op.m, 16), kp = round_up(op.k, f.k), np = round_up(op.n, 16);
    const mmad_footprint fp = footprint(op);
    auto check = [&](const char* what, uint64_t addr, uint64_t bytes, uint64_t size,
                     uint64_t align) {
        char msg[200];
        if (addr % align != 0) {
            std::snprintf(msg, sizeof msg, "%s operand at 0x%llx is not %llu-byte aligned", what,
                          (unsigned long long)addr, (unsigned long long)align);
            fail(addr, msg);
        }
        if (addr + bytes > size) {
            std::snprintf(msg, sizeof msg,
                          "%s operand [0x%llx, 0x%llx) exceeds the buffer (0x%llx bytes)", what,
                          (unsigned long long)addr, (unsigned long long)(addr + bytes),
                          (unsigned long long)size);
            fail(addr, msg);
        }
    };
    check("L0A", op.a, fp.a, l0a_size, 512);
    check("L0B", op.b, fp.b, l0b_size, 512);
    check("L0C", op.c, fp.c, l0c_size, 64);
    if (op.bias_table) {
        if (!bt) fail(op.bt, "this core has no bias table (BT)");
        check("BT", op.bt, fp.bias, bt_size, 64);
    }
    if (!functional) return;

    const auto t0 = std::chrono::steady_clock::now();
    const uint8_t* a = l0a + op.a;
    const uint8_t* b = l0b + op.b;
    uint8_t* c = l0c + op.c;
    // The whole padded fractals are computed, as the hardware does.
    if (op.in_type == dtype::int8) {
        m_ai.assign(mp * kp, 0);
        m_bi.assign(kp * np, 0);
        m_ci.assign(mp * np, 0);
        for (uint64_t r = 0; r < mp; ++r)
            for (uint64_t k = 0; k < kp; ++k)
                m_ai[r * kp + k] = static_cast<int8_t>(a[zz_index(r, k, kp, f.k)]);
        for (uint64_t k = 0; k < kp; ++k)
            for (uint64_t j = 0; j < np; ++j)
                m_bi[k * np + j] = static_cast<int8_t>(b[zn_index(k, j, np, f.k)]);
        if (op.accumulate)
            for (uint64_t r = 0; r < mp; ++r)
                for (uint64_t j = 0; j < np; ++j)
                    std::memcpy(&m_ci[r * np + j], c + 4 * nz_index(r, j, mp, 16), 4);
        if (op.bias_table)
            for (uint64_t r = 0; r < mp; ++r) std::memcpy(&m_ci[r * np], bt + op.bt, 4 * np);
        for (uint64_t r = 0; r < mp; ++r) {
            int32_t* crow = &m_ci[r * np];
            for (uint64_t k = 0; k < kp; ++k) {
                const int32_t av = m_ai[r * kp + k];
                const int32_t* brow = &m_bi[k * np];
                for (uint64_t j = 0; j < np; ++j) crow[j] += av * brow[j];
            }
        }
        for (uint64_t r = 0; r < mp; ++r)
            for (uint64_t j = 0; j < np; ++j)
                std::memcpy(c + 4 * nz_index(r, j, mp, 16), &m_ci[r * np + j], 4);
    } else {
        // Unpack fractal by fractal: every fractal row is a run of k0 (A, B) or 16 (C) elements.
        const dtype t = op.in_type;
        const uint64_t k0 = f.k, e = dtype_size(t);
        m_a.resize(mp * kp);
        m_b.resize(np * kp);  // B transposed: row j holds column j of B
        m_c.resize(mp * np);
        auto unpack = [t, hf32 = op.hf32](const uint8_t* src, float* dst, uint64_t n) {
            if (t == dtype::fp32) {
                std::memcpy(dst, src, 4 * n);
                if (hf32)
                    for (uint64_t i = 0; i < n; ++i) dst[i] = round_to_hf32(dst[i]);
                return;
            }
            if (t == dtype::fp16) return halves_to_floats(src, dst, n);
            for (uint64_t i = 0; i < n; ++i) dst[i] = bf16_to_float(load16(src, i));
        };
        for (uint64_t r = 0; r < mp; ++r)  // ZZ: fractal (r/16, kb) row r%16
            for (uint64_t kb = 0; kb < kp / k0; ++kb)
                unpack(a + e * zz_index(r, kb * k0, kp, k0), &m_a[r * kp + kb * k0], k0);
        for (uint64_t j = 0; j < np; ++j)  // ZN: column j%16 of fractal (kb, j/16) is contiguous
            for (uint64_t kb = 0; kb < kp / k0; ++kb)
                unpack(b + e * zn_index(kb * k0, j, np, k0), &m_b[j * kp + kb * k0], k0);
        if (op.accumulate)
            for (uint64_t r = 0; r < mp; ++r)
                for (uint64_t jb = 0; jb < np / 16; ++jb)
                    std::memcpy(&m_c[r * np + jb * 16], c + 4 * nz_index(r, jb * 16, mp, 16), 64);
        if (op.bias_table)
            for (uint64_t r = 0; r < mp; ++r) std::memcpy(&m_c[r * np], bt + op.bt, 4 * np);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(mp), int(np), int(kp), 1.0f,
                    m_a.data(), int(kp), m_b.data(), int(kp),
                    op.accumulate || op.bias_table ? 1.0f : 0.0f, m_c.data(), int(np));
        for (uint64_t r = 0; r < mp; ++r)
            for (uint64_t jb = 0; jb < np / 16; ++jb)
                std::memcpy(c + 4 * nz_index(r, jb * 16, mp, 16), &m_c[r * np + jb * 16], 64);
    }
    m_flops += 2.0 * double(mp) * double(np) * double(kp);
    m_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace npusim::models
