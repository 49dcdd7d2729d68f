#pragma once
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "models/core/dtype.h"
#include "sw/memory/tensor.h"

namespace npusim::ops {

/// @brief A misuse of an op: unknown name, wrong dtype or shape, bad attribute. The text names
/// the op and the argument, and says what was expected.
struct op_error : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

/// @brief The value of an op attribute.
using attr_value = std::variant<int64_t, double, bool, std::string, std::vector<int64_t>>;
using attr_map = std::map<std::string, attr_value>;

/// @brief A typed attribute; without a default it is required.
struct attr_spec {
    std::string name;
    attr_value type_and_default;  ///< its type, and the default if `required` is false
    bool required = false;
};

/// @brief An input or output and the dtypes it accepts.
struct tensor_spec {
    std::string name;
    std::vector<models::dtype> dtypes;
    /// An input whose values decide addresses or control flow (gather's indices): timing-only
    /// mode keeps its bytes, so the timing matches functional mode exactly.
    bool control = false;
    /// Every element must be a nonzero finite number (a quantization scale): checked at planning
    /// when the tensor's init fixes its values, and against the reference under --check.
    bool nonzero = false;
};

/// @brief A tensor on the host, for CPU references: its description and its values.
struct host_tensor {
    memory::tensor_desc desc;
    std::vector<double> values;
};

/// @brief What an op is: its inputs, outputs and attributes, and how the output shapes follow
/// from the inputs.
struct op_schema {
    std::string name, doc;
    std::vector<tensor_spec> inputs, outputs;
    std::vector<attr_spec> attrs;
    /// @brief Output descriptors from the (checked) inputs and attributes. Throws op_error
    /// naming the argument when the shapes do not fit together.
    std::function<std::vector<memory::tensor_desc>(const std::vector<memory::tensor_desc>&,
                                                   const attr_map&)>
        infer;
    /// @brief The independent CPU reference: outputs (already sized) from inputs.
    std::function<void(const std::vector<host_tensor>&, std::vector<host_tensor>&, const attr_map&)>
        reference;
    /// @brief Largest accepted |device - reference| / (|reference| + 1), after the reference is
    /// rounded to the output dtype.
    double tolerance = 0;
    /// @brief Tolerances for particular output dtypes, overriding `tolerance` (bf16, computed
    /// in fp32 and rounded twice).
    std::map<models::dtype, double> dtype_tolerance;
    double tolerance_for(models::dtype out) const {
        const auto it = dtype_tolerance.find(out);
        return it != dtype_tolerance.end() ? it->second : tolerance;
    }
    /// @brief A view: output 0 is input 0's bytes reinterpreted (reshape), so no kernel runs
    /// and the output shares the input's device memory.
    bool view = false;
    /// @brief A device copy: output 0 gets input 0's bytes through the system DMA (SDMA), as
    /// a device-to-device memcpy on the op's stream; no kernel runs on the cores.
    bool device_copy = false;
};

/// @brief Name of an attribute value's type ("integer", "real", ...).
const char* attr_type_name(const attr_value& v);

}  // namespace npusim::ops
