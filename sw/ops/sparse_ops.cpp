// Sparse matrix products: sparse_matmul, c = a x b with a stored block-sparse (BSR; CSR is
// 1 x 1 blocks) and b dense, by one of three kernels chosen by a's density: direct (vector
// unit), block (the cube skipping absent blocks) and dense (densify, then the cube matmul).
#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "sw/kernel/matmul_kernel.h"
#include "sw/kernel/sparse_kernels.h"
#include "sw/ops/library_parts.h"

namespace npusim::ops::lib {

namespace {

using memory::tensor_desc;
using models::dtype;

const char* const k_op = "sparse_matmul";

/// The shape of a call, checked: A's size and blocks, and B's columns.
struct sparse_call {
    uint64_t m = 0, k = 0, n = 0, bm = 1, bk = 1, blocks = 0;
    double density() const {
        return m * k == 0 ? 0 : double(blocks) * double(bm) * double(bk) / (double(m) * double(k));
    }
    bool cube_blocks() const { return bm % 16 == 0 && bk % 16 == 0; }
};

sparse_call describe(const std::vector<tensor_desc>& in) {
    const auto& v = in[0].shape();
    const auto& cols = in[1].shape();
    const auto& offs = in[2].shape();
    const auto& b = in[3].shape();
    if (v.size() != 3 || v[1] == 0 || v[2] == 0)
        throw op_error(fmt::format(
            "op '{}' input 'values' has shape {}; expected [blocks, bm, bk] with bm, bk >= 1 "
            "(CSR: [nonzeros, 1, 1])",
            k_op, dims(v)));
    if (cols.size() != 1 || cols[0] != v[0])
        throw op_error(fmt::format(
            "op '{}' input 'columns' has shape {}; expected [{}], one block column per block "
            "of 'values' {}",
            k_op, dims(cols), v[0], dims(v)));
    if (offs.size() != 1 || offs[0] < 1)
        throw op_error(fmt::format(
            "op '{}' input 'offsets' has shape {}; expected [row_blocks + 1] (at least [1])", k_op,
            dims(offs)));
    if (b.size() != 2)
        throw op_error(
            fmt::format("op '{}' input 'b' has shape {}; expected [k, n]", k_op, dims(b)));
    if (in[3].type() != in[0].type())
        throw op_error(fmt::format("op '{}' input 'b' is {} but 'values' is {}; both must be fp16",
                                   k_op, models::to_string(in[3].type()),
                                   models::to_string(in[0].type())));
    sparse_call c;
    c.bm = uint64_t(v[1]);
    c.bk = uint64_t(v[2]);
    c.blocks = uint64_t(v[0]);
    c.m = uint64_t(offs[0] - 1) * c.bm;
    c.k = uint64_t(b[0]);
    c.n = uint64_t(b[1]);
    if (c.k % c.bk != 0)
        throw op_error(fmt::format(
            "op '{}' input 'b' has {} rows, not a multiple of the blocks' {} columns; a's "
            "columns (b's rows) must be whole blocks",
            k_op, c.k, c.bk));
    for (uint64_t d : {c.m, c.k, c.n})
        if (d > UINT32_MAX)
            throw op_error(
                fmt::format("op '{}': a is {}x{} and b has {} columns; each must be "
                            "under 2^32",
                            k_op, c.m, c.k, c.n));
    if (c.m * c.k > 0 && c.blocks > (c.m / c.bm) * (c.k / c.bk))
        throw op_error(fmt::format(
            "op '{}' input 'values' holds {} blocks of {}x{}, more than the {} an a of {}x{} has",
            k_op, c.blocks, c.bm, c.bk, (c.m / c.bm) * (c.k / c.bk), c.m, c.k));
    return c;
}

enum class strategy { direct, block, dense };

/// A tiler's refusal (blocks too large for the buffers) as a planning error naming 'values'.
template <class F>
auto tiled(const op_call& c, F f) {
    try {
        return f();
    } catch (const std::invalid_argument& e) {
        const auto& v = c.inputs[0].shape();
        throw op_error(
            fmt::format("op '{}' input 'values' has blocks of {}x{}: {}; use smaller "
                        "blocks",
                        k_op, v[1], v[2], e.what()));
    }
}

/// Whether the block kernel can tile the call (its blocks fit L0A, L0B and L0C).
bool block_fits(const op_call& c, const platform::platform_config& p);

/// The kernel a call runs: the attribute, or (auto) by a's density against the platform's
/// thresholds: fractal blocks go to the cube, block-sparse below sparse.dense_from; other
/// blocks (CSR) to the vector unit, direct below sparse.direct_below; dense otherwise.
strategy choose(const op_call& call, const platform::platform_config& p) {
    const sparse_call c = describe(call.inputs);
    const std::string s = std::get<std::string>(call.attrs.at("strategy"));
    if (s == "direct" || c.k == 0) return strategy::direct;
    if (s == "block") return strategy::block;
    if (s == "dense") return strategy::dense;
    const double d = c.density();
    if (c.cube_blocks() && block_fits(call, p))
        return d < p.sparse.dense_from || p.sparse.dense_from >= 1 ? strategy::block
                                                                   : strategy::dense;
    if (c.cube_blocks()) return strategy::dense;
    return d < p.sparse.direct_below ? strategy::direct : strategy::dense;
}

kernel::sparse_operand operand(const op_call& c, const op_buffers* b) {
    const sparse_call s = describe(c.inputs);
    kernel::sparse_operand a;
    if (b) {
        a.values = b->inputs[0];
        a.columns = b->inputs[1];
        a.offsets = b->inputs[2];
    }
    a.m = uint32_t(s.m);
    a.k = uint32_t(s.k);
    a.bm = uint32_t(s.bm);
    a.bk = uint32_t(s.bk);
    a.blocks = s.blocks;
    a.op = k_op;
    return a;
}

/// The dense matmul's problem: a (m x k) by b (k x n), fp16 out.
kernel::matmul_problem problem(const sparse_call& s) {
    kernel::matmul_problem p;
    p.m = uint32_t(s.m);
    p.k = uint32_t(s.k);
    p.n = uint32_t(s.n);
    return p;
}

kernel::matmul_tiling block_tiling(const op_call& c, const platform::platform_config& p) {
    const sparse_call s = describe(c.inputs);
    return tiled(c, [&] {
        return kernel::tile_block_sparse(kernel::matmul_chip_of(p), problem(s), uint32_t(s.bm),
                                         uint32_t(s.bk));
    });
}

bool block_fits(const op_call& c, const platform::platform_config& p) {
    try {
        block_tiling(c, p);
        return true;
    } catch (const op_error&) {
        return false;
    }
}

// The plan of the dense strategy: the densify launch's cut and the cube matmul's.
struct dense_plan {
    kernel::densify_tiling densify;
    kernel::matmul_tiling matmul;
};

kernel::partition_kind partition_of(const op_call& c) {
    return std::get<std::string>(c.attrs.at("partition")) == "steal"
               ? kernel::partition_kind::steal
               : kernel::partition_kind::uniform;
}

// A kernel's plan: its cut, blocks and summary, and the op's work for the stats.
tiling_plan make_plan(const op_call& c, std::shared_ptr<const void> data, unsigned blocks,
                      models::kernel_kind kind, std::string summary) {
    const sparse_call s = describe(c.inputs);
    tiling_plan tp;
    tp.block_dim = blocks;
    tp.kind = kind;
    tp.summary = std::move(summary);
    tp.data = std::move(data);
    // The products of the stored elements: the work the op asks for, whatever the kernel does.
    tp.flops = 2.0 * double(s.blocks) * double(s.bm * s.bk) * double(s.n);
    for (const auto& d : c.inputs) tp.bytes += d.storage_bytes();
    tp.bytes += c.outputs[0].storage_bytes();
    return tp;
}

// A kernel of the op that `auto` (or the attribute) picks as `st`.
op_kernel sparse_kernel(const std::string& name, strategy st, int priority) {
    op_kernel k;
    k.op = k_op;
    k.name = name;
    k.dtypes = {dtype::fp16, dtype::int32, dtype::int32, dtype::fp16, dtype::fp16};
    k.priority = priority;
    k.applies = [st](const op_call& c, const platform::platform_config& p) {
        return choose(c, p) == st;
    };
    return k;
}

void register_sparse_matmul(registry& r) {
    op_schema s;
    s.name = k_op;
    s.doc =
        "c = a x b with a [m,k] stored block-sparse (BSR): 'values' [blocks, bm, bk] (CSR: bm = "
        "bk = 1), 'columns' [blocks] the block column of each (rising within a row block), "
        "'offsets' [m/bm + 1] where row block r's blocks start (from 0 to blocks); b [k,n] "
        "dense; fp16, accumulated in fp32. strategy: direct (vector unit), block (the cube, "
        "skipping absent blocks; blocks of whole 16x16 fractals), dense (densify, then the cube "
        "matmul) or auto: by a's density, block below sparse.dense_from for fractal blocks, "
        "direct below sparse.direct_below for others (CSR), else dense. partition: uniform (tasks "
        "in turn) or steal (from a shared queue as cores free up; for uneven rows)";
    s.inputs = {{"values", {dtype::fp16}},
                {"columns", {dtype::int32}, true},
                {"offsets", {dtype::int32}, true},
                {"b", {dtype::fp16}}};
    s.outputs = {{"c", {dtype::fp16}}};
    s.attrs = {{"strategy", std::string("auto"), false},
               {"partition", std::string("uniform"), false}};
    s.infer = [](const std::vector<tensor_desc>& in, const attr_map& attrs) {
        const sparse_call c = describe(in);
        const std::string st = std::get<std::string>(attrs.at("strategy"));
        if (st != "auto" && st != "direct" && st != "block" && st != "dense")
            throw op_error(
                fmt::format("op '{}' attribute 'strategy' is '{}'; use auto, direct, "
                            "block or dense",
                            k_op, st));
        const std::string part = std::get<std::string>(attrs.at("partition"));
        if (part != "uniform" && part != "steal")
            throw op_error(fmt::format(
                "op '{}' attribute 'partition' is '{}'; use uniform or steal (the work of a row "
                "is known only when its indices are read, so there is no cost partition)",
                k_op, part));
        if (st == "block" && !c.cube_blocks())
            throw op_error(fmt::format(
                "op '{}' attribute 'strategy' is block but the blocks are {}x{}; the block kernel "
                "needs blocks of whole 16x16 fractals (e.g. [16,16] or [32,32]); use direct or "
                "dense",
                k_op, c.bm, c.bk));
        return std::vector<tensor_desc>{
            tensor_desc("c", dtype::fp16, {int64_t(c.m), int64_t(c.n)})};
    };
    s.reference = [](const std::vector<host_tensor>& in, std::vector<host_tensor>& out,
                     const attr_map&) {
        std::vector<tensor_desc> descs;
        for (const auto& t : in) descs.push_back(t.desc);
        const sparse_call c = describe(descs);
        const auto& vals = in[0].values;
        const auto& cols = in[1].values;
        const auto& offs = in[2].values;
        const uint64_t rows = c.m / c.bm, col_blocks = c.k / c.bk;
        if (offs[0] != 0 || offs[rows] != double(c.blocks))
            throw op_error(fmt::format(
                "op '{}' input 'offsets' runs from {} to {}; it must run from 0 to {} (the "
                "stored blocks)",
                k_op, offs[0], offs[rows], c.blocks));
        std::fill(out[0].values.begin(), out[0].values.end(), 0.0);
        for (uint64_t rb = 0; rb < rows; ++rb) {
            if (offs[rb + 1] < offs[rb])
                throw op_error(
                    fmt::format("op '{}' input 'offsets' falls from offsets[{}] = {} "
                                "to offsets[{}] = {}; offsets must not fall",
                                k_op, rb, offs[rb], rb + 1, offs[rb + 1]));
            for (uint64_t j = uint64_t(offs[rb]); j < uint64_t(offs[rb + 1]); ++j) {
                const double col = cols[j];
                if (col < 0 || col >= double(col_blocks))
                    throw op_error(fmt::format(
                        "op '{}' input 'columns' has columns[{}] = {}, outside 0..{} (the block "
                        "columns)",
                        k_op, j, col, int64_t(col_blocks) - 1));
                if (j > uint64_t(offs[rb]) && col <= cols[j - 1])
                    throw op_error(fmt::format(
                        "op '{}' input 'columns' has columns[{}] = {} after {} in row block {}; "
                        "the columns of a row block must rise (sorted, no repeats)",
                        k_op, j, col, cols[j - 1], rb));
                for (uint64_t i = 0; i < c.bm; ++i)
                    for (uint64_t kk = 0; kk < c.bk; ++kk) {
                        const double v = vals[(j * c.bm + i) * c.bk + kk];
                        const double* brow = &in[3].values[(uint64_t(col) * c.bk + kk) * c.n];
                        double* crow = &out[0].values[(rb * c.bm + i) * c.n];
                        for (uint64_t x = 0; x < c.n; ++x) crow[x] += v * brow[x];
                    }
            }
        }
    };
    // As matmul: fp32 sums in another order, then one rounding to fp16 on each side.
    s.tolerance = 2e-3;
    r.add_op(std::move(s), NPUSIM_HERE);

    op_kernel direct = sparse_kernel("sparse_matmul_direct", strategy::direct, 0);
    direct.tile = [](const op_call& c, const platform::platform_config& p) {
        const auto a = operand(c, nullptr);
        auto t = std::make_shared<kernel::sparse_tiling>(tiled(c, [&] {
            return kernel::tile_sparse_direct(vector_core(p), vector_units(p), a,
                                              uint32_t(c.inputs[3].shape()[1]));
        }));
        t->partition = partition_of(c);
        return make_plan(
            c, t, t->block_dim, models::kernel_kind::vector,
            fmt::format("{} tasks of a row block x {} columns", t->tasks(a), t->tile_n));
    };
    direct.body = [](kernel::kernel_context& ctx, const op_call& c, const tiling_plan& tp,
                     const op_buffers& b) {
        kernel::sparse_direct_kernel(ctx, operand(c, &b), b.inputs[3], b.outputs[0],
                                     *static_cast<const kernel::sparse_tiling*>(tp.data.get()),
                                     b.queue.get());
    };
    r.add_kernel(std::move(direct), NPUSIM_HERE);

    op_kernel block = sparse_kernel("sparse_matmul_block", strategy::block, 1);
    block.tile = [](const op_call& c, const platform::platform_config& p) {
        auto t = std::make_shared<kernel::matmul_tiling>(block_tiling(c, p));
        t->partition = partition_of(c);
        return make_plan(c, t, t->block_dim, models::kernel_kind::cube,
                         fmt::format("base {}x{}x{}, {} tiles of a row block", t->base_m, t->base_n,
                                     t->base_k, t->tiles()));
    };
    block.body = [](kernel::kernel_context& ctx, const op_call& c, const tiling_plan& tp,
                    const op_buffers& b) {
        kernel::matmul_args args;
        args.b = b.inputs[3];
        args.c = b.outputs[0];
        args.sparse_a = std::make_shared<kernel::sparse_operand>(operand(c, &b));
        kernel::matmul_kernel(ctx, args, *static_cast<const kernel::matmul_tiling*>(tp.data.get()),
                              b.queue.get());
    };
    r.add_kernel(std::move(block), NPUSIM_HERE);

    op_kernel dense = sparse_kernel("sparse_matmul_dense", strategy::dense, 2);
    dense.tile = [](const op_call& c, const platform::platform_config& p) {
        const sparse_call s = describe(c.inputs);
        auto t = std::make_shared<dense_plan>();
        t->densify = tiled(c, [&] {
            return kernel::tile_densify(vector_core(p), vector_units(p), operand(c, nullptr));
        });
        t->matmul = kernel::tile_matmul(kernel::matmul_chip_of(p), problem(s));
        kernel::set_partition(t->matmul, partition_of(c));
        tiling_plan tp =
            make_plan(c, t, t->matmul.block_dim, models::kernel_kind::cube,
                      fmt::format("densify in chunks of {} columns; base {}x{}x{}, {} tiles",
                                  t->densify.chunk_k, t->matmul.base_m, t->matmul.base_n,
                                  t->matmul.base_k, t->matmul.tiles()));
        tp.prologue_blocks = t->densify.block_dim;
        tp.prologue_kind = models::kernel_kind::vector;
        tp.workspace_bytes = s.m * s.k * 2;
        return tp;
    };
    dense.prologue_name = "densify";
    dense.prologue = [](kernel::kernel_context& ctx, const op_call& c, const tiling_plan& tp,
                        const op_buffers& b) {
        kernel::densify_kernel(ctx, operand(c, &b), b.workspace,
                               static_cast<const dense_plan*>(tp.data.get())->densify);
    };
    dense.body = [](kernel::kernel_context& ctx, const op_call&, const tiling_plan& tp,
                    const op_buffers& b) {
        kernel::matmul_args args;
        args.a = b.workspace;
        args.b = b.inputs[3];
        args.c = b.outputs[0];
        kernel::matmul_kernel(ctx, args, static_cast<const dense_plan*>(tp.data.get())->matmul,
                              b.queue.get());
    };
    r.add_kernel(std::move(dense), NPUSIM_HERE);
}

}  // namespace

void register_sparse(registry& r) {
    register_sparse_matmul(r);
}

}  // namespace npusim::ops::lib
