// Model descriptions: the shipped LLaMA files against their published sizes, the fit check
// against device memory, and bad files as errors at file:line.
#include <boost/test/unit_test.hpp>

#include "platform/config/config_error.h"
#include "platform/config/config_loader.h"
#include "sw/serving/model_config.h"
#include "tests/test_util.h"

using namespace npusim;
using namespace npusim::serving;
using test::contains;

namespace {

const std::string models_dir = std::string(NPUSIM_SOURCE_DIR) + "/configs/models/";

std::string error_of(const std::string& yaml) {
    try {
        load_model_text(yaml, "m.yaml");
    } catch (const platform::config_error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(model_config_suite)

// Parameter counts by the closed form, against the published 6.7 B, 13.0 B and 8.03 B; the KV
// cache takes 0.5 MiB (7B), 0.78 MiB (13B) and 0.125 MiB (LLaMA-3-8B) per token in fp16.
BOOST_AUTO_TEST_CASE(shipped_llama_models_have_their_published_sizes) {
    const model_config m7 = load_model(models_dir + "llama7b.yaml");
    const model_config m13 = load_model(models_dir + "llama13b.yaml");
    BOOST_CHECK_EQUAL(m7.head_dim(), 128u);
    BOOST_CHECK_EQUAL(m7.parameters(), 6738415616ull);
    BOOST_CHECK_EQUAL(m13.parameters(), 13015864320ull);
    BOOST_CHECK_CLOSE(double(m7.parameters()), 6.7e9, 1.0);
    BOOST_CHECK_CLOSE(double(m13.parameters()), 13.0e9, 1.0);
    BOOST_CHECK_EQUAL(m7.weight_bytes(), 2 * m7.parameters());
    BOOST_CHECK_EQUAL(m7.kv_bytes_per_token(), 524288u);
    BOOST_CHECK_EQUAL(m13.kv_bytes_per_token(), 819200u);
    // LLaMA-3-8B: grouped-query attention (8 KV heads) and 8.03 B parameters, so a quarter of
    // LLaMA-7B's cache per token: 2 x 32 layers x 8 heads x 128 x 2 bytes.
    const model_config m3 = load_model(models_dir + "llama3_8b.yaml");
    BOOST_CHECK_EQUAL(m3.parameters(), 8030261248ull);
    BOOST_CHECK_EQUAL(m3.kv_bytes_per_token(), 131072u);
    const kv_cache_config kv = m7.kv_cache(16, 100);
    BOOST_CHECK_EQUAL(kv.block_bytes(), 16 * m7.kv_bytes_per_token());
}

BOOST_AUTO_TEST_CASE(weights_that_do_not_fit_are_an_error) {
    const model_config m13 = load_model(models_dir + "llama13b.yaml");
    BOOST_CHECK_NO_THROW(check_fits(m13, platform::load_platform("ascend910b1")));
    try {
        check_fits(m13, platform::load_platform("tiny"));
        BOOST_ERROR("13B fitted in 1 GiB");
    } catch (const platform::config_error& e) {
        const std::string w = e.what();
        BOOST_CHECK_MESSAGE(
            contains(w,
                     "llama13b.yaml: error: model 'llama13b' needs 24.24 GiB of weights "
                     "(13015864320 parameters in fp16), but device memory is 1.00 GiB "
                     "(gm.capacity, ") &&
                contains(w, "hint: use a platform with more device memory"),
            w);
    }
}

BOOST_AUTO_TEST_CASE(bad_model_files_name_the_line_and_the_fix) {
    const std::string head = "schema: npusim.model/1\nname: m\n";
    const std::string ok = "layers: 2\nhidden: 64\nheads: 4\nffn: 128\nvocab: 100\n";
    BOOST_CHECK_EQUAL(error_of(head + ok), "");
    std::string e = error_of(head + ok + "kv_head: 2\n");
    BOOST_CHECK_MESSAGE(
        contains(e, "m.yaml:8:1: error: kv_head") && contains(e, "did you mean 'kv_heads'"), e);
    e = error_of(head + "layers: 2\nhidden: 64\nheads: 5\nffn: 128\nvocab: 100\n");
    BOOST_CHECK_MESSAGE(contains(e,
                                 "m.yaml:5:8: error: heads: hidden 64 is not a multiple of "
                                 "heads 5"),
                        e);
    e = error_of(head + ok + "kv_heads: 3\n");
    BOOST_CHECK_MESSAGE(contains(e,
                                 "m.yaml:8:11: error: kv_heads: heads 4 is not a multiple of "
                                 "kv_heads 3"),
                        e);
    e = error_of(head + "hidden: 64\nheads: 4\nffn: 128\nvocab: 100\n");
    BOOST_CHECK_MESSAGE(contains(e, "error: layers: missing"), e);
    e = error_of(head + ok + "dtype: int8\n");
    BOOST_CHECK_MESSAGE(contains(e, "m.yaml:8:8: error: dtype: unknown dtype 'int8'"), e);
    e = error_of(head + "layers: -2\nhidden: 64\nheads: 4\nffn: 128\nvocab: 100\n");
    BOOST_CHECK_MESSAGE(contains(e, "m.yaml:3:9: error: layers"), e);
    e = error_of("schema: npusim.workload/1\n");
    BOOST_CHECK_MESSAGE(contains(e, "schema: missing or unknown schema"), e);
    BOOST_CHECK_THROW(load_model("/no/such/model.yaml"), platform::config_error);
}

BOOST_AUTO_TEST_SUITE_END()
