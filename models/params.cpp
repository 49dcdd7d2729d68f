#include "models/params.h"

namespace npusim::models {

const char* to_string(pipe_id p) {
    switch (p) {
        case pipe_id::S:
            return "S";
        case pipe_id::V:
            return "V";
        case pipe_id::M:
            return "M";
        case pipe_id::MTE1:
            return "MTE1";
        case pipe_id::MTE2:
            return "MTE2";
        case pipe_id::MTE3:
            return "MTE3";
        case pipe_id::ALL:
            return "ALL";
        case pipe_id::FIX:
            return "FIX";
    }
    return "?";
}

const char* to_string(core_kind k) {
    switch (k) {
        case core_kind::aicore:
            return "aicore";
        case core_kind::aic:
            return "aic";
        case core_kind::aiv:
            return "aiv";
    }
    return "?";
}

}  // namespace npusim::models
