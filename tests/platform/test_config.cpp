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
                {"test.yaml:3:", "dma.window_bursts", "was removed", "sim.lookahead",
                 "dma.max_outstanding"});
    check_error(
        "schema: npusim.platform/1\n",
        {"--set dma.window_bursts=8", "was removed", "sim.lookahead", "dma.max_outstanding"},
        {"dma.window_bursts=8"});
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
