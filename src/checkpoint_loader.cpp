// Official TRM checkpoints as models (checkpoint_loader.h).
#include "checkpoint_loader.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "json_read.h"
#include "yaml_subset.h"

namespace trm {

namespace {

// Prefixes the official training wraps keys in (torch.compile's _orig_mod., the loss head's model., the ACT
// wrapper's inner.), and buffers a state dict may carry that are not weights (the official code marks them
// non-persistent, older runs did not).
const char* const kPrefixes[] = {"_orig_mod.", "model.", "inner."};
const char* const kIgnoredBuffers[] = {"rotary_emb.cos_cached", "rotary_emb.sin_cached", "rotary_emb.inv_freq",
                                       "puzzle_emb.local_weights", "puzzle_emb.local_ids"};
const char* const kTrmArch = "recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1";

std::string strip_prefixes(std::string key) {
    for (bool changed = true; changed;) {
        changed = false;
        for (const char* p : kPrefixes)
            if (key.rfind(p, 0) == 0) { key.erase(0, std::strlen(p)); changed = true; }
    }
    return key;
}

std::string shape_str(const std::vector<int64_t>& s) {
    std::string r = "[";
    for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
    return r + "]";
}

std::string basename_of(const std::string& path) {
    const size_t s = path.find_last_of('/');
    return s == std::string::npos ? path : path.substr(s + 1);
}
std::string dirname_of(const std::string& path) {
    const size_t s = path.find_last_of('/');
    return s == std::string::npos ? "." : path.substr(0, s);
}

// The task a run trained on, from its data paths or project name (the official dataset folders are named after
// it), else from the vocabulary the official dataset builders use. Empty if neither says.
std::string task_of_run(const nlohmann::json& doc, int vocab, std::string* evidence) {
    std::vector<std::string> names;
    if (doc.contains("data_paths") && doc["data_paths"].is_array())
        for (const auto& p : doc["data_paths"]) if (p.is_string()) names.push_back(p.get<std::string>());
    if (doc.contains("project_name") && doc["project_name"].is_string()) names.push_back(doc["project_name"].get<std::string>());
    for (const std::string& n : names) {
        std::string l = n;
        std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return char(std::tolower(c)); });
        for (const char* t : {"sudoku", "maze", "arc"})
            if (l.find(t) != std::string::npos) { *evidence = "named by '" + n + "'"; return t; }
    }
    const std::map<int, std::string> by_vocab = {{11, "sudoku"}, {6, "maze"}, {12, "arc"}};
    auto it = by_vocab.find(vocab);
    if (it != by_vocab.end()) { *evidence = "vocab_size " + std::to_string(vocab); return it->second; }
    return "";
}

// A torch.save file: a zip, or the legacy format of torch < 1.6 (refused by name when read), which starts with
// a protocol-2 pickle of torch's magic number 0x1950a86a20f9469cfc6c.
bool torch_file(const ByteSource& src) {
    static const uint8_t kLegacyMagic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
    uint8_t head[sizeof kLegacyMagic] = {};
    if (src.size() >= sizeof head) src.read(0, sizeof head, head);
    return std::memcmp(head, kLegacyMagic, sizeof head) == 0 || looks_like_zip(src);
}

std::string guess_task(const Config& c) {
    if (c.seq_len == 81 && c.vocab_size == 11) return "sudoku";
    if (c.seq_len == 900 && c.vocab_size == 6) return "maze";
    if (c.seq_len == 900 && c.vocab_size == 12) return "arc";
    return "generic";
}

struct Named {
    std::string name;  // after the prefixes are removed
    const CheckpointTensor* t;
};

const Named* find(const std::vector<Named>& v, const std::string& name) {
    for (const Named& n : v) if (n.name == name) return &n;
    return nullptr;
}

