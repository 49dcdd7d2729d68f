// Views and copies: ops whose output is the input's bytes. A view (reshape) shares the input's
// device memory; a copy moves the bytes with the system DMA. No kernel runs for either.
#include <fmt/format.h>

#include "sw/ops/library_parts.h"

namespace npusim::ops::lib {

namespace {

using memory::tensor_desc;
using models::dtype;

/// The target shape with one -1 resolved. @throws op_error when it cannot hold the input.
std::vector<int64_t> reshape_to(const tensor_desc& x, std::vector<int64_t> shape) {
    int64_t known = 1;
    int free_dim = -1;
    for (size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == -1 && free_dim < 0) {
            free_dim = int(i);
            continue;
        }
        if (shape[i] < 0)
            throw op_error(
                fmt::format("op 'reshape' attribute 'shape' {} has dimension {}; "
                            "dimensions are >= 0, with at most one -1",
                            dims(shape), shape[i]));
        known *= shape[i];
    }
    const auto n = int64_t(x.elements());
    if (free_dim >= 0 && known > 0 && n % known == 0) shape[size_t(free_dim)] = n / known;
    int64_t total = 1;
    for (int64_t d : shape) total *= d;
    if (total != n || (free_dim >= 0 && shape[size_t(free_dim)] < 0))
        throw op_error(
            fmt::format("op 'reshape' cannot view input 'x' {} ({} elements) as {}; "
                        "the element counts must match",
                        dims(x.shape()), n, dims(shape)));
    return shape;
}

}  // namespace

void register_views(registry& r) {
    op_schema s;
    s.name = "reshape";
    s.doc = "y = x viewed with attribute 'shape' (row-major; one dimension may be -1)";
    const std::vector<dtype> all = {dtype::fp16, dtype::bf16, dtype::fp32, dtype::int32,
                                    dtype::int8};
    s.inputs = {{"x", all}};
    s.outputs = {{"y", all}};
    s.attrs = {{"shape", std::vector<int64_t>{}, true}};
    s.view = true;
    s.infer = [](const std::vector<tensor_desc>& in, const attr_map& attrs) {
        return std::vector<tensor_desc>{
            tensor_desc("y", in[0].type(),
                        reshape_to(in[0], std::get<std::vector<int64_t>>(attrs.at("shape"))))};
    };
    s.reference = [](const std::vector<host_tensor>& in, std::vector<host_tensor>& out,
                     const attr_map&) { out[0].values = in[0].values; };
    r.add_op(s, NPUSIM_HERE);

    op_schema c;
    c.name = "copy";
    c.doc = "y = x, a device-to-device copy on the system DMA (SDMA); no core runs";
    c.inputs = {{"x", all}};
    c.outputs = {{"y", all}};
    c.device_copy = true;
    c.infer = [](const std::vector<tensor_desc>& in, const attr_map&) {
        return std::vector<tensor_desc>{tensor_desc("y", in[0].type(), in[0].shape())};
    };
    c.reference = [](const std::vector<host_tensor>& in, std::vector<host_tensor>& out,
                     const attr_map&) { out[0].values = in[0].values; };
    r.add_op(std::move(c), NPUSIM_HERE);
}

}  // namespace npusim::ops::lib
