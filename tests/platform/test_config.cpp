// Platform config loader: error text for every class of bad input, --set overrides, unit parsing,
// presets against the published Ascend figures (../shared/reference/ascend-facts.md), and the
// generated docs/config-reference.md being up to date.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "models/params.h"
#include "platform/config/config_error.h"
#include "platform/config/config_loader.h"
#include "platform/config/runnable_checks.h"
#include "platform/config/schema.h"
#include "platform/config/units.h"
#include "platform/config/yaml_checks.h"
#include "platform/presets.h"

namespace {

using npusim::models::mem_space;
using namespace npusim::platform;

constexpr double kib = 1024.0;
constexpr double mib = 1024.0 * 1024.0;
constexpr double gib = 1024.0 * 1024.0 * 1024.0;

/// Loads `yaml` as "test.yaml" and returns the error text, or "" if it loaded.
std::string error_of(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
    try {
        load_platform_text(yaml, "test.yaml", overrides);
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}

/// Checks that loading fails and the message holds every one of `parts`.
void check_error(const std::string& yaml, std::initializer_list<const char*> parts,
                 const std::vector<std::string>& overrides = {}) {
    const std::string msg = error_of(yaml, overrides);
    BOOST_CHECK_MESSAGE(!msg.empty(), "expected a config_error, but this loaded:\n" << yaml);
    for (const char* p : parts)
        BOOST_CHECK_MESSAGE(msg.find(p) != std::string::npos, "error text lacks \""
                                                                  << p << "\"; the text was:\n"
                                                                  << msg);
}

void check_lacks(const std::string& msg, const char* part) {
    BOOST_CHECK_MESSAGE(msg.find(part) == std::string::npos, "error text should not contain \""
                                                                 << part << "\"; the text was:\n"
                                                                 << msg);
}

const std::string header = "schema: npusim.platform/1\n";

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

// Records NAME + ".F" when field F of A and B differs (NAME is only built then). The field lists
// below are written from the structs in models/params.h and platform_config.h, not from the
// schema, so that they can catch a binder that writes the wrong field.
#define NPUSIM_DIFF(A, B, F, NAME) \
    if (!((A).F == (B).F)) out.push_back(std::string(NAME) + "." #F)

void diff_core(const std::string& at, const npusim::models::core_params& a,
               const npusim::models::core_params& b, std::vector<std::string>& out) {
    using namespace npusim::models;
    NPUSIM_DIFF(a, b, kind, at);
    NPUSIM_DIFF(a, b, clock_hz, at);
    for (size_t s = 0; s < a.buffers.size(); ++s) {
        const buffer_params &ba = a.buffers[s], &bb = b.buffers[s];
        const auto name = [&] { return at + ".buffers[" + to_string(mem_space(s)) + "]"; };
        NPUSIM_DIFF(ba, bb, size, name());
        NPUSIM_DIFF(ba, bb, alignment, name());
        NPUSIM_DIFF(ba, bb, banks, name());
        NPUSIM_DIFF(ba, bb, bank_bytes_per_cycle, name());
    }
    for (size_t s = 0; s < a.paths.size(); ++s)
        for (size_t d = 0; d < a.paths[s].size(); ++d) {
            const path_params &pa = a.paths[s][d], &pb = b.paths[s][d];
            const auto name = [&] {
                return at + ".paths[" + to_string(mem_space(s)) + "][" + to_string(mem_space(d)) +
                       "]";
            };
            NPUSIM_DIFF(pa, pb, bytes_per_cycle, name());
            NPUSIM_DIFF(pa, pb, latency_cycles, name());
            NPUSIM_DIFF(pa, pb, issue_bytes_per_cycle, name());
            NPUSIM_DIFF(pa, pb, issue_cycles, name());
            NPUSIM_DIFF(pa, pb, format_latency_cycles, name());
            NPUSIM_DIFF(pa, pb, burst_bytes, name());
            NPUSIM_DIFF(pa, pb, burst_overhead_cycles, name());
        }
    NPUSIM_DIFF(a, b, dma.max_outstanding, at);
    NPUSIM_DIFF(a, b, dma.write_buffer, at);
    NPUSIM_DIFF(a, b, dma.queue_depth, at);
    for (const auto& [f, dt] : {std::pair{&cube_params::fp16, "fp16"},
                                {&cube_params::bf16, "bf16"},
                                {&cube_params::int8, "int8"},
                                {&cube_params::fp32, "fp32"}}) {
        const fractal &fa = a.cube.*f, &fb = b.cube.*f;
        NPUSIM_DIFF(fa, fb, m, at + ".cube." + dt);
        NPUSIM_DIFF(fa, fb, k, at + ".cube." + dt);
        NPUSIM_DIFF(fa, fb, n, at + ".cube." + dt);
    }
    NPUSIM_DIFF(a, b, cube.fp32_mmad, at);
    NPUSIM_DIFF(a, b, cube.issue_cycles, at);
    NPUSIM_DIFF(a, b, cube.fixed_cycles, at);
    NPUSIM_DIFF(a, b, cube.latency_cycles, at);
    NPUSIM_DIFF(a, b, vector.issue_cycles, at);
    NPUSIM_DIFF(a, b, vector.latency_cycles, at);
    for (size_t i = 0; i < 5; ++i)
        if (a.vector.cycles_per_repeat[i] != b.vector.cycles_per_repeat[i])
            out.push_back(at + ".vector.cycles_per_repeat[" + to_string(vec_class(i)) + "]");
    for (unsigned op = 0; op < k_vec_opcode_count; ++op)
        for (const dtype* s = all_dtypes_begin(); s != all_dtypes_end(); ++s)
            for (const dtype* d = all_dtypes_begin(); d != all_dtypes_end(); ++d) {
                const vector_instr_cost &ra = a.vector.row(vec_opcode(op), *s, *d),
                                        &rb = b.vector.row(vec_opcode(op), *s, *d);
                const auto name = [&] {
                    return at + ".vector.row(" + to_string(vec_opcode(op)) + ", " + to_string(*s) +
                           ", " + to_string(*d) + ")";
                };
                NPUSIM_DIFF(ra, rb, issue_cycles, name());
                NPUSIM_DIFF(ra, rb, fixed_cycles, name());
                NPUSIM_DIFF(ra, rb, cycles_per_repeat, name());
            }
    NPUSIM_DIFF(a, b, event_ids, at);
    NPUSIM_DIFF(a, b, functional, at);
}

/// The fields (not the numbers/texts/where maps) in which two built configs differ.
std::vector<std::string> differing_fields(const platform_config& a, const platform_config& b) {
    std::vector<std::string> out;
    const std::string c = "cfg";
    NPUSIM_DIFF(a, b, source, c);
    NPUSIM_DIFF(a, b, name, c);
    NPUSIM_DIFF(a, b, description, c);
    NPUSIM_DIFF(a, b, split, c);
    NPUSIM_DIFF(a, b, cores, c);
    NPUSIM_DIFF(a, b, vector_cores, c);
    NPUSIM_DIFF(a, b, cube_clock_hz, c);
    NPUSIM_DIFF(a, b, vector_clock_hz, c);
    diff_core("aicore", a.aicore, b.aicore, out);
    diff_core("aic", a.aic, b.aic, out);
    diff_core("aiv", a.aiv, b.aiv, out);
    NPUSIM_DIFF(a, b, gm.capacity, c);
    NPUSIM_DIFF(a, b, gm.channels, c);
    NPUSIM_DIFF(a, b, gm.bandwidth, c);
    NPUSIM_DIFF(a, b, gm.latency_ps, c);
    NPUSIM_DIFF(a, b, gm.interleave_bytes, c);
    NPUSIM_DIFF(a, b, gm.access_granule, c);
    NPUSIM_DIFF(a, b, gm.functional, c);
    NPUSIM_DIFF(a, b, l2.enabled, c);
    NPUSIM_DIFF(a, b, l2.size, c);
    NPUSIM_DIFF(a, b, l2.line_bytes, c);
    NPUSIM_DIFF(a, b, l2.ways, c);
    NPUSIM_DIFF(a, b, l2.hit_latency_ps, c);
    NPUSIM_DIFF(a, b, l2.miss_latency_ps, c);
    NPUSIM_DIFF(a, b, l2.bandwidth, c);
    NPUSIM_DIFF(a, b, l2.functional, c);
    NPUSIM_DIFF(a, b, l2.cold_kernels, c);
    NPUSIM_DIFF(a, b, noc.bandwidth, c);
    NPUSIM_DIFF(a, b, noc.latency_ps, c);
    NPUSIM_DIFF(a, b, host_link.bandwidth, c);
    NPUSIM_DIFF(a, b, host_link.latency_ps, c);
    NPUSIM_DIFF(a, b, host_link.burst_bytes, c);
    NPUSIM_DIFF(a, b, host_link.max_outstanding, c);
    NPUSIM_DIFF(a, b, sdma.bandwidth, c);
    NPUSIM_DIFF(a, b, sdma.burst_bytes, c);
    NPUSIM_DIFF(a, b, sdma.max_outstanding, c);
    NPUSIM_DIFF(a, b, memory.alignment, c);
    NPUSIM_DIFF(a, b, memory.max_split_size, c);
    NPUSIM_DIFF(a, b, memory.gc_threshold, c);
    NPUSIM_DIFF(a, b, memory.caching, c);
    NPUSIM_DIFF(a, b, memory.poison_freed, c);
    NPUSIM_DIFF(a, b, host_api.launch_ps, c);
    NPUSIM_DIFF(a, b, host_api.memcpy_setup_ps, c);
    NPUSIM_DIFF(a, b, host_api.sync_wakeup_ps, c);
    NPUSIM_DIFF(a, b, host_api.callback_ps, c);
    NPUSIM_DIFF(a, b, host_api.callback_launch_ps, c);
    NPUSIM_DIFF(a, b, host_api.callback_batch_item_ps, c);
    NPUSIM_DIFF(a, b, kernel_dispatch_ps, c);
    NPUSIM_DIFF(a, b, sparse.direct_below, c);
    NPUSIM_DIFF(a, b, sparse.dense_from, c);
    NPUSIM_DIFF(a, b, host_api.thread_wakeup_ps, c);
    NPUSIM_DIFF(a, b, host_api.cached_malloc_ps, c);
    NPUSIM_DIFF(a, b, host_api.event_record_ps, c);
    NPUSIM_DIFF(a, b, host_api.malloc_ps, c);
    NPUSIM_DIFF(a, b, host_api.free_ps, c);
    return out;
}

#undef NPUSIM_DIFF

/// The fields that setting `key=value` on the defaults changes.
std::vector<std::string> fields_set_by(const std::string& key, const std::string& value) {
    static const platform_config base = load_platform_text(header, "test.yaml");
    return differing_fields(base, load_platform_text(header, "test.yaml", {key + "=" + value}));
}

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config)

// ---- strict keys ----

BOOST_AUTO_TEST_CASE(unknown_key_suggests_closest) {
    check_error(header + "chip: {corse: 4}\n",
                {"test.yaml:2:", "error: chip.corse: unknown key 'corse'",
                 "hint: did you mean 'chip.cores'?"});
    // Block style, deeper: the line of the misspelt key itself.
    check_error(header + "chip:\n  name: x\n  clock:\n    cub: 1GHz\n",
                {"test.yaml:5:5:", "chip.clock.cub", "did you mean 'chip.clock.cube'?"});
    check_error(header + "gm:\n  bandwith: 1TB/s\n",
                {"test.yaml:3:3:", "did you mean 'gm.bandwidth'?"});
}

// dma.window_bursts was a simulation knob that changed results; a config that still sets it is
// refused with the keys that replace it, in the file and on the command line.
BOOST_AUTO_TEST_CASE(removed_window_bursts_names_its_replacements) {
    check_error("schema: npusim.platform/1\ndma:\n  window_bursts: 8\n",
                {"test.yaml:3:", "dma.window_bursts", "was removed", "dma.max_outstanding"});
    check_error("schema: npusim.platform/1\n",
                {"--set dma.window_bursts=8", "was removed", "dma.max_outstanding"},
                {"dma.window_bursts=8"});
}

// sim.lookahead was a simulation setting that moved results; a config or --set that still
// sets it (or its section) is refused, saying why and what to do.
BOOST_AUTO_TEST_CASE(removed_lookahead_says_why) {
    check_error("schema: npusim.platform/1\nsim:\n  lookahead: 10ns\n",
                {"test.yaml:2:", "sim", "was removed", "sim.lookahead", "delete"});
    check_error("schema: npusim.platform/1\n",
                {"--set sim.lookahead=10ns", "was removed", "books its work at its start time",
                 "delete it"},
                {"sim.lookahead=10ns"});
}

BOOST_AUTO_TEST_CASE(unknown_top_level_section) {
    // Close to a section name: suggested.
    check_error(header + "chp:\n  cores: 4\n",
                {"test.yaml:2:1:", "unknown key 'chp'", "did you mean 'chip'?"});
    // Nothing close: every top-level name is listed.
    check_error(header + "\nfrobnicator: {x: 1}\n",
                {"test.yaml:3:1:", "unknown key 'frobnicator'", "valid keys at the top:", "schema",
                 "chip", "buffers", "gm", "l2", "host_link"});
}

BOOST_AUTO_TEST_CASE(misspelt_key_without_close_match_lists_valid_keys) {
    const std::string msg = error_of(header + "gm:\n  bandwidth: 1TB/s\n  speediness: 3\n");
    BOOST_CHECK(msg.find("test.yaml:4:3:") != std::string::npos);
    BOOST_CHECK(msg.find("gm.speediness: unknown key 'speediness'") != std::string::npos);
    BOOST_CHECK(
        msg.find("valid keys in gm: capacity, channels, bandwidth, latency, interleave, granule") !=
        std::string::npos);
    check_lacks(msg, "did you mean");
}

// ---- types ----

BOOST_AUTO_TEST_CASE(mapping_where_value_expected) {
    check_error(header + "chip:\n  cores: {count: 4}\n",
                {"test.yaml:3:3:", "chip.cores: expected a count value, got a mapping"});
    check_error(header + "gm:\n  bandwidth: [1TB/s, 2TB/s]\n",
                {"test.yaml:3:3:", "gm.bandwidth: expected a bytes/s value, got a list", "TB/s"});
    check_error(header + "chip:\n  architecture:\n", {"test.yaml:3:3:", "chip.architecture",
                                                      "got nothing", "use one of coupled, split"});
}

BOOST_AUTO_TEST_CASE(scalar_where_section_expected) {
    check_error(header + "chip: 4\n", {"test.yaml:2:1:", "chip: is a section and needs a mapping",
                                       "hint: give it keys such as", "cores"});
    check_error(header + "chip:\n  clock: 1GHz\n",
                {"test.yaml:3:3:", "chip.clock: is a section and needs a mapping", "cube, vector"});
    check_error(header + "gm: [1, 2]\n", {"test.yaml:2:1:", "gm: is a section"});
}

BOOST_AUTO_TEST_CASE(root_not_a_mapping) {
    check_error("- schema\n- chip\n", {"test.yaml:1:1:", "must be a mapping"});
}

// ---- values ----

BOOST_AUTO_TEST_CASE(value_out_of_range_names_range) {
    check_error(header + "chip:\n  cores: 1000\n",
                {"test.yaml:3:10:", "chip.cores: value 1000 is out of range",
                 "hint: use a value from 1 to 256"});
    check_error(header + "chip:\n  cores: 0\n", {"test.yaml:3:", "out of range", "from 1 to 256"});
    check_error(
        header + "buffers:\n  l1: {size: 128MiB}\n",
        {"test.yaml:3:", "buffers.l1.size: value 128MiB is out of range", "from 0B to 64MiB"});
    check_error(header + "chip:\n  clock: {cube: 20GHz}\n",
                {"test.yaml:3:", "chip.clock.cube", "out of range", "to 10GHz"});
}

BOOST_AUTO_TEST_CASE(bad_unit) {
    check_error(header + "gm:\n  bandwidth: 64KiB\n",
                {"test.yaml:3:14:", "gm.bandwidth: '64KiB' is not a valid bytes/s value",
                 "hint:", "TB/s", "e.g. 1.2TB/s"});
    check_error(header + "gm:\n  bandwidth: 1.2TB\n",
                {"test.yaml:3:", "'1.2TB' is not a valid bytes/s value"});
    check_error(header + "gm:\n  latency: 100\n",
                {"test.yaml:3:", "gm.latency", "not a valid time value", "ns"});
    check_error(header + "chip:\n  clock: {cube: 1.85Gz}\n",
                {"test.yaml:3:", "chip.clock.cube", "not a valid Hz value", "GHz"});
    check_error(header + "buffers:\n  ub: {size: 256KiBB}\n",
                {"test.yaml:3:", "buffers.ub.size", "KiB"});
}

BOOST_AUTO_TEST_CASE(non_integer_count) {
    check_error(header + "chip:\n  cores: 2.5\n",
                {"test.yaml:3:10:", "chip.cores: '2.5' is not a whole number"});
    check_error(header + "chip:\n  cores: four\n",
                {"test.yaml:3:", "'four' is not a whole number"});
    check_error(header + "buffers:\n  l1: {size: 100.5}\n",
                {"test.yaml:3:", "buffers.l1.size", "'100.5'"});
}

BOOST_AUTO_TEST_CASE(invalid_choice_suggests) {
    check_error(header + "chip:\n  architecture: splt\n",
                {"test.yaml:3:17:", "chip.architecture: 'splt' is not one of coupled, split",
                 "hint: did you mean 'split'?"});
    check_error(header + "chip:\n  architecture: banana\n",
                {"test.yaml:3:", "use one of coupled, split"});
}

BOOST_AUTO_TEST_CASE(bad_boolean) {
    check_error(header + "l2:\n  enabled: maybe\n", {"test.yaml:3:", "l2.enabled", "'maybe'"});
}

// ---- schema ----

BOOST_AUTO_TEST_CASE(missing_schema) {
    check_error("chip: {cores: 4}\n", {"test.yaml:1:1:", "schema: missing key 'schema'",
                                       "add 'schema: npusim.platform/1'"});
}

BOOST_AUTO_TEST_CASE(wrong_schema_id) {
    check_error("# a comment line\nschema: npusim.platform/2\n",
                {"test.yaml:2:9:", "schema: unsupported schema 'npusim.platform/2'",
                 "hint: write schema: npusim.platform/1"});
}

BOOST_AUTO_TEST_CASE(yaml_syntax_error_gives_line) {
    // An unclosed flow mapping on line 3.
    check_error(header + "chip:\n  clock: {cube: 1GHz, vector: 1GHz\ngm: {bandwidth: 1TB/s}\n",
                {"test.yaml:", "error: YAML syntax error", "hint: check indentation"});
    // A bad indent on line 4: the message names that line.
    const std::string msg = error_of(header + "chip:\n  cores: 4\n name: x\n");
    BOOST_CHECK_MESSAGE(msg.find("test.yaml:4:") != std::string::npos, msg);
    BOOST_CHECK_MESSAGE(msg.find("YAML syntax error") != std::string::npos, msg);
}

BOOST_AUTO_TEST_CASE(defaults_only_is_valid) {
    const platform_config cfg = load_platform_text(header, "test.yaml");
    BOOST_CHECK_EQUAL(cfg.name, "custom");
    BOOST_CHECK_EQUAL(cfg.cores, 32u);
    BOOST_CHECK(!cfg.split);
    BOOST_CHECK_EQUAL(cfg.source, "test.yaml");
}

// ---- cross-key checks ----

BOOST_AUTO_TEST_CASE(alignment_not_power_of_two) {
    check_error(
        header + "buffers:\n  l1: {size: 1MiB, alignment: 48}\n",
        {"test.yaml:3:", "buffers.l1.alignment: alignment 48B is not a power of two", "hint:"});
}

BOOST_AUTO_TEST_CASE(allocator_alignment_not_power_of_two) {
    check_error(
        header + "memory:\n  alignment: 768\n",
        {"test.yaml:", "memory.alignment: alignment is not a power of two", "hint: use e.g. 512"});
}

BOOST_AUTO_TEST_CASE(size_not_multiple_of_alignment) {
    check_error(header + "buffers:\n  l0a: {size: 1000, alignment: 512}\n",
                {"test.yaml:3:", "buffers.l0a.size", "not a multiple of the alignment 512B"});
}

BOOST_AUTO_TEST_CASE(l2_size_not_multiple_of_line_times_ways) {
    check_error(header + "l2:\n  size: 1000000\n  line: 512\n  ways: 16\n",
                {"test.yaml:3:9:", "l2.size: size is not a multiple of line x ways", "hint:"});
}

BOOST_AUTO_TEST_CASE(l2_tags_cannot_name_every_line_of_gm) {
    // 1024 TiB of GM behind a 4 KiB, 8-way L2 (one set): 2^41 lines per set.
    check_error(
        header + "gm:\n  capacity: 1024TiB\nl2:\n  size: 4KiB\n  line: 512\n  ways: 8\n",
        {"test.yaml:", "l2.size: GM has more lines per L2 set than", "hint: make l2.size larger"});
}

BOOST_AUTO_TEST_CASE(split_chip_without_vector_cores) {
    check_error(header + "chip:\n  architecture: split\n  cores: 4\n  vector_cores: 0\n",
                {"test.yaml:5:", "chip.vector_cores: a split chip needs vector cores", "hint:"});
}

// When the key a cross check blames was left at its default, the message must still point at a
// line of the file (the key that made the combination invalid), as every config_error does.
BOOST_AUTO_TEST_CASE(cross_check_on_defaulted_key_names_a_line) {
    const std::string msg = error_of(header + "chip:\n  architecture: split\n  cores: 4\n");
    BOOST_CHECK_MESSAGE(msg.find("a split chip needs vector cores") != std::string::npos, msg);
    BOOST_CHECK_MESSAGE(msg.find("test.yaml:3:") != std::string::npos,
                        "expected the line of chip.architecture (test.yaml:3:), got:\n"
                            << msg);
    // l2.size left at 32MiB, ways made 3: point at the ways line.
    const std::string l2 = error_of(header + "l2:\n  ways: 3\n");
    BOOST_CHECK_MESSAGE(l2.find("size is not a multiple of line x ways") != std::string::npos, l2);
    BOOST_CHECK_MESSAGE(l2.find("test.yaml:3:") != std::string::npos,
                        "expected the line of l2.ways (test.yaml:3:), got:\n"
                            << l2);
}

// A strict loader must not silently let the second of two equal keys win.
BOOST_AUTO_TEST_CASE(duplicate_key_is_an_error) {
    const std::string msg = error_of(header + "chip:\n  cores: 4\n  cores: 8\n");
    BOOST_CHECK_MESSAGE(!msg.empty(), "a file giving chip.cores twice loaded without error");
    BOOST_CHECK_MESSAGE(msg.find("test.yaml:4:3:") != std::string::npos, msg);
    BOOST_CHECK_MESSAGE(msg.find("chip.cores") != std::string::npos, msg);
}

// ---- --set ----

BOOST_AUTO_TEST_CASE(set_overrides_take_effect) {
    const platform_config cfg = load_platform("tiny", {"gm.bandwidth=1.6TB/s", "chip.cores=4"});
    BOOST_CHECK_EQUAL(cfg.gm.bandwidth, 1.6e12);
    BOOST_CHECK_EQUAL(cfg.cores, 4u);
    BOOST_CHECK_EQUAL(cfg.core_list().size(), 4u);
    BOOST_CHECK_EQUAL(cfg.name, "tiny");
    // The file value (64GB/s) is what --set replaced.
    BOOST_CHECK_EQUAL(load_platform("tiny").gm.bandwidth, 64e9);
    // Later --set wins; choice and time keys too.
    const platform_config c2 =
        load_platform_text(header, "test.yaml",
                           {"chip.cores=8", "chip.cores=6", "chip.architecture=split",
                            "chip.vector_cores=12", "gm.latency=20ns"});
    BOOST_CHECK_EQUAL(c2.cores, 6u);
    BOOST_CHECK(c2.split);
    BOOST_CHECK_EQUAL(c2.vector_cores, 12u);
    BOOST_CHECK_EQUAL(c2.gm.latency_ps, 20000u);
}

BOOST_AUTO_TEST_CASE(set_unknown_key_suggests) {
    check_error(
        header,
        {"--set gm.bandwdth=1GB/s", "gm.bandwdth: unknown key", "did you mean 'gm.bandwidth'?"},
        {"gm.bandwdth=1GB/s"});
    check_error(header, {"--set chip.clock.cbe=1GHz", "did you mean 'chip.clock.cube'?"},
                {"chip.clock.cbe=1GHz"});
}

BOOST_AUTO_TEST_CASE(set_without_equals) {
    check_error(
        header,
        {"--set chip.cores: error: expected KEY=VALUE", "hint: e.g. --set gm.bandwidth=1.6TB/s"},
        {"chip.cores"});
    check_error(header, {"--set =4", "expected KEY=VALUE"}, {"=4"});
}

BOOST_AUTO_TEST_CASE(set_bad_value) {
    check_error(header, {"--set chip.cores=abc: error: chip.cores: 'abc' is not a whole number"},
                {"chip.cores=abc"});
    check_error(header, {"--set gm.bandwidth=64KiB", "gm.bandwidth", "not a valid bytes/s value"},
                {"gm.bandwidth=64KiB"});
    check_error(header, {"--set chip.cores=1000", "out of range", "from 1 to 256"},
                {"chip.cores=1000"});
    check_error(header, {"--set chip.architecture=splt", "did you mean 'split'?"},
                {"chip.architecture=splt"});
}

// ---- load_platform: files and preset names ----

BOOST_AUTO_TEST_CASE(load_from_file_names_path_and_line) {
    const std::filesystem::path p = std::filesystem::temp_directory_path() /
                                    ("npusim_test_config_" + std::to_string(getpid()) + ".yaml");
    {
        std::ofstream out(p);
        out << header << "chip:\n  name: filechip\n  corse: 4\n";
    }
    try {
        load_platform(p.string());
        BOOST_ERROR("expected a config_error");
    } catch (const config_error& e) {
        const std::string msg = e.what();
        BOOST_CHECK_MESSAGE(msg.find(p.string() + ":4:3:") != std::string::npos, msg);
        BOOST_CHECK_MESSAGE(msg.find("did you mean 'chip.cores'?") != std::string::npos, msg);
    }
    {
        std::ofstream out(p);
        out << header << "chip:\n  name: filechip\n  cores: 3\n";
    }
    const platform_config cfg = load_platform(p.string());
    BOOST_CHECK_EQUAL(cfg.name, "filechip");
    BOOST_CHECK_EQUAL(cfg.cores, 3u);
    BOOST_CHECK_EQUAL(cfg.source, p.string());
    std::filesystem::remove(p);
}

BOOST_AUTO_TEST_CASE(unknown_preset_suggests) {
    try {
        load_platform("tiyn");
        BOOST_ERROR("expected a config_error");
    } catch (const config_error& e) {
        BOOST_CHECK_MESSAGE(std::string(e.what()).find("did you mean 'tiny'?") != std::string::npos,
                            e.what());
    }
    try {
        load_platform("nosuch");
        BOOST_ERROR("expected a config_error");
    } catch (const config_error& e) {
        const std::string msg = e.what();
        BOOST_CHECK_MESSAGE(
            msg.find("nosuch: error: no such platform file or preset") != std::string::npos, msg);
        for (const char* name : {"ascend910", "ascend910b1", "ascend310p3", "tiny"})
            BOOST_CHECK_MESSAGE(msg.find(name) != std::string::npos, msg);
    }
}

// ---- units ----

BOOST_AUTO_TEST_CASE(unit_parsing) {
    BOOST_CHECK_EQUAL(*parse_value(value_kind::size, "64KiB"), 65536.0);
    BOOST_CHECK_EQUAL(*parse_value(value_kind::size, "1MiB"), 1048576.0);
    BOOST_CHECK_EQUAL(*parse_value(value_kind::size, "1.5KiB"), 1536.0);
    BOOST_CHECK_EQUAL(*parse_value(value_kind::size, "64KB"), 64000.0);
    BOOST_CHECK_EQUAL(*parse_value(value_kind::size, "512"), 512.0);
    BOOST_CHECK_EQUAL(*parse_value(value_kind::size, "64GiB"), 64.0 * gib);
    BOOST_CHECK_CLOSE(*parse_value(value_kind::frequency, "1.85GHz"), 1.85e9, 1e-9);
    BOOST_CHECK_EQUAL(*parse_value(value_kind::frequency, "1060MHz"), 1.06e9);
    BOOST_CHECK_CLOSE(*parse_value(value_kind::bandwidth, "1.2TB/s"), 1.2e12, 1e-9);
    BOOST_CHECK_EQUAL(*parse_value(value_kind::bandwidth, "64GB/s"), 64e9);
    BOOST_CHECK_EQUAL(*parse_value(value_kind::bandwidth, "1GiB/s"), gib);
    BOOST_CHECK_EQUAL(*parse_value(value_kind::time, "20ns"), 20000.0);
    BOOST_CHECK_EQUAL(*parse_value(value_kind::time, "1us"), 1e6);
    BOOST_CHECK_EQUAL(*parse_value(value_kind::time, "7ps"), 7.0);
    BOOST_CHECK_EQUAL(*parse_value(value_kind::cycles, "4cycles"), 4.0);
    BOOST_CHECK_EQUAL(*parse_value(value_kind::bytes_per_cycle, "256B/cycle"), 256.0);
    BOOST_CHECK_EQUAL(*parse_value(value_kind::boolean, "false"), 0.0);
    BOOST_CHECK_EQUAL(*parse_value(value_kind::integer, "32"), 32.0);

    BOOST_CHECK(!parse_value(value_kind::bandwidth, "64KiB"));
    BOOST_CHECK(!parse_value(value_kind::bandwidth, "1.2TB"));
    BOOST_CHECK(!parse_value(value_kind::time, "20"));
    BOOST_CHECK(!parse_value(value_kind::frequency, "1.85"));
    BOOST_CHECK(!parse_value(value_kind::integer, "2.5"));
    BOOST_CHECK(!parse_value(value_kind::integer, "4KiB"));
    BOOST_CHECK(!parse_value(value_kind::size, "0.5B"));
    BOOST_CHECK(!parse_value(value_kind::size, "KiB"));
    BOOST_CHECK(!parse_value(value_kind::size, ""));
    BOOST_CHECK(!parse_value(value_kind::boolean, "2"));

    BOOST_CHECK_EQUAL(format_value(value_kind::size, 65536), "64KiB");
    BOOST_CHECK_EQUAL(format_value(value_kind::frequency, 1.85e9), "1.85GHz");
    BOOST_CHECK_EQUAL(format_value(value_kind::bandwidth, 1.2e12), "1.2TB/s");
    BOOST_CHECK_EQUAL(format_value(value_kind::time, 20000), "20ns");
}

BOOST_AUTO_TEST_CASE(units_reach_the_model_params) {
    const platform_config cfg =
        load_platform_text(header +
                               "chip: {clock: {cube: 1.85GHz}}\nbuffers: {l1: {size: 64KiB}}\n"
                               "gm: {bandwidth: 1.2TB/s, latency: 20ns}\nl2: {hit_latency: 1us}\n",
                           "test.yaml");
    BOOST_CHECK_CLOSE(cfg.cube_clock_hz, 1.85e9, 1e-9);
    BOOST_CHECK_CLOSE(cfg.aicore.clock_hz, 1.85e9, 1e-9);
    BOOST_CHECK_EQUAL(cfg.aicore.buffer(mem_space::l1).size, 65536u);
    BOOST_CHECK_CLOSE(cfg.gm.bandwidth, 1.2e12, 1e-9);
    BOOST_CHECK_EQUAL(cfg.gm.latency_ps, 20000u);
    BOOST_CHECK_EQUAL(cfg.l2.hit_latency_ps, 1000000u);
}

// ---- binding: each key reaches its own field ----

BOOST_AUTO_TEST_CASE(every_key_has_one_binder) {
    for (const key_spec& k : platform_schema()) {
        const bool textual = k.kind == value_kind::text || k.kind == value_kind::choice;
        const int n = bool(k.bind.text) + bool(k.bind.chip) + bool(k.bind.core);
        BOOST_CHECK_MESSAGE(n == 1 && bool(k.bind.text) == textual,
                            k.path << ": needs exactly one binder, "
                                   << (textual ? "a text one" : "a chip or a core one"));
    }
}

BOOST_AUTO_TEST_CASE(keys_reach_their_fields) {
    using npusim::models::core_params;
    using npusim::models::dtype;
    using npusim::models::vec_class;
    using npusim::models::vec_opcode;
    auto with = [](const std::string& set) {
        return load_platform_text(header, "test.yaml", {set});
    };
    auto cores = [](const platform_config& c) {
        return std::vector<const core_params*>{&c.aicore, &c.aic, &c.aiv};
    };

    BOOST_CHECK_EQUAL(with("gm.bandwidth=1.6TB/s").gm.bandwidth, 1.6e12);
    BOOST_CHECK_EQUAL(joined(fields_set_by("gm.bandwidth", "1.6TB/s")), "cfg.gm.bandwidth");
    BOOST_CHECK_EQUAL(with("l2.ways=8").l2.ways, 8u);
    BOOST_CHECK_EQUAL(joined(fields_set_by("l2.ways", "8")), "cfg.l2.ways");
    BOOST_CHECK_EQUAL(with("host_api.free=3us").host_api.free_ps, 3000000u);
    BOOST_CHECK_EQUAL(joined(fields_set_by("host_api.free", "3us")), "cfg.host_api.free_ps");
    BOOST_CHECK(!with("memory.caching=false").memory.caching);
    BOOST_CHECK_EQUAL(joined(fields_set_by("memory.caching", "false")), "cfg.memory.caching");

    // Per-core keys reach all three core kinds, and only their own field.
    const platform_config lat = with("paths.gm_to_ub.latency=7");
    for (const core_params* c : cores(lat)) {
        BOOST_CHECK_EQUAL(c->path(mem_space::gm, mem_space::ub).latency_cycles, 7u);
        BOOST_CHECK_EQUAL(c->path(mem_space::gm, mem_space::l1).latency_cycles, 20u);
    }
    BOOST_CHECK_EQUAL(fields_set_by("paths.gm_to_ub.latency", "7").size(), 3u);
    const platform_config ub = with("buffers.ub.size=128KiB");
    for (const core_params* c : cores(ub)) {
        BOOST_CHECK_EQUAL(c->buffer(mem_space::ub).size, 128 * kib);
        BOOST_CHECK_EQUAL(c->buffer(mem_space::l1).size, 1 * mib);
    }
    BOOST_CHECK_EQUAL(fields_set_by("buffers.ub.size", "128KiB").size(), 3u);
    const platform_config vadd = with("vector.instructions.vadd.fp16.issue_cycles=7");
    for (const core_params* c : cores(vadd)) {
        BOOST_CHECK_EQUAL(c->vector.row(vec_opcode::add, dtype::fp16, dtype::fp16).issue_cycles,
                          7u);
        BOOST_CHECK_EQUAL(c->vector.row(vec_opcode::add, dtype::fp32, dtype::fp32).issue_cycles,
                          0u);
        BOOST_CHECK_EQUAL(c->vector.row(vec_opcode::sub, dtype::fp16, dtype::fp16).issue_cycles,
                          0u);
    }
    BOOST_CHECK_EQUAL(fields_set_by("vector.instructions.vadd.fp16.issue_cycles", "7").size(), 3u);
    const platform_config int8 = with("cube.fractal.int8.k=64");
    BOOST_CHECK_EQUAL(int8.aic.cube.int8.k, 64u);
    BOOST_CHECK_EQUAL(int8.aic.cube.fp16.k, 16u);
    const platform_config exp = with("vector.cycles_per_repeat.transcendental=3");
    BOOST_CHECK_EQUAL(exp.aiv.vector.cycles_per_repeat[size_t(vec_class::transcendental)], 3.0);
    BOOST_CHECK_EQUAL(exp.aiv.vector.cycles_per_repeat[size_t(vec_class::activation)], 2.0);

    // chip.clock.cube drives the AI and cube cores, chip.clock.vector the vector cores.
    BOOST_CHECK_EQUAL(joined(fields_set_by("chip.clock.cube", "1.5GHz")),
                      "cfg.cube_clock_hz, aicore.clock_hz, aic.clock_hz");
    BOOST_CHECK_EQUAL(joined(fields_set_by("chip.clock.vector", "1.5GHz")),
                      "cfg.vector_clock_hz, aiv.clock_hz");
    const platform_config clk = with("chip.clock.cube=1.5GHz");
    BOOST_CHECK_EQUAL(clk.aic.clock_hz, 1.5e9);
    BOOST_CHECK_EQUAL(clk.aiv.clock_hz, 1e9);

    // Text and choice keys.
    const platform_config t = load_platform_text(
        header, "test.yaml",
        {"chip.name=n", "chip.description=d", "chip.architecture=split", "chip.vector_cores=4"});
    BOOST_CHECK_EQUAL(t.name, "n");
    BOOST_CHECK_EQUAL(t.description, "d");
    BOOST_CHECK(t.split);
    BOOST_CHECK(t.aic.kind == npusim::models::core_kind::aic);
    BOOST_CHECK(t.aiv.kind == npusim::models::core_kind::aiv);
}

// Every numeric key, moved off its default, changes some field, the same fields in each core
// kind (clocks aside), and no field another key changes: a key left unbound or two keys bound
// to one field fail here, named.
BOOST_AUTO_TEST_CASE(each_numeric_key_sets_its_own_fields) {
    std::map<std::string, std::string> owner;  // field -> the key that changed it
    for (const key_spec& k : platform_schema()) {
        if (k.kind == value_kind::text || k.kind == value_kind::choice) continue;
        const double d = *parse_value(k.kind, k.default_text);
        const std::vector<double> tries =
            k.kind == value_kind::boolean ? std::vector<double>{1 - d}
                                          : std::vector<double>{d * 2, d / 2, d + 1, k.min, k.max};
        std::string value;
        std::vector<std::string> fields;
        for (double x : tries) {  // the first other in-range value the cross-key checks accept
            if (x == d || x < k.min || x > k.max) continue;
            try {
                fields = fields_set_by(k.path, format_value(k.kind, x));
                value = format_value(k.kind, x);
                break;
            } catch (const config_error&) {
            }
        }
        BOOST_CHECK_MESSAGE(!value.empty(), k.path << ": found no other value that loads");
        BOOST_CHECK_MESSAGE(value.empty() || !fields.empty(),
                            k.path << "=" << value << " changes no field: is it bound?");
        std::map<std::string, std::set<std::string>> by_core;  // core kind -> its fields set
        std::set<std::string> in_any_core;
        for (const std::string& f : fields) {
            const size_t dot = f.find('.');
            if (f.compare(0, dot, "cfg") != 0) {
                by_core[f.substr(0, dot)].insert(f.substr(dot));
                in_any_core.insert(f.substr(dot));
            }
            const auto [it, first] = owner.emplace(f, k.path);
            BOOST_CHECK_MESSAGE(first, k.path << " and " << it->second << " both set " << f);
        }
        if (k.path.rfind("chip.clock.", 0) != 0)
            for (const char* kind : {"aicore", "aic", "aiv"})
                BOOST_CHECK_MESSAGE(by_core[kind] == in_any_core,
                                    k.path
                                        << " does not set " << kind
                                        << " as it sets the other core kinds: " << joined(fields));
    }
}

// ---- presets against ascend-facts.md ----

BOOST_AUTO_TEST_CASE(every_preset_loads) {
    std::vector<std::string> names;
    for (auto& p : presets()) {
        names.push_back(p.name);
        BOOST_CHECK_NO_THROW(load_platform(p.name));
        BOOST_CHECK_EQUAL(load_platform(p.name).name, p.name);
    }
    for (const char* want : {"ascend910", "ascend910b1", "ascend310p3", "tiny"})
        BOOST_CHECK_MESSAGE(find_preset(want) != nullptr, "missing preset " << want);
    BOOST_CHECK(find_preset(default_preset) != nullptr);
    // The compiled-in text is the file in configs/platforms/.
    for (auto& p : presets()) {
        std::ifstream in(std::string(NPUSIM_SOURCE_DIR) + "/" + p.file);
        BOOST_REQUIRE_MESSAGE(in, "cannot read " << p.file);
        std::ostringstream ss;
        ss << in.rdbuf();
        BOOST_CHECK_MESSAGE(ss.str() == p.yaml,
                            p.file << " differs from the compiled-in preset; rebuild");
    }
}

BOOST_AUTO_TEST_CASE(preset_ascend910_matches_facts) {
    const platform_config c = load_platform("ascend910");
    BOOST_CHECK(!c.split);
    BOOST_CHECK_EQUAL(c.cores, 32u);
    BOOST_CHECK_EQUAL(c.vector_cores, 0u);
    BOOST_CHECK_EQUAL(c.cube_clock_hz, 1e9);
    BOOST_CHECK_EQUAL(c.aicore.buffer(mem_space::l1).size, 1 * mib);
    BOOST_CHECK_EQUAL(c.aicore.buffer(mem_space::l0a).size, 64 * kib);
    BOOST_CHECK_EQUAL(c.aicore.buffer(mem_space::l0b).size, 64 * kib);
    BOOST_CHECK_EQUAL(c.aicore.buffer(mem_space::l0c).size, 256 * kib);
    BOOST_CHECK_EQUAL(c.aicore.buffer(mem_space::ub).size, 256 * kib);
    BOOST_CHECK_EQUAL(c.aicore.buffer(mem_space::bt).size, 0u);
    BOOST_CHECK_EQUAL(c.l2.size, 32 * mib);
    BOOST_CHECK_EQUAL(c.gm.capacity, 32 * gib);
    BOOST_CHECK_EQUAL(c.core_list().size(), 32u);
    // TFLOP/s = cores x 16*16*16 x 2 x clock (ascend-facts.md formula): 262.1 TFLOP/s.
    BOOST_CHECK_CLOSE(c.peak_fp16_flops(), 32.0 * 4096 * 2 * 1e9, 0.1);
}

BOOST_AUTO_TEST_CASE(preset_ascend910b1_matches_facts) {
    const platform_config c = load_platform("ascend910b1");
    BOOST_CHECK(c.split);
    BOOST_CHECK_EQUAL(c.cores, 24u);
    BOOST_CHECK_EQUAL(c.vector_cores, 48u);
    BOOST_CHECK_CLOSE(c.cube_clock_hz, 1.85e9, 1e-9);
    BOOST_CHECK_EQUAL(c.aic.buffer(mem_space::l1).size, 512 * kib);
    BOOST_CHECK_EQUAL(c.aic.buffer(mem_space::l0a).size, 64 * kib);
    BOOST_CHECK_EQUAL(c.aic.buffer(mem_space::l0b).size, 64 * kib);
    BOOST_CHECK_EQUAL(c.aic.buffer(mem_space::l0c).size, 128 * kib);
    BOOST_CHECK_EQUAL(c.aic.buffer(mem_space::bt).size, 1 * kib);
    BOOST_CHECK_EQUAL(c.aic.buffer(mem_space::fb).size, 2 * kib);
    BOOST_CHECK_EQUAL(c.aiv.buffer(mem_space::ub).size, 196608u);
    BOOST_CHECK_EQUAL(c.l2.size, 192 * mib);
    BOOST_CHECK_EQUAL(c.gm.capacity, 64 * gib);  // only the number: nothing is allocated here
    const auto cores = c.core_list();
    BOOST_REQUIRE_EQUAL(cores.size(), 72u);
    BOOST_CHECK(cores.front().kind == npusim::models::core_kind::aic);
    BOOST_CHECK(cores.back().kind == npusim::models::core_kind::aiv);
    BOOST_CHECK_CLOSE(c.peak_fp16_flops(), 24.0 * 4096 * 2 * 1.85e9, 0.1);
}

BOOST_AUTO_TEST_CASE(preset_ascend310p3_matches_facts) {
    const platform_config c = load_platform("ascend310p3");
    BOOST_CHECK(!c.split);
    BOOST_CHECK_EQUAL(c.cores, 8u);
    BOOST_CHECK_EQUAL(c.vector_cores, 7u);
    BOOST_CHECK_CLOSE(c.cube_clock_hz, 1.06e9, 1e-9);
    BOOST_CHECK_CLOSE(c.vector_clock_hz, 1.0e9, 1e-9);
    BOOST_CHECK_EQUAL(c.aicore.buffer(mem_space::l1).size, 1 * mib);
    BOOST_CHECK_EQUAL(c.aicore.buffer(mem_space::l0c).size, 256 * kib);
    BOOST_CHECK_EQUAL(c.aicore.buffer(mem_space::ub).size, 256 * kib);
    BOOST_CHECK_EQUAL(c.l2.size, 16 * mib);
    BOOST_CHECK_EQUAL(c.gm.capacity, 24e9);
    BOOST_CHECK_EQUAL(c.core_list().size(), 15u);
    BOOST_CHECK_CLOSE(c.peak_fp16_flops(), 8.0 * 4096 * 2 * 1.06e9, 0.1);
}

BOOST_AUTO_TEST_CASE(preset_tiny_is_small) {
    const platform_config c = load_platform("tiny");
    BOOST_CHECK_EQUAL(c.cores, 2u);
    BOOST_CHECK_EQUAL(c.vector_cores, 0u);
    BOOST_CHECK_EQUAL(c.aicore.buffer(mem_space::l1).size, 64 * kib);
    BOOST_CHECK_EQUAL(c.gm.capacity, 1 * gib);
    BOOST_CHECK_EQUAL(c.gm.bandwidth, 64e9);
}

// ---- generated docs ----

BOOST_AUTO_TEST_CASE(config_reference_is_up_to_date) {
    const std::string path = std::string(NPUSIM_SOURCE_DIR) + "/docs/config-reference.md";
    std::ifstream in(path);
    std::ostringstream ss;
    if (in) ss << in.rdbuf();
    const std::string expected = config_reference_markdown();
    BOOST_CHECK_MESSAGE(in && ss.str() == expected,
                        "docs/config-reference.md is missing or stale; regenerate it with "
                        "`./build/npusim validate --reference > docs/config-reference.md`");
    // Every schema key is documented.
    for (auto& k : platform_schema())
        BOOST_CHECK_MESSAGE(expected.find("`" + k.path + "`") != std::string::npos, k.path);
}

// ---- values that overflow, bytes that are not UTF-8, odd YAML (issue 12) ----

BOOST_AUTO_TEST_CASE(overflowing_values_are_rejected_with_the_range) {
    BOOST_CHECK(!parse_value(value_kind::bandwidth, "1e300TB/s"));
    BOOST_CHECK(!parse_value(value_kind::size, "1e300TiB"));
    BOOST_CHECK(!parse_value(value_kind::time, "1e305s"));
    BOOST_CHECK(!parse_value(value_kind::real, "1e400"));
    BOOST_CHECK_CLOSE(*parse_value(value_kind::bandwidth, "1e3TB/s"), 1e15, 1e-9);
    BOOST_CHECK_EQUAL(error_of(header + "gm:\n  bandwidth: 1e300TB/s\n"),
                      "test.yaml:3:14: error: gm.bandwidth: '1e300TB/s' is not a valid bytes/s "
                      "value (a finite value from 1MB/s to 1000TB/s)\n  hint: write a bytes/s "
                      "value with a unit (B/s, KB/s, MB/s, GB/s, TB/s, KiB/s, MiB/s, GiB/s, "
                      "TiB/s), e.g. 1.2TB/s");
    // Finite but above the bound: out of range, naming the range.
    BOOST_CHECK_EQUAL(error_of(header, {"noc.bandwidth=2000TB/s"}),
                      "--set noc.bandwidth=2000TB/s: error: noc.bandwidth: value 2000TB/s is out "
                      "of range (1MB/s to 1000TB/s)\n  hint: use a value from 1MB/s to 1000TB/s");
    // Every numeric key has a finite upper bound.
    for (const auto& k : platform_schema())
        if (k.kind != value_kind::text && k.kind != value_kind::choice)
            BOOST_CHECK_MESSAGE(std::isfinite(k.max) && k.max >= k.min, k.path);
}

BOOST_AUTO_TEST_CASE(invalid_utf8_names_line_and_column) {
    BOOST_CHECK_EQUAL(error_of(header + "chip:\n  name: ab\xff\n"),
                      "test.yaml:3:11: error: invalid UTF-8 (byte 0xff)\n  hint: save the file as "
                      "UTF-8");
    // Overlong forms and UTF-16 surrogates are not UTF-8 either.
    BOOST_CHECK(contains(error_of(header + "chip: {name: \xc0\xaf}\n"),
                         "test.yaml:2:14: error: "
                         "invalid UTF-8 (byte "
                         "0xc0)"));
    BOOST_CHECK(contains(error_of(header + "chip: {name: \xed\xa0\x80}\n"), "invalid UTF-8"));
    // Valid multi-byte text loads, and columns count characters.
    BOOST_CHECK_EQUAL(error_of(header + "chip: {description: \"caf\xc3\xa9 \xe2\x82\xac\"}\n"), "");
}

BOOST_AUTO_TEST_CASE(keys_must_be_plain_names) {
    BOOST_CHECK_EQUAL(error_of(header + "? [chip, gm]\n: 1\n"),
                      "test.yaml:2:3: error: ?: a key must be a plain name, not a list\n  hint: "
                      "write 'name: value'");
    BOOST_CHECK(
        contains(error_of(header + "chip:\n  ? {a: 1}\n  : 1\n"),
                 "test.yaml:3:5: error: chip.?: a key must be a plain name, not a mapping"));
}

BOOST_AUTO_TEST_CASE(nesting_is_bounded_and_aliases_checked_once) {
    BOOST_CHECK(
        contains(error_of(header + "chip: " + std::string(80, '[') + std::string(80, ']') + "\n"),
                 "nested more than 64 levels deep"));
    // A duplicate key inside an anchored mapping is found once, at the anchor.
    const std::string msg =
        error_of(header + "chip: &c {name: a, name: b}\ngm: {bandwidth: 1TB/s}\nx: *c\n");
    BOOST_CHECK_MESSAGE(contains(msg, "test.yaml:2:20: error: chip.name: key given twice"), msg);
}

BOOST_AUTO_TEST_CASE(duplicate_key_shared_check) {
    // The check the workload and sweep loaders share, on a parsed document.
    const YAML::Node n = YAML::Load("a: 1\nb:\n  c: 2\n  c: 3\n");
    try {
        reject_duplicate_keys("d.yaml", n);
        BOOST_ERROR("a repeated key passed");
    } catch (const config_error& e) {
        BOOST_CHECK_EQUAL(std::string(e.what()),
                          "d.yaml:4:3: error: b.c: key given twice (first at line 3)\n  hint: keep "
                          "one of them");
    }
    BOOST_CHECK_NO_THROW(reject_duplicate_keys("d.yaml", YAML::Load("a: {c: 1}\nb: {c: 2}\n")));
}

BOOST_AUTO_TEST_CASE(presets_are_runnable) {
    for (const auto& p : presets()) BOOST_CHECK_NO_THROW(check_runnable(load_platform(p.name)));
}

BOOST_AUTO_TEST_CASE(unrunnable_platforms_name_the_key) {
    auto reason = [](const std::string& yaml, const std::vector<std::string>& sets = {}) {
        try {
            check_runnable(load_platform_text(yaml, "test.yaml", sets));
        } catch (const config_error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    BOOST_CHECK_EQUAL(reason(header),
                      "test.yaml:1:1: error: paths.l0c_to_ub.bytes_per_cycle: path absent (0 "
                      "bytes/cycle), but a coupled chip moves matmul results from L0C through the "
                      "vector unit (not set in the file: the default applies)\n  hint: give it a "
                      "bandwidth, e.g. 128");
    const preset* tiny = find_preset("tiny");
    BOOST_REQUIRE(tiny);
    BOOST_CHECK_EQUAL(reason(tiny->yaml, {"chip.event_ids=1"}),
                      "--set chip.event_ids=1: error: chip.event_ids: 1 event id per pipe pair "
                      "cannot synchronise a double-buffered queue\n  hint: use at least 2 (910: "
                      "4; 310P, 910B: 8)");
    // 16 x 64 x 32 int8: the 64 x 32 B tile is 2KiB, the 16 x 32 accumulator 2KiB; L0B is 1KiB.
    BOOST_CHECK(contains(reason(tiny->yaml, {"cube.fractal.int8.k=64", "cube.fractal.int8.n=32",
                                             "buffers.l0b.size=1KiB"}),
                         "--set cube.fractal.int8.n=32: error: cube.fractal.int8.n: a int8 fractal "
                         "tile K0 x N0 of 2KiB does not fit in l0b (1KiB)"));
    BOOST_CHECK(
        contains(reason(tiny->yaml, {"buffers.ub.size=0"}),
                 "buffers.ub.size: size 0: the matmul and vector kernels need this buffer"));
    BOOST_CHECK(contains(reason(tiny->yaml, {"chip.architecture=split", "chip.vector_cores=4"}),
                         "paths.l0c_to_gm.bytes_per_cycle: path absent (0 bytes/cycle), but a "
                         "split chip stores matmul results from L0C (FixPipe)"));
}

BOOST_AUTO_TEST_SUITE_END()
