// A small, strict reader of the YAML that PyYAML's yaml.dump writes for the official TRM run config
// (all_config.yaml): block mappings and block sequences by indentation, plain, single- and double-quoted scalars
// (long ones folded onto more-indented lines), and the empty flow collections [] and {}. Anything else (anchors,
// aliases, tags, block scalars, non-empty flow collections, several documents) is refused with the line and what
// was found, rather than guessed at.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace trm {

// Scalars become null (null, ~, empty), bools (true/false in any of YAML's three capitalisations), integers,
// floats (with '.', an exponent, or .inf/.nan) or strings; quoted scalars are always strings. Throws trm::Error
// "label:LINE: ..." on anything outside the subset.
nlohmann::json parse_yaml_subset(const std::string& text, const std::string& label);

}  // namespace trm
