#include "tools/fuzz/loader_fuzz.h"

#include <cxxabi.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <typeinfo>

#include "platform/config/config_error.h"
#include "platform/config/config_loader.h"
#include "sw/graph/precision.h"
#include "sw/graph/workload.h"
#include "sw/serving/model_config.h"
#include "sw/serving/serving_spec.h"
#include "tools/npusim/sweep_spec.h"

namespace npusim::fuzz {

namespace {

// splitmix64: the same sequence on every platform and standard library.
uint64_t next(uint64_t& s) {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

size_t below(uint64_t& s, size_t n) {
    return n == 0 ? 0 : size_t(next(s) % n);
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::string cur;
    for (char c : text) {
        if (c == '\n') {
            lines.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    lines.push_back(cur);
    return lines;
}

std::string join_lines(const std::vector<std::string>& lines) {
    std::string s;
    for (size_t i = 0; i < lines.size(); ++i) s += (i ? "\n" : "") + lines[i];
    return s;
}

// Values that have broken parsers before: out of range, not finite, wrong type, empty.
const std::vector<std::string>& interesting_values() {
    static const std::vector<std::string> v = {"-1",
                                               "0",
                                               "1",
                                               "-0",
                                               "1e300",
                                               "-1e300",
                                               "1e300TB/s",
                                               "1e300GHz",
                                               "1e308TiB",
                                               "1e20ns",
                                               "9223372036854775807",
                                               "9223372036854775808",
                                               "-9223372036854775809",
                                               "18446744073709551616",
                                               "4294967295",
                                               "4294967296",
                                               "4294967312",
                                               "2147483648",
                                               ".nan",
                                               ".NaN",
                                               "nan",
                                               ".inf",
                                               "-.inf",
                                               "inf",
                                               "infTB/s",
                                               "nanGB/s",
                                               "-64KiB",
                                               "0B",
                                               "0.5",
                                               "1.5",
                                               "1e-300",
                                               "0x10",
                                               "0o17",
                                               "1_000",
                                               "",
                                               "~",
                                               "null",
                                               "[]",
                                               "{}",
                                               "[a]",
                                               "[1, 2]",
                                               "[[1]]",
                                               "{x: 1}",
                                               "{a: {b: c}}",
                                               "\"\"",
                                               "''",
                                               "'quoted'",
                                               "true",
                                               "false",
                                               "yes",
                                               "&anc 5",
                                               "*anc",
                                               "!!binary aGVsbG8=",
                                               "!!str 5",
                                               "!!int x",
                                               "!!float .inf",
                                               "!<tag:x> 1",
                                               "64KiB",
                                               "1.85GHz",
                                               "1.2TB/s",
                                               "20ns",
                                               "fp16",
                                               "int8",
                                               "matmul",
                                               "add",
                                               "random",
                                               "randint",
                                               "zeros",
                                               "coupled",
                                               "split",
                                               "npusim.platform/1",
                                               "npusim.workload/1",
                                               "npusim.sweep/1",
                                               "|\n  block\n  text",
                                               ">\n  folded",
                                               "\"\\u0000\"",
                                               "\"\\xff\"",
                                               "\t",
                                               "%",
                                               "@",
                                               "`",
                                               "- x",
                                               "? x",
                                               "a: b: c",
                                               std::string(300, 'x'),
                                               "\"" + std::string(40, '\\') + "\""};
    return v;
}

const std::vector<std::string>& bad_utf8() {
    static const std::vector<std::string> v = {
        "\xff",     "\xfe\xff", "\xc0\x80", "\xed\xa0\x80",    "\xf4\x90\x80\x80",
        "\xe2\x82", "\x80",     "\xc3",     "\xf8\x88\x80\x80"};
    return v;
}

std::string deep(uint64_t& s) {
    const size_t depth = std::vector<size_t>{8, 40, 70, 200, 1000, 3000}[below(s, 6)];
    switch (below(s, 3)) {
        case 0:
            return std::string(depth, '[') + "1" + std::string(depth, ']');
        case 1: {
            std::string t;
            for (size_t i = 0; i < depth; ++i) t += "{a: ";
            return t + "1" + std::string(depth, '}');
        }
        default: {  // block mappings, one level per line
            std::string t;
            for (size_t i = 0; i < std::min<size_t>(depth, 300); ++i)
                t += "\n" + std::string(2 * (i + 1), ' ') + "k" + std::to_string(i) + ":";
            return t + " 1";
        }
    }
}

// "a0: &a0 [1,1,...]; a1: &a1 [*a0,*a0,...]; ...": small text, exponential expansion.
std::string alias_bomb(uint64_t& s) {
    const size_t levels = 3 + below(s, 8), width = 4 + below(s, 7);
    std::string t = "bomb0: &b0 [";
    for (size_t j = 0; j < width; ++j) t += std::string(j ? "," : "") + "1";
    t += "]\n";
    for (size_t i = 1; i <= levels; ++i) {
        t += "bomb" + std::to_string(i) + ": &b" + std::to_string(i) + " [";
        for (size_t j = 0; j < width; ++j)
            t += std::string(j ? "," : "") + "*b" + std::to_string(i - 1);
        t += "]\n";
    }
    return t;
}

// Position of the value on a "key: value" line (after ": "), or npos.
size_t value_pos(const std::string& line) {
    const size_t c = line.find(": ");
    if (c != std::string::npos) return c + 2;
    if (!line.empty() && line.back() == ':') return line.size();
    return std::string::npos;
}

// The key part of a line ("  key" of "  key: v"), or npos.
size_t key_end(const std::string& line) {
    const size_t c = line.find(':');
    if (c == std::string::npos || c == 0) return std::string::npos;
    return c;
}

std::string mutate_once(std::string text, const std::vector<std::string>& corpus, uint64_t& s) {
    std::vector<std::string> lines = split_lines(text);
    const size_t li = below(s, lines.size());
    switch (below(s, 16)) {
        case 0: {  // flip a byte
            if (text.empty()) return text;
            const size_t at = below(s, text.size());
            text[at] = below(s, 2) ? char(text[at] ^ (1u << below(s, 8))) : char(below(s, 256));
            return text;
        }
        case 1:  // delete a line
            lines.erase(lines.begin() + long(li));
            break;
        case 2:  // duplicate a line (duplicate keys, repeated list items)
            lines.insert(lines.begin() + long(li), lines[li]);
            break;
        case 3: {  // swap two lines
            std::swap(lines[li], lines[below(s, lines.size())]);
            break;
        }
        case 4:
        case 5:
        case 6: {  // replace a value with an interesting one
            std::vector<size_t> candidates;
            for (size_t i = 0; i < lines.size(); ++i)
                if (value_pos(lines[i]) != std::string::npos) candidates.push_back(i);
            if (candidates.empty()) break;
            const size_t i = candidates[below(s, candidates.size())];
            const auto& vals = interesting_values();
            const std::string& v = vals[below(s, vals.size())];
            std::string& line = lines[i];
            // Half the time a value inside a flow mapping ({from: 1, to: 4}): up to , } or ].
            std::vector<size_t> colons;
            for (size_t c = line.find(": "); c != std::string::npos; c = line.find(": ", c + 1))
                colons.push_back(c + 2);
            if (colons.size() > 1 && below(s, 2)) {
                const size_t from = colons[below(s, colons.size())];
                const size_t to = std::min(line.find_first_of(",}]", from), line.size());
                line = line.substr(0, from) + v + line.substr(to);
            } else {
                line = line.substr(0, value_pos(line)) + v;
            }
            break;
        }
        case 7: {  // swap the keys of two lines
            const size_t j = below(s, lines.size());
            const size_t a = key_end(lines[li]), b = key_end(lines[j]);
            if (a == std::string::npos || b == std::string::npos) break;
            const std::string ka = lines[li].substr(0, a), kb = lines[j].substr(0, b);
            lines[li] = kb + lines[li].substr(a);
            lines[j] = ka + lines[j].substr(b);
            break;
        }
        case 8: {  // a line from another seed file (keys of another kind, sections)
            const auto other = split_lines(corpus[below(s, corpus.size())]);
            lines.insert(lines.begin() + long(li), other[below(s, other.size())]);
            break;
        }
        case 9: {  // invalid UTF-8 somewhere
            const auto& b = bad_utf8();
            text.insert(below(s, text.size() + 1), b[below(s, b.size())]);
            return text;
        }
        case 10: {  // deep nesting as a value
            const size_t vp = value_pos(lines[li]);
            if (vp == std::string::npos) break;
            lines[li] = lines[li].substr(0, vp) + deep(s);
            break;
        }
        case 11:  // an alias bomb at the top
            return alias_bomb(s) + text;
        case 12:  // truncate
            return text.substr(0, below(s, text.size() + 1));
        case 13: {  // type confusion: a scalar value becomes a list item or a mapping
            const size_t vp = value_pos(lines[li]);
            if (vp == std::string::npos || vp >= lines[li].size()) break;
            const std::string v = lines[li].substr(vp);
            lines[li] =
                lines[li].substr(0, vp) + (below(s, 2) ? "[" + v + "]" : "{" + v + ": " + v + "}");
            break;
        }
        case 14: {  // change the indentation of a line
            if (below(s, 2))
                lines[li] = std::string(1 + below(s, 4), below(s, 4) ? ' ' : '\t') + lines[li];
            else if (!lines[li].empty() && lines[li][0] == ' ')
                lines[li].erase(0, std::min(lines[li].size(), 1 + below(s, 4)));
            break;
        }
        default: {  // a second document, a directive or an anchor at a random place
            const char* extra[] = {
                "---",           "...",   "%YAML 1.2", "%TAG ! tag:x,2000:", "&a", "*a", "<<: *a",
                "? [a, b]\n: c", "!!map", "- - -"};
            lines.insert(lines.begin() + long(li), extra[below(s, 10)]);
            break;
        }
    }
    return join_lines(lines);
}

std::string demangle(const char* name) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> d(abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                             std::free);
    return status == 0 && d ? d.get() : name;
}

}  // namespace

const char* to_string(loader_kind k) {
    switch (k) {
        case loader_kind::platform:
            return "platform";
        case loader_kind::workload:
            return "workload";
        case loader_kind::sweep:
            return "sweep";
        case loader_kind::model:
            return "model";
        case loader_kind::serving:
            return "serving";
        case loader_kind::trace:
            return "trace";
    }
    return "";
}

const char* corpus_folder(loader_kind k) {
    switch (k) {
        case loader_kind::platform:
            return "platforms";
        case loader_kind::workload:
            return "workloads";
        case loader_kind::sweep:
            return "sweeps";
        case loader_kind::model:
            return "models";
        case loader_kind::serving:
        case loader_kind::trace:
            return "serving";
    }
    return "";
}

const char* corpus_extension(loader_kind k) {
    return k == loader_kind::trace ? ".csv" : ".yaml";
}

void load_with(loader_kind k, const std::string& text, const std::string& base_dir) {
    switch (k) {
        case loader_kind::platform:
            platform::load_platform_text(text, fuzz_source);
            break;
        case loader_kind::workload: {
            // The precision pass rewrites what the loader accepted, so it is fuzzed with it.
            static const platform::platform_config tiny = platform::load_platform("tiny");
            graph::apply_precision(graph::load_workload_text(text, fuzz_source), tiny, false);
            break;
        }
        case loader_kind::sweep:
            tools::load_sweep_text(text, fuzz_source, base_dir);
            break;
        case loader_kind::model:
            serving::load_model_text(text, fuzz_source);
            break;
        case loader_kind::serving:
            serving::load_serving_text(text, base_dir + "/" + fuzz_source);
            break;
        case loader_kind::trace:
            serving::load_trace_text(text, fuzz_source);
            break;
    }
}

std::string classify(loader_kind k, const std::string& text, const std::string& base_dir,
                     bool* rejected) {
    if (rejected) *rejected = false;
    try {
        load_with(k, text, base_dir);
        return "";
    } catch (const platform::config_error& e) {
        if (rejected) *rejected = true;
        const std::string what = e.what();
        // Bad input must be reported at a place (file or flag) and in the loader's own words.
        if (what.find(": error: ") == std::string::npos || what.rfind(": error: ", 0) == 0)
            return "config_error without a place: " + what;
        for (const char* leak : {"yaml-cpp", "bad conversion", "bad_alloc", "basic_string"})
            if (what.find(leak) != std::string::npos)
                return "config_error leaking an internal error: " + what;
        return "";
    } catch (const YAML::Exception& e) {
        return demangle(typeid(e).name()) + ": " + e.what();
    } catch (const std::exception& e) {
        return demangle(typeid(e).name()) + ": " + e.what();
    } catch (...) {
        return "an exception of unknown type";
    }
}

std::vector<std::string> read_corpus(const std::string& dir, const std::string& ext) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        if (e.path().extension() == ext) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    std::vector<std::string> texts;
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        texts.push_back(ss.str());
    }
    return texts;
}

std::vector<std::string> extra_seeds(loader_kind k) {
    if (k == loader_kind::workload)
        return {
            "schema: npusim.workload/1\nname: extra\nprecision: auto\ntensors:\n"
            "  x: {shape: [8, 16], dtype: fp16, init: random, seed: 1}\n"
            "  g: {shape: [16], dtype: fp16, init: ones}\n"
            "  w: {shape: [16, 8], dtype: fp16, init: random, seed: 2, scale: 0.5}\n"
            "  n: {shape: [8, 16], dtype: fp16}\n"
            "  y: {shape: [8, 8], dtype: fp16}\n"
            "  e: {shape: [8, 8], dtype: fp16}\n"
            "ops:\n"
            "  - {op: rmsnorm, inputs: [x, g], outputs: [n]}\n"
            "  - {op: matmul, inputs: [n, w], outputs: [y], precision: int8}\n"
            "  - {op: exp, inputs: [y], outputs: [e], precision: fp32}\n"};
    if (k != loader_kind::sweep) return {};
    return {
        "schema: npusim.sweep/1\nname: extra\nplatform: tiny\nworkloads: [mlp]\n"
        "set: {gm.bandwidth: 1TB/s}\ntiming_only: true\ntimeout: 30\n"
        "parameters:\n  - range:\n      chip.cores: {from: 1, to: 4, step: 1}\n"
        "  - zip:\n      l2.size: [1MiB, 2MiB]\n      l2.ways: [8, 16]\n"
        "metrics: [sim_time_ns, wall_s]\n"};
}

std::string mutate(const std::string& text, const std::vector<std::string>& corpus,
                   uint64_t& rng_state) {
    std::string t = text;
    const size_t n = 1 + below(rng_state, 4);
    for (size_t i = 0; i < n; ++i) t = mutate_once(t, corpus, rng_state);
    return t;
}

fuzz_stats run(loader_kind k, const std::vector<std::string>& corpus, const std::string& base_dir,
               uint64_t seed, uint64_t cases, double deadline_s,
               const std::function<void(const std::string&)>& on_case) {
    fuzz_stats st;
    std::set<std::string> seen;
    uint64_t rng = seed;
    const auto t0 = std::chrono::steady_clock::now();
    for (uint64_t i = 0; deadline_s > 0 || i < cases; ++i) {
        if (deadline_s > 0 && (i % 64) == 0 &&
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() >
                deadline_s)
            break;
        const std::string input = mutate(corpus[below(rng, corpus.size())], corpus, rng);
        if (on_case) on_case(input);
        bool rejected = false;
        const std::string bad = classify(k, input, base_dir, &rejected);
        ++st.cases;
        if (!bad.empty()) {
            // One finding per kind of message: positions and numbers vary between cases.
            std::string shape = bad.substr(0, bad.find('\n'));
            for (char& c : shape)
                if (c >= '0' && c <= '9') c = '#';
            if (seen.insert(shape).second) st.findings.push_back({bad, input, i});
        } else if (rejected) {
            ++st.rejected;
        } else {
            ++st.loaded;
        }
    }
    return st;
}

}  // namespace npusim::fuzz
