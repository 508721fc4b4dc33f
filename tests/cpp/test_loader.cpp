// The loader refuses every malformed weight file with its own message, and loads a valid one exactly.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "test_util.h"

using namespace trm;
using nlohmann::json;

namespace {

// A weight file split into its header JSON and data region, so that tests can break one thing at a time.
struct Parts {
    json header;
    std::vector<uint8_t> data;
    static Parts of(const std::vector<uint8_t>& file) {
        uint64_t n = 0;
        for (int i = 7; i >= 0; --i) n = (n << 8) | file[size_t(i)];
        Parts p;
        p.header = json::parse(file.begin() + 8, file.begin() + 8 + long(n));
        p.data.assign(file.begin() + 8 + long(n), file.end());
        return p;
    }
    std::vector<uint8_t> bytes() const { return assemble(header.dump()); }
    std::vector<uint8_t> assemble(const std::string& h) const {
        std::vector<uint8_t> out(8);
        for (int i = 0; i < 8; ++i) out[size_t(i)] = uint8_t(uint64_t(h.size()) >> (8 * i));
        out.insert(out.end(), h.begin(), h.end());
        out.insert(out.end(), data.begin(), data.end());
        return out;
    }
};

std::vector<uint8_t> valid_file() { return test::tiny_model_writer(test::tiny_config()).bytes(); }

std::string load_error(const std::vector<uint8_t>& bytes) {
    try {
        Model::load(bytes.data(), bytes.size(), "bad.safetensors");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

// Replaces one tensor's entry with a tensor of another dtype/shape while keeping the data region consistent.
Parts with_config(const std::function<void(json&)>& edit) {
    Parts p = Parts::of(valid_file());
    json cfg = json::parse(p.header["__metadata__"]["config"].get<std::string>());
    edit(cfg);
    p.header["__metadata__"]["config"] = cfg.dump();
    return p;
}

}  // namespace

TEST_CASE("a valid file loads with the config's shapes and values", "[loader]") {
    const Config c = test::tiny_config();
    auto bytes = valid_file();
    auto m = Model::load(bytes.data(), bytes.size(), "tiny");
    CHECK(m->config().hidden_size == 8);
    CHECK(m->config().positions() == 8);
    CHECK(m->storage_dtype() == "F32");
    CHECK(m->task_kind() == TaskKind::Generic);
    // Values arrive unchanged: embed_tokens is the first tensor the writer filled, with seed 1.
    auto expect = test::random_vector(size_t(c.vocab_size) * c.hidden_size, 1, 0.2f);
    CHECK(std::memcmp(m->embed_tokens, expect.data(), expect.size() * 4) == 0);
}

TEST_CASE("F16 and BF16 values convert to float32 exactly", "[loader]") {
    CHECK(f16_to_f32(0x3c00) == 1.0f);
    CHECK(f16_to_f32(0xc000) == -2.0f);
    CHECK(f16_to_f32(0x0001) == Approx(5.960464477539063e-08));
    CHECK(bf16_to_f32(0x3f80) == 1.0f);
    CHECK(std::isinf(f16_to_f32(0x7c00)));
}

TEST_CASE("malformed weight files are refused, each with its own message", "[loader]") {
    const auto good = valid_file();
    struct Row { const char* what; std::vector<uint8_t> bytes; const char* message; };
    std::vector<Row> rows;
    rows.push_back({"empty file", {}, "needs at least the 8-byte header length"});
    rows.push_back({"truncated in the length field", std::vector<uint8_t>(good.begin(), good.begin() + 5), "needs at least"});
    rows.push_back({"truncated in the header", std::vector<uint8_t>(good.begin(), good.begin() + 40), "runs past the end of the file"});
    rows.push_back({"truncated in the data", std::vector<uint8_t>(good.begin(), good.end() - 9), "past the data region"});
    rows.push_back({"trailing bytes", [&] { auto b = good; b.push_back(0); return b; }(), "trailing bytes"});
    rows.push_back({"header length past the end", [&] { auto b = good; b[6] = 0x7f; return b; }(), "runs past the end of the file"});
    {
        Parts p = Parts::of(good);
        std::string h = p.header.dump();
        h.back() = ' ';  // the closing brace of the header object
        rows.push_back({"bad JSON", p.assemble(h), "not well-formed JSON"});
        rows.push_back({"JSON not an object", p.assemble("[1,2,3]"), "must be an object"});
    }
    auto edit = [&](const char* what, const std::function<void(Parts&)>& f, const char* message) {
        Parts p = Parts::of(good);
        f(p);
        rows.push_back({what, p.bytes(), message});
    };
    edit("unknown dtype", [](Parts& p) { p.header["H_init"]["dtype"] = "F64"; }, "dtype 'F64' is not one of");
    edit("wrong dtype for a weight", [](Parts& p) {
        auto& e = p.header["q_head.bias"];  // 2 floats = 8 bytes, the same bytes as 2 I32
        e["dtype"] = "I32";
    }, "'q_head.bias' has dtype I32; expected");
    edit("byte count not shape x dtype", [](Parts& p) { p.header["H_init"]["shape"] = {7}; }, "shape x dtype needs");
    edit("offsets out of range", [](Parts& p) {
        auto& o = p.header["L_init"]["data_offsets"];
        o[1] = o[1].get<uint64_t>() + 1000000;
    }, "past the data region");
    edit("offsets begin after end", [](Parts& p) {
        auto& o = p.header["L_init"]["data_offsets"];
        o = {o[1], o[0]};
    }, "is after end");
    edit("overlapping tensors", [](Parts& p) {
        // A second entry over L_init's bytes.
        p.header["L_init_twin"] = p.header["L_init"];
    }, "overlaps");
    edit("enormous claimed shape", [](Parts& p) { p.header["H_init"]["shape"] = {uint64_t(1) << 40, uint64_t(1) << 40}; }, "more elements than the file holds");
    edit("negative shape", [](Parts& p) { p.header["H_init"]["shape"] = {-8}; }, "non-negative integers");
    edit("missing tensor", [](Parts& p) {
        // Turn lm_head's entry into an unrelated name: the data stays covered, the name is gone.
        p.header["zzz.unused"] = p.header["lm_head.weight"];
        p.header.erase("lm_head.weight");
    }, "missing tensor 'lm_head.weight'");
    edit("extra tensor", [](Parts& p) {
        const uint64_t end = p.data.size();
        p.data.resize(end + 8);
        p.header["extra.weight"] = {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {end, end + 8}}};
    }, "unexpected tensor 'extra.weight'");
    edit("wrong shape", [](Parts& p) {
        p.header["q_head.weight"]["shape"] = {4, 4};  // same element count as [2, 8]
    }, "'q_head.weight' has shape [4, 4]; the config implies [2, 8]");
    edit("wrong format", [](Parts& p) { p.header["__metadata__"]["format"] = "trm/9"; }, "expected \"trm/1\"");
    edit("no config", [](Parts& p) { p.header["__metadata__"].erase("config"); }, "metadata 'config' is missing");
    edit("config not JSON", [](Parts& p) { p.header["__metadata__"]["config"] = "{hidden"; }, "'config' is not a JSON object");
    edit("task kind unknown", [](Parts& p) { p.header["__metadata__"]["task"] = "{\"kind\":\"chess\"}"; }, "expected sudoku, maze, arc or generic");
    edit("metadata value not a string", [](Parts& p) { p.header["__metadata__"]["source"] = 5; }, "__metadata__.source must be a string");
    edit("NaN in a weight", [](Parts& p) {
        const uint64_t at = p.header["L_init"]["data_offsets"][0].get<uint64_t>();
        const float nan = NAN;
        std::memcpy(p.data.data() + at + 4, &nan, 4);
    }, "'L_init' holds a non-finite value (NaN or Inf) at index 1");
    auto cfg = [&](const char* what, const std::function<void(json&)>& f, const char* message) {
        rows.push_back({what, with_config(f).bytes(), message});
    };
    cfg("config field missing", [](json& c) { c.erase("hidden_size"); }, "missing field 'hidden_size'");
    cfg("hidden not divisible by heads", [](json& c) { c["num_heads"] = 3; }, "not divisible by num_heads 3");
    cfg("zero size", [](json& c) { c["seq_len"] = 0; }, "'seq_len' = 0 is outside");
    cfg("non-integer size", [](json& c) { c["vocab_size"] = 5.5; }, "'vocab_size' must be an integer");
    cfg("unknown positions", [](json& c) { c["pos_encodings"] = "alibi"; }, "expected \"rope\", \"learned\" or \"none\"");
    cfg("config disagrees with tensors", [](json& c) { c["vocab_size"] = 6; }, "the config implies [6, 8]");

    for (const Row& r : rows) {
        INFO(r.what);
        const std::string msg = load_error(r.bytes);
        CHECK_THAT(msg, Catch::Contains(r.message));
        CHECK_THAT(msg, Catch::StartsWith("bad.safetensors: "));
    }
}

TEST_CASE("every truncation of a valid file is refused", "[loader]") {
    const auto good = valid_file();
    for (size_t n = 0; n < good.size(); n += 7) {
        std::vector<uint8_t> cut(good.begin(), good.begin() + long(n));
        INFO("length " << n);
        CHECK_FALSE(load_error(cut).empty());
    }
}

TEST_CASE("I8 matrices with per-row scales dequantise on load", "[loader]") {
    // Replace lm_head (V x D = 5 x 8) with an I8 matrix plus scales.
    const Config c = test::tiny_config();
    SafetensorsWriter w = test::tiny_model_writer(c);
    // A second writer identical except for lm_head.
    SafetensorsWriter q;
    std::vector<uint8_t> all = w.bytes();
    SafetensorsFile g = parse_safetensors(all.data(), all.size(), "x");
    for (const auto& [k, v] : g.metadata) q.set_metadata(k, v);
    std::vector<int8_t> qm(40);
    for (int i = 0; i < 40; ++i) qm[size_t(i)] = int8_t(i - 20);
    std::vector<float> scale = {0.5f, 1.f, 2.f, 0.25f, 0.125f};
    for (const TensorView& t : g.tensors) {
        if (t.name == "lm_head.weight") {
            q.add(t.name, DType::I8, t.shape, qm.data());
            q.add(t.name + ".scale", DType::F32, {5}, scale.data());
        } else q.add(t.name, t.dtype, t.shape, t.data);
    }
    auto bytes = q.bytes();
    auto m = Model::load(bytes.data(), bytes.size(), "int8");
    CHECK(m->storage_dtype() == "F32+I8");
    for (int r = 0; r < 5; ++r)
        for (int k = 0; k < 8; ++k) CHECK(m->lm_head.f32[r * 8 + k] == float(r * 8 + k - 20) * scale[size_t(r)]);
}

TEST_CASE("a batch whose activations exceed the budget is refused before allocation", "[loader]") {
    Config c = test::tiny_config();
    c.seq_len = 4000;  // S = 4002: one head group's attention scores alone are 64 MiB
    c.hidden_size = 64;
    c.num_heads = 2;
    auto bytes = test::tiny_model_writer(c).bytes();
    auto m = Model::load(bytes.data(), bytes.size(), "wide");
    CHECK_NOTHROW(Solver(m, 1));
    CHECK_THROWS_WITH(Solver(m, 4096), Catch::Contains("MiB of activations; the limit is 2048 MiB"));
}
