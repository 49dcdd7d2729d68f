#pragma once
// A deterministic mutation fuzzer for the YAML loaders (platform, workload, sweep, model).
// Seeded from the shipped YAML files; each case applies a few mutations (byte flips, line
// deletion/duplication/swaps, key swaps, interesting values, type confusion, invalid UTF-8,
// deep nesting) and loads the result. The only acceptable outcomes are success or a
// platform::config_error whose message starts with the source name; anything else is a finding.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace npusim::fuzz {

/// @brief Which loader a run exercises.
enum class loader_kind { platform, workload, sweep, model, serving, trace };

/// @brief "platform", "workload", "sweep", "model", "serving" or "trace".
const char* to_string(loader_kind k);
/// @brief Where the kind's corpus lives under configs/ ("platforms", ...; serving files and
/// traces are both in "serving").
const char* corpus_folder(loader_kind k);
/// @brief ".yaml", or ".csv" for traces.
const char* corpus_extension(loader_kind k);

/// @brief One unacceptable outcome: the exception type and message, and the input.
struct finding {
    std::string what;   ///< "std::invalid_argument: ..." or "config_error without file: ..."
    std::string input;  ///< the mutated YAML text
    uint64_t index = 0;
};

/// @brief Counts of one run.
struct fuzz_stats {
    uint64_t cases = 0, loaded = 0, rejected = 0;
    std::vector<finding> findings;  ///< distinct by `what`'s first line
};

/// @brief The name loaded inputs carry in error messages.
inline constexpr const char* fuzz_source = "fuzz-input.yaml";

/// @brief Loads `text` with the given loader (`base_dir` resolves a sweep's or a serving
/// file's relative paths).
/// @throws whatever the loader throws.
void load_with(loader_kind k, const std::string& text, const std::string& base_dir);

/// @brief Runs `text` through the loader and classifies the outcome: "" if it loaded or was
/// rejected with a proper config_error (`*rejected` tells which), else the finding's text.
std::string classify(loader_kind k, const std::string& text, const std::string& base_dir,
                     bool* rejected = nullptr);

/// @brief The seed corpus of a kind: every file ending in `ext` under `dir`, sorted by name.
std::vector<std::string> read_corpus(const std::string& dir, const std::string& ext = ".yaml");

/// @brief Hand-written seeds that reach what the shipped files do not use (for sweeps: range,
/// zip, set and timeout), to add to the corpus.
std::vector<std::string> extra_seeds(loader_kind k);

/// @brief Mutates `text` deterministically from `rng_state` (1-4 mutations).
std::string mutate(const std::string& text, const std::vector<std::string>& corpus,
                   uint64_t& rng_state);

/// @brief Runs `cases` cases (or until `deadline_s` seconds of wall time pass, if > 0) from
/// `seed`. `on_case` (optional) sees each input before it is loaded, e.g. to save it.
fuzz_stats run(loader_kind k, const std::vector<std::string>& corpus, const std::string& base_dir,
               uint64_t seed, uint64_t cases, double deadline_s = 0,
               const std::function<void(const std::string&)>& on_case = {});

}  // namespace npusim::fuzz