// The architecture: the config's arch section, then tensors' shapes, dataset.json and the task for what it lacks.
Config resolve_config(const CheckpointInputs& in, const std::vector<Named>& tensors, const std::string& ckpt, std::vector<std::string>& notes) {
    const std::string& cl = in.config_label;
    nlohmann::json doc;
    const size_t first = in.config_text.find_first_not_of(" \t\r\n");
    const bool json = first != std::string::npos && in.config_text[first] == '{';
    if (json) {
        doc = parse_json(in.config_text, cl);
        if (doc.is_discarded() || !doc.is_object()) throw Error(cl + ": not a JSON object");
    } else {
        doc = parse_yaml_subset(in.config_text, cl);
    }
    // A JSON config the user wrote may be the arch fields themselves; a run config has them under 'arch'.
    nlohmann::json arch;
    if (doc.is_object() && doc.contains("arch")) arch = doc["arch"];
    else if (json) arch = doc;
    if (!arch.is_object()) throw Error(cl + ": no 'arch' mapping; expected the run's all_config.yaml");
    if (arch.contains("name") && arch["name"] != kTrmArch)
        throw Error(cl + ": arch.name is " + arch["name"].dump() + "; expected \"" + kTrmArch + "\" (this engine runs TRM)");

    nlohmann::json c = nlohmann::json::object();
    for (const char* k : {"hidden_size", "num_heads", "expansion", "L_layers", "H_cycles", "L_cycles", "halt_max_steps",
                          "pos_encodings", "mlp_t", "puzzle_emb_ndim", "puzzle_emb_len", "rms_norm_eps", "rope_theta",
                          "seq_len", "vocab_size", "num_puzzle_identifiers"})
        if (arch.contains(k) && !arch[k].is_null()) c[k] = arch[k];
    // The official model's defaults for what a run config leaves out.
    if (!c.contains("mlp_t")) c["mlp_t"] = false;
    if (!c.contains("puzzle_emb_ndim")) c["puzzle_emb_ndim"] = 0;
    if (!c.contains("rms_norm_eps")) c["rms_norm_eps"] = 1e-5;
    if (!c.contains("rope_theta")) c["rope_theta"] = 10000.0;
    const bool has_puzzle_emb = c["puzzle_emb_ndim"].is_number_integer() && c["puzzle_emb_ndim"].get<int64_t>() > 0;
    if (!c.contains("puzzle_emb_len")) c["puzzle_emb_len"] = has_puzzle_emb ? 16 : 0;

    nlohmann::json dataset;
    if (!in.dataset_text.empty()) {
        dataset = parse_json(in.dataset_text, in.dataset_label);
        if (dataset.is_discarded() || !dataset.is_object()) throw Error(in.dataset_label + ": not a JSON object; expected the dataset's dataset.json");
    }
    auto from_dataset = [&](const char* k) -> int64_t {
        if (dataset.is_null() || !dataset.contains(k)) return -1;
        if (!dataset[k].is_number_integer() || dataset[k].get<int64_t>() < 0)
            throw Error(in.dataset_label + ": field '" + k + "' is " + dataset[k].dump() + "; expected a non-negative integer");
        return dataset[k].get<int64_t>();
    };
    // A size the tensors determine wins; dataset.json must then agree with it.
    auto settle = [&](const char* k, int64_t from_tensor, const std::string& which) {
        const int64_t ds = from_dataset(k);
        if (c.contains(k)) return;
        if (from_tensor >= 0) {
            if (ds >= 0 && ds != from_tensor)
                throw Error(in.dataset_label + ": " + k + " is " + std::to_string(ds) + " but " + ckpt + " tensor '" + which + "' implies " + std::to_string(from_tensor));
            c[k] = from_tensor;
        } else if (ds >= 0) {
            c[k] = ds;
        }
    };

    const Named* emb = find(tensors, "embed_tokens.embedding_weight");
    settle("vocab_size", emb && emb->t->shape.size() == 2 ? emb->t->shape[0] : -1, "embed_tokens.embedding_weight");
    const Named* pe = find(tensors, "puzzle_emb.weights");
    settle("num_puzzle_identifiers", has_puzzle_emb && pe && pe->t->shape.size() == 2 ? pe->t->shape[0] : -1, "puzzle_emb.weights");
    if (!c.contains("num_puzzle_identifiers") && !has_puzzle_emb) c["num_puzzle_identifiers"] = 1;  // the blank id

    // seq_len: learned positions and the token-mixing MLP have tensors as long as the sequence plus the prefix.
    int64_t prefix = -1;
    if (c["puzzle_emb_len"].is_number_integer() && c["hidden_size"].is_number_integer() && c["hidden_size"].get<int64_t>() > 0) {
        const int64_t len = c["puzzle_emb_len"].get<int64_t>(), nd = c["puzzle_emb_ndim"].is_number_integer() ? c["puzzle_emb_ndim"].get<int64_t>() : 0;
        const int64_t D = c["hidden_size"].get<int64_t>();
        prefix = len > 0 ? len : (nd + D - 1) / D;
    }
    int64_t seq_from_tensor = -1;
    std::string seq_tensor;
    for (const char* name : {"embed_pos.embedding_weight", "L_level.layers.0.mlp_t.down_proj.weight"}) {
        const Named* t = find(tensors, name);
        if (t && !t->t->shape.empty() && prefix >= 0 && t->t->shape[0] > prefix) {
            seq_from_tensor = t->t->shape[0] - prefix;
            seq_tensor = name;
            break;
        }
    }
    settle("seq_len", seq_from_tensor, seq_tensor);
    if (!c.contains("seq_len")) {
        std::string evidence;
        const int vocab = c.contains("vocab_size") && c["vocab_size"].is_number_integer() ? c["vocab_size"].get<int>() : 0;
        const std::string task = !in.task.empty() ? in.task : task_of_run(doc, vocab, &evidence);
        const std::optional<TaskKind> kind = parse_task_kind(task);
        if (kind == TaskKind::Sudoku) c["seq_len"] = 81;
        else if (kind == TaskKind::Maze || kind == TaskKind::Arc) c["seq_len"] = 900;
        else
            throw Error(cl + ": arch lacks seq_len, the tensors do not determine it and the task is not known from data_paths or vocab_size; "
                        "expected dataset.json (--dataset) or --task sudoku|maze|arc");
        if (evidence.empty()) evidence = "given as --task";
        notes.push_back("seq_len " + c["seq_len"].dump() + " assumed for the " + task + " task (" + evidence + "): " + basename_of(cl) +
                        " lacks it and the tensors do not determine it; --dataset dataset.json sets it");
    }
    try {
        return Config::from_json(c.dump(), cl);
    } catch (const Error& e) {  // from_json names the weight file's field; here the field is the config's arch
        std::string m = e.what();
        const std::string from = cl + ": metadata 'config'";
        if (m.compare(0, from.size(), from) == 0) m = cl + ": arch" + m.substr(from.size());
        throw Error(m);
    }
}

