#include "models/core/instruction.h"

#include <cstdio>

namespace npusim::models {

namespace {

std::string fmt_hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%llx", (unsigned long long)v);
    return buf;
}

}  // namespace

std::string mmad_op::describe() const {
    char buf[200];
    std::snprintf(buf, sizeof buf, "mmad.%s%s L0C[0x%llx] L0A[0x%llx] L0B[0x%llx] m=%u k=%u n=%u",
                  hf32 ? "hf32" : to_string(in_type), accumulate ? ".acc" : "",
                  (unsigned long long)c, (unsigned long long)a, (unsigned long long)b, m, k, n);
    std::string s = buf;
    if (bias_table) s += " bias BT[0x" + fmt_hex(bt) + "]";
    return s;
}

std::string describe(const instruction& ins, pipe_id pipe) {
    const std::string where = std::string(" [") + to_string(pipe) + "]";
    if (auto* r = std::get_if<dma_request>(&ins)) return r->describe() + where;
    if (auto* m = std::get_if<mmad_op>(&ins)) return m->describe() + where;
    if (auto* v = std::get_if<vector_op>(&ins)) return v->describe() + where;
    if (auto* f = std::get_if<flag_op>(&ins))
        return std::string(f->set ? "set_flag(" : "wait_flag(") + to_string(f->src) + ", " +
               to_string(f->dst) + ", " + std::to_string(f->id) + ")" + where;
    if (auto* x = std::get_if<cross_flag_op>(&ins))
        return std::string(x->set ? "cross_core_set_flag(" : "cross_core_wait_flag(") +
               std::to_string(x->id) + ")" + where;
    return "barrier" + where;
}

}  // namespace npusim::models