// identifiers.json with only the wanted tasks' names: every other name becomes "" (never a task id: read_lines drops
// empty lines), so that the names parsed next cost a few bytes each, not a tree of a million strings (an ARC run's
// file holds one name per augmented copy of every task). Anything but a flat list of strings comes back unchanged,
// for the parser to refuse by name. nlohmann's SAX parser keeps no tree and does not recurse.
std::string blank_unwanted_names(const std::string& text, const std::set<std::string>& wanted) {
    struct Names : nlohmann::json_sax<nlohmann::json> {
        const std::set<std::string>& wanted;
        std::string out = "[";
        int depth = 0;
        explicit Names(const std::set<std::string>& w) : wanted(w) {}
        bool start_array(std::size_t) override { return ++depth == 1; }
        bool end_array() override { --depth; return true; }
        bool string(string_t& s) override {
            if (depth != 1) return false;
            if (out.size() > 1) out += ',';
            out += wanted.count(s.substr(0, s.find("|||"))) ? nlohmann::json(s).dump() : "\"\"";
            return true;
        }
        bool null() override { return false; }
        bool boolean(bool) override { return false; }
        bool number_integer(number_integer_t) override { return false; }
        bool number_unsigned(number_unsigned_t) override { return false; }
        bool number_float(number_float_t, const string_t&) override { return false; }
        bool binary(binary_t&) override { return false; }
        bool start_object(std::size_t) override { return false; }
        bool key(string_t&) override { return false; }
        bool end_object() override { return false; }
        bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }
    } names(wanted);
    if (!nlohmann::json::sax_parse(text, &names) || names.depth != 0) return text;
    return names.out + "]";
}

std::vector<std::string> read_lines(const std::string& text) {
    std::vector<std::string> r;
    size_t p = 0;
    while (p < text.size()) {
        size_t e = text.find('\n', p);
        if (e == std::string::npos) e = text.size();
        std::string s = text.substr(p, e - p);
        const size_t a = s.find_first_not_of(" \t\r"), b = s.find_last_not_of(" \t\r");
        if (a != std::string::npos) r.push_back(s.substr(a, b - a + 1));
        p = e + 1;
    }
    return r;
}

uint16_t f32_to_f16(float f) {  // round to nearest even; the caller refuses values beyond the F16 range
    uint32_t x;
    std::memcpy(&x, &f, 4);
    const uint32_t sign = (x >> 16) & 0x8000;
    const int32_t exp = int32_t((x >> 23) & 0xff) - 127 + 15;
    uint32_t mant = x & 0x7fffff;
    if (((x >> 23) & 0xff) == 0xff) return uint16_t(sign | 0x7c00 | (mant ? 0x200 : 0));
    if (exp >= 31) return uint16_t(sign | 0x7c00);
    if (exp <= 0) {  // subnormal or zero
        if (exp < -10) return uint16_t(sign);
        mant |= 0x800000;
        const int shift = 14 - exp;
        uint32_t h = mant >> shift;
        const uint32_t rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1))) ++h;
        return uint16_t(sign | h);
    }
    uint32_t h = (uint32_t(exp) << 10) | (mant >> 13);
    const uint32_t rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) ++h;  // may carry into the exponent, as it should
    return uint16_t(sign | h);
}

uint16_t f32_to_bf16(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    if ((x & 0x7fffffff) > 0x7f800000) return uint16_t((x >> 16) | 0x40);  // NaN stays NaN
    x += 0x7fff + ((x >> 16) & 1);
    return uint16_t(x >> 16);
}

std::vector<float> to_f32(const WeightSet::Tensor& t) {
    TensorView v{t.name, t.dtype, t.shape, t.data.data(), t.data.size()};
    std::vector<float> out(size_t(v.numel()));
    convert_to_f32(v, out.data());
    return out;
}

}  // namespace

WeightSet read_official_checkpoint(const ByteSource& src, const CheckpointInputs& in) {
    const std::string& f = src.label();
    const TorchCheckpoint ck = read_torch_checkpoint(src);
    std::vector<Named> tensors;
    std::set<std::string> names;  // by set, not find(): a hostile state dict may hold millions of keys
    for (const CheckpointTensor& t : ck.tensors) {
        const std::string name = strip_prefixes(t.key);
        if (std::find(std::begin(kIgnoredBuffers), std::end(kIgnoredBuffers), name) != std::end(kIgnoredBuffers)) continue;
        if (t.integer) throw Error(f + ": tensor '" + t.key + "' holds integers; TRM weights are F32, BF16 or F16");
        if (!names.insert(name).second) throw Error(f + ": two keys become '" + name + "' once the prefixes _orig_mod., model., inner. are removed");
        tensors.push_back({name, &t});
    }
    WeightSet w;
    Config cfg = resolve_config(in, tensors, f, w.notes);

    // Every tensor checked against the configuration before any data is read.
    const std::vector<WeightShape> want = weight_shapes(cfg);
    for (const Named& n : tensors) {
        auto it = std::find_if(want.begin(), want.end(), [&](const WeightShape& s) { return s.name == n.name; });
        if (it == want.end()) throw Error(f + ": unexpected tensor '" + n.t->key + "' " + shape_str(n.t->shape) + " (not a TRM weight for the config in " + basename_of(in.config_label) + ")");
        if (n.t->shape != it->shape)
            throw Error(f + ": tensor '" + n.t->key + "' has shape " + shape_str(n.t->shape) + "; the config in " + basename_of(in.config_label) + " implies " + shape_str(it->shape));
    }
    for (const WeightShape& s : want)
        if (!find(tensors, s.name)) throw Error(f + ": missing tensor '" + s.name + "' (expected shape " + shape_str(s.shape) + ")");

    // ARC: the rows to keep, by the names in identifiers.json.
    std::vector<int64_t> rows;
    nlohmann::json task = {{"kind", !in.task.empty() ? in.task : guess_task(cfg)}};
    if (!in.task.empty() && !parse_task_kind(in.task)) throw Error("--task: '" + in.task + "'; expected " + kTaskKindList);
    if (!in.keep_text.empty() && in.identifiers_text.empty()) throw Error(in.keep_label + ": keeping puzzles needs the run's identifiers.json (--identifiers)");
    if (!in.identifiers_text.empty()) {
        std::set<std::string> wanted;
        if (!in.keep_text.empty()) for (const std::string& l : read_lines(in.keep_text)) wanted.insert(l);
        const std::string kept_names = in.keep_text.empty() ? std::string() : blank_unwanted_names(in.identifiers_text, wanted);
        const nlohmann::json names = parse_json(in.keep_text.empty() ? in.identifiers_text : kept_names, in.identifiers_label);
        if (names.is_discarded() || !names.is_array()) throw Error(in.identifiers_label + ": expected a JSON list of names (index = puzzle_emb row)");
        if (cfg.puzzle_emb_ndim == 0) throw Error(in.identifiers_label + ": the model has no puzzle embedding (puzzle_emb_ndim is 0)");
        if (names.size() != size_t(cfg.num_puzzle_identifiers))
            throw Error(in.identifiers_label + ": " + std::to_string(names.size()) + " names; expected " + std::to_string(cfg.num_puzzle_identifiers) + " (rows of puzzle_emb.weights)");
        for (const auto& n : names) if (!n.is_string()) throw Error(in.identifiers_label + ": expected a JSON list of strings");
        nlohmann::json kept = nlohmann::json::array();
        for (size_t i = 0; i < names.size(); ++i) {
            const std::string n = names[i].get<std::string>();
            if (in.keep_text.empty() || wanted.count(n.substr(0, n.find("|||")))) { rows.push_back(int64_t(i)); kept.push_back(n); }
        }
        if (rows.empty()) throw Error(in.keep_label + ": none of its " + std::to_string(wanted.size()) + " task ids names a row of " + in.identifiers_label);
        task["puzzle_identifiers"] = kept;
    }

    // What is read: each tensor whole, but of a puzzle-embedding table being subset only the kept rows.
    auto subset = [&](const WeightShape& s) { return s.name == "puzzle_emb.weights" && !rows.empty() && rows.size() != size_t(find(tensors, s.name)->t->shape[0]); };
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (const WeightShape& s : want) {
        const CheckpointTensor& t = *find(tensors, s.name)->t;
        const uint64_t row_bytes = t.shape.size() == 2 ? uint64_t(t.shape[1]) * dtype_size(t.dtype) : 0;
        if (subset(s)) for (int64_t r : rows) ranges.push_back({t.offset + uint64_t(r) * row_bytes, row_bytes});
        else ranges.push_back({t.offset, t.nbytes});
    }
    src.need(ranges);
    size_t k = 0;
    for (const WeightShape& s : want) {
        const CheckpointTensor& t = *find(tensors, s.name)->t;
        WeightSet::Tensor out{s.name, t.dtype, t.shape, {}};
        const size_t pieces = subset(s) ? rows.size() : 1;
        if (subset(s)) out.shape[0] = int64_t(rows.size());
        for (size_t i = 0; i < pieces; ++i, ++k) {
            const size_t at = out.data.size();
            out.data.resize(at + size_t(ranges[k].second));
            src.read(ranges[k].first, size_t(ranges[k].second), out.data.data() + at);
        }
        w.tensors.push_back(std::move(out));
    }
    if (!rows.empty()) cfg.num_puzzle_identifiers = int(rows.size());

    nlohmann::ordered_json source = {{"converted_from", basename_of(dirname_of(f)) + "/" + basename_of(f)},
                                     {"config", basename_of(in.config_label)}, {"converter", "trm (src/checkpoint_loader.cpp)"}};
    if (!in.dataset_text.empty()) source["dataset"] = basename_of(in.dataset_label);
    if (!w.notes.empty()) source["assumed"] = w.notes;
    w.metadata = {{"format", "trm/1"}, {"config", cfg.to_json()}, {"task", task.dump()}, {"source", source.dump()}};
    return w;
}

WeightSet read_weight_file(const std::string& path) {
    const std::vector<uint8_t> bytes = read_file(path);
    const SafetensorsFile file = parse_safetensors(bytes.data(), bytes.size(), path);
    Model::load(bytes.data(), bytes.size(), path, false);  // the whole check, before its tensors are copied
    WeightSet w;
    for (const auto& [k, v] : file.metadata) w.metadata.push_back({k, v});
    for (const TensorView& t : file.tensors) {
        if (t.dtype == DType::I8) throw Error(path + ": tensor '" + t.name + "' is already I8; convert from a float file");
        w.tensors.push_back({t.name, t.dtype, t.shape, std::vector<uint8_t>(t.data, t.data + t.nbytes)});
    }
    return w;
}

std::vector<uint8_t> weight_file_bytes(const WeightSet& w, const std::string& dtype, const std::string& label) {
    if (dtype != "" && dtype != "f32" && dtype != "f16" && dtype != "bf16" && dtype != "int8")
        throw Error("--dtype: '" + dtype + "'; expected f32, f16, bf16 or int8");
    SafetensorsWriter out;
    for (const auto& [k, v] : w.metadata) {
        if (k != "source" || dtype.empty()) { out.set_metadata(k, v); continue; }
        // say what this conversion did, as scripts/quantize.py does
        nlohmann::json s = parse_json(v, "source");
        if (s.is_object()) { s["dtype"] = dtype; out.set_metadata(k, s.dump()); }
        else out.set_metadata(k, v + "; converted to " + dtype + " by trm convert");
    }
    for (const WeightSet::Tensor& t : w.tensors) {
        if (dtype.empty()) { out.add(t.name, t.dtype, t.shape, t.data.data()); continue; }
        const std::vector<float> x = to_f32(t);
        if (dtype == "f32" || (dtype == "int8" && t.shape.size() != 2)) {
            out.add(t.name, DType::F32, t.shape, x.data());
        } else if (dtype == "f16") {
            std::vector<uint16_t> h(x.size());
            for (size_t i = 0; i < x.size(); ++i) {
                if (std::fabs(x[i]) > 65504.f) throw Error(label + ": tensor '" + t.name + "' holds " + std::to_string(x[i]) + ", beyond the F16 range (65504)");
                h[i] = f32_to_f16(x[i]);
            }
            out.add(t.name, DType::F16, t.shape, h.data());
        } else if (dtype == "bf16") {
            std::vector<uint16_t> h(x.size());
            for (size_t i = 0; i < x.size(); ++i) h[i] = f32_to_bf16(x[i]);
            out.add(t.name, DType::BF16, t.shape, h.data());
        } else {  // int8, per row, as scripts/quantize.py
            const int64_t R = t.shape[0], C = t.shape[1];
            std::vector<int8_t> q(x.size());
            std::vector<float> scale(static_cast<size_t>(R));
            for (int64_t r = 0; r < R; ++r) {
                float absmax = 0;
                for (int64_t c = 0; c < C; ++c) absmax = std::max(absmax, std::fabs(x[size_t(r * C + c)]));
                scale[size_t(r)] = absmax > 0 ? absmax / 127.f : 1.f;
                for (int64_t c = 0; c < C; ++c)
                    q[size_t(r * C + c)] = int8_t(std::clamp<long>(std::lrint(x[size_t(r * C + c)] / scale[size_t(r)]), -127, 127));
            }
            out.add(t.name, DType::I8, t.shape, q.data());
            out.add(t.name + ".scale", DType::F32, {R}, scale.data());
        }
    }
    return out.bytes();
}

CheckpointInputs checkpoint_inputs(const std::string& checkpoint_path, const LoadOptions& o) {
    auto text = [](const std::string& path) {
        const std::vector<uint8_t> b = read_file(path);
        return std::string(b.begin(), b.end());
    };
    CheckpointInputs in;
    in.config_label = o.config_path.empty() ? dirname_of(checkpoint_path) + "/all_config.yaml" : o.config_path;
    try {
        in.config_text = text(in.config_label);
    } catch (const Error&) {
        if (!o.config_path.empty()) throw;
        throw Error(checkpoint_path + ": a PyTorch checkpoint needs its run's all_config.yaml (--config FILE); none found at " + in.config_label);
    }
    if (!o.dataset_path.empty()) { in.dataset_label = o.dataset_path; in.dataset_text = text(o.dataset_path); }
    if (!o.identifiers_path.empty()) { in.identifiers_label = o.identifiers_path; in.identifiers_text = text(o.identifiers_path); }
    if (!o.keep_puzzles_path.empty()) {
        in.keep_label = o.keep_puzzles_path;
        in.keep_text = text(o.keep_puzzles_path);
        if (read_lines(in.keep_text).empty()) throw Error(o.keep_puzzles_path + ": no task ids; expected one per line");
    }
    in.task = o.task;
    return in;
}

namespace {
std::shared_ptr<const Model> model_of(WeightSet w, const std::string& label, bool simd_kernels, std::vector<std::string>* notes) {
    const std::vector<uint8_t> bytes = weight_file_bytes(w, "", label);
    w.tensors.clear();  // the model keeps its own float copy
    if (notes) *notes = w.notes;
    return Model::load(bytes.data(), bytes.size(), label, simd_kernels);
}
}  // namespace

std::shared_ptr<const Model> load_model(const std::string& path, const LoadOptions& o, bool simd_kernels, std::vector<std::string>* notes) {
    FileSource src(path);
    if (!torch_file(src)) {
        if (o.any()) throw Error(path + ": --config, --dataset, --identifiers, --keep-puzzles and --task apply to PyTorch checkpoints; this is not a zip file");
        return Model::load_file(path, simd_kernels);
    }
    return model_of(read_official_checkpoint(src, checkpoint_inputs(path, o)), path, simd_kernels, notes);
}

std::shared_ptr<const Model> load_checkpoint_pieces(PieceSource& src, const CheckpointInputs& in, bool simd_kernels, std::vector<std::string>* notes) {
    WeightSet w = read_official_checkpoint(src, in);
    src.release();
    return model_of(std::move(w), src.label(), simd_kernels, notes);
}

// ---------------------------------------------------------------------------------------------------------------
// Command line

namespace {
LoadOptions load_options(const std::map<std::string, std::string>& opt, bool with_task) {
    auto get = [&](const char* k) { auto it = opt.find(k); return it == opt.end() ? std::string() : it->second; };
    LoadOptions o{get("--config"), get("--dataset"), get("--identifiers"), get("--keep-puzzles"), with_task ? get("--task") : ""};
    return o;
}
}  // namespace

bool is_load_option(const std::string& name) {
    return name == "--config" || name == "--dataset" || name == "--identifiers" || name == "--keep-puzzles";
}

std::shared_ptr<const Model> load_model_for_cli(const std::string& path, const std::map<std::string, std::string>& opt, bool simd_kernels) {
    std::vector<std::string> notes;
    auto m = load_model(path, load_options(opt, false), simd_kernels, &notes);
    for (const std::string& n : notes) std::fprintf(stderr, "trm: note: %s\n", n.c_str());
    return m;
}

int convert_command(const std::vector<std::string>& pos, const std::map<std::string, std::string>& opt) {
    if (pos.size() != 1) throw Error("convert needs one input: a PyTorch checkpoint or a .safetensors weight file");
    for (const auto& [k, v] : opt)
        if (!is_load_option(k) && k != "--out" && k != "--dtype" && k != "--task") throw Error("unknown option " + k);
    auto out = opt.find("--out");
    if (out == opt.end()) throw Error("missing option --out");
    auto dt = opt.find("--dtype");
    const std::string dtype = dt == opt.end() ? "f32" : dt->second;
    if (dtype != "f32" && dtype != "f16" && dtype != "bf16" && dtype != "int8")
        throw Error("option --dtype = '" + dtype + "'; expected f32, f16, bf16 or int8");
    const std::string& in = pos[0];
    const LoadOptions o = load_options(opt, true);
    FileSource src(in);
    WeightSet w;
    if (torch_file(src)) {
        w = read_official_checkpoint(src, checkpoint_inputs(in, o));
    } else {
        if (o.any()) throw Error(in + ": --config, --dataset, --identifiers, --keep-puzzles and --task apply to PyTorch checkpoints; this is not a zip file");
        w = read_weight_file(in);
    }
    const std::vector<uint8_t> bytes = weight_file_bytes(w, dtype, in);
    Model::load(bytes.data(), bytes.size(), out->second, false);  // what is written must load
    write_file(out->second, bytes);
    for (const std::string& n : w.notes) std::fprintf(stderr, "trm: note: %s\n", n.c_str());
    std::printf("wrote %s: %zu bytes, %s\n", out->second.c_str(), bytes.size(), dtype.c_str());
    return 0;
}

}  // namespace trm
