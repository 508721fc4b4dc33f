// Hostile inputs (issue 22): nesting bounded in every JSON and YAML reader, one-line printable messages, the
// per-step compute budget, cancellation inside a step, and checkpoint readers linear in the number of keys.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "checkpoint_loader.h"
#include "codecs.h"
#include "json_read.h"
#include "solve.h"
#include "tasks.h"
#include "torch_checkpoint.h"
#include "test_util.h"
#include "yaml_subset.h"

using namespace trm;
using namespace std::string_literals;  // pickles hold NUL bytes
using trm::test::error_of;

namespace {

std::string nested(int depth, const std::string& inner = "1") { return std::string(size_t(depth), '[') + inner + std::string(size_t(depth), ']'); }

const std::string kTooDeep = "nested deeper than 64 levels";

// data.pkl of a state dict that names one memoised tensor (4 floats of storage '0') under every key of `keys`: six
// bytes a key past the first, as a hostile file can (found while looking into fuzz_pickle's speed).
std::string shared_tensor_pickle(const std::vector<std::string>& keys) {
    auto s = [](const std::string& x) { return "\x8c"s + char(x.size()) + x; };
    std::string p = "\x80\x02}("s + s(keys[0]) + "ctorch._utils\n_rebuild_tensor_v2\n((" + s("storage") + "ctorch\nFloatStorage\n" + s("0") +
                    s("cpu") + "K\x04tQK\x00K\x04\x85K\x01\x85\x89" "ccollections\nOrderedDict\n)RtRq\x00"s;
    for (size_t i = 1; i < keys.size(); ++i) p += s(keys[i]) + "h\x00"s;
    return p + "u.";
}

// A stored zip of archive/data.pkl and archive/data/0 (16 bytes of zeros), as torch.save lays a checkpoint out.
std::string torch_zip(const std::string& pkl) {
    auto u32 = [](uint32_t v) { std::string s(4, '\0'); for (int i = 0; i < 4; ++i) s[size_t(i)] = char(v >> (8 * i)); return s; };
    auto u16 = [](uint16_t v) { return std::string{char(v & 0xff), char(v >> 8)}; };
    std::string zip, central;
    auto entry = [&](const std::string& name, const std::string& data) {
        const uint32_t offset = uint32_t(zip.size());
        const std::string common = u16(0) + u16(0) + u16(0) + u16(0) + u32(0) + u32(uint32_t(data.size())) + u32(uint32_t(data.size())) +
                                   u16(uint16_t(name.size())) + u16(0);
        zip += u32(0x04034b50) + u16(20) + common + name + data;
        central += u32(0x02014b50) + u16(20) + u16(20) + common + u16(0) + u16(0) + u16(0) + u32(0) + u32(offset) + name;
    };
    entry("archive/data.pkl", pkl);
    entry("archive/data/0", std::string(16, '\0'));
    const uint32_t cd = uint32_t(zip.size());
    return zip + central + u32(0x06054b50) + u16(0) + u16(0) + u16(2) + u16(2) + u32(uint32_t(central.size())) + u32(cd) + u16(0);
}

}  // namespace

TEST_CASE("parse_json takes 64 levels of nesting and refuses 65 with the label", "[hostile]") {
    CHECK(parse_json(nested(64), "x").is_array());
    CHECK(error_of([] { parse_json(nested(65), "f.json: field"); }) ==
          "f.json: field: JSON nested deeper than 64 levels (arrays and objects) at byte 64; expected a shallow document");
    // Brackets inside strings, escaped quotes included, are text.
    CHECK(parse_json("[\"" + std::string(100, '[') + "\\\"" + std::string(100, '{') + "\"]", "x").is_array());
    // A million levels: refused at once, no stack exhausted on the way.
    CHECK_THROWS_WITH(parse_json(nested(1000000), "deep"), Catch::Contains(kTooDeep));
    CHECK(parse_json("{\"a\": [1, ", "x").is_discarded());  // malformed stays the caller's message
}

TEST_CASE("every reader refuses deep nesting with its file and field", "[hostile]") {
    const std::string deep = nested(100000);
    SECTION("ARC task, at the top and inside a cell (whose value the message would print)") {
        CHECK_THROWS_WITH(arc::parse_task("{\"train\": " + deep + ", \"test\": []}", "t.json"), Catch::StartsWith("t.json: JSON nested deeper"));
        CHECK_THROWS_WITH(arc::parse_task("{\"train\":[{\"input\":[[" + deep + "]],\"output\":[[1]]}],\"test\":[]}", "t.json"),
                          Catch::StartsWith("t.json: JSON nested deeper"));
    }
    SECTION("weight file: header, config and task metadata") {
        const auto file_with_header = [](const std::string& h) {
            std::vector<uint8_t> out(8);
            for (int i = 0; i < 8; ++i) out[size_t(i)] = uint8_t(uint64_t(h.size()) >> (8 * i));
            out.insert(out.end(), h.begin(), h.end());
            return out;
        };
        const auto header = file_with_header("{\"a\": " + deep + "}");
        CHECK_THROWS_WITH(parse_safetensors(header.data(), header.size(), "w.safetensors"), Catch::StartsWith("w.safetensors: header: JSON nested deeper"));
        CHECK_THROWS_WITH(Config::from_json("{\"seq_len\": " + deep + "}", "w.safetensors"),
                          Catch::StartsWith("w.safetensors: metadata 'config': JSON nested deeper"));
        SafetensorsWriter w = test::tiny_model_writer(test::tiny_config());
        w.set_metadata("task", "{\"kind\": \"generic\", \"x\": " + deep + "}");
        const auto bytes = w.bytes();
        CHECK_THROWS_WITH(Model::load(bytes.data(), bytes.size(), "w.safetensors"), Catch::StartsWith("w.safetensors: metadata 'task': JSON nested deeper"));
    }
    SECTION("solve options") {
        CHECK_THROWS_WITH(SolveOptions::from_json("{\"strategy\": " + deep + "}", "solve options"), Catch::StartsWith("solve options: JSON nested deeper"));
    }
    SECTION("all_config.yaml: '- - - ...' on one line and ever deeper indentation") {
        std::string dashes;
        for (int i = 0; i < 100000; ++i) dashes += "- ";
        CHECK_THROWS_WITH(parse_yaml_subset(dashes + "x\n", "all_config.yaml"),
                          Catch::StartsWith("all_config.yaml:1: blocks nested deeper than 64 levels"));
        std::string stairs;
        for (int i = 0; i < 5000; ++i) stairs += std::string(size_t(i), ' ') + "k:\n";
        CHECK_THROWS_WITH(parse_yaml_subset(stairs, "all_config.yaml"), Catch::Contains("blocks nested deeper than 64 levels"));
        std::string ok;
        for (int i = 0; i < 60; ++i) ok += std::string(size_t(i), ' ') + "k:\n";
        CHECK_NOTHROW(parse_yaml_subset(ok, "all_config.yaml"));
    }
}

TEST_CASE("printable escapes control characters and C1 controls, and cuts long text; Error keeps a NUL as text", "[hostile]") {
    CHECK(printable(std::string("a\nb\x1b[2Jc\0d\x7f\\", 12)) == "a\\nb\\x1b[2Jc\\x00d\\x7f\\");
    CHECK(std::string(Error(std::string("tensor 'a\0b' is bad", 19)).what()) == "tensor 'a\\x00b' is bad");
    CHECK(printable("\xc2\x9b" "31m") == "\\u009b31m");
    CHECK(printable("caf\xc3\xa9 \xe2\x9c\x93") == "caf\xc3\xa9 \xe2\x9c\x93");  // other UTF-8 untouched
    CHECK(printable(std::string(1000, 'x'), 10) == std::string(10, 'x') + "...");
}

TEST_CASE("configs above the per-step compute budget are refused at load; the paper's models are not", "[hostile]") {
    nlohmann::json arc = {{"seq_len", 900}, {"vocab_size", 12}, {"hidden_size", 512}, {"num_heads", 8}, {"expansion", 4},
                          {"L_layers", 2}, {"H_cycles", 3}, {"L_cycles", 4}, {"halt_max_steps", 16}, {"mlp_t", false},
                          {"pos_encodings", "rope"}, {"puzzle_emb_ndim", 512}, {"puzzle_emb_len", 16},
                          {"num_puzzle_identifiers", 1000}, {"rms_norm_eps", 1e-5}, {"rope_theta", 10000}};
    const Config paper_arc = Config::from_json(arc.dump(), "arc.safetensors");
    // 3 x 5 x 2 blocks over 916 positions: attention 2*916*512*4*512 + 4*916^2*512, MLP 2*916*512*1536*3.
    const double block = 2.0 * 916 * 512 * 4 * 512 + 4.0 * 916 * 916 * 512 + 2.0 * 916 * 512 * 1536 * 3;
    CHECK(paper_arc.step_flops() == Approx(30 * block + 2.0 * 900 * 512 * 12));
    nlohmann::json sudoku = arc;
    sudoku.update({{"seq_len", 81}, {"vocab_size", 11}, {"mlp_t", true}, {"H_cycles", 3}, {"L_cycles", 6}, {"num_puzzle_identifiers", 1}});
    CHECK(Config::from_json(sudoku.dump(), "sudoku.safetensors").step_flops() < 0.1e12);
    arc.update({{"L_layers", 4}, {"H_cycles", 8}, {"L_cycles", 8}});  // 288 blocks: about 2.3 TFLOP
    CHECK(error_of([&] { Config::from_json(arc.dump(), "deep.safetensors"); }).find(
              "deep.safetensors: metadata 'config': one supervision step needs 2.3 TFLOP (H_cycles 8 x (L_cycles 8 + 1) x L_layers 4 blocks "
              "over 916 positions of hidden_size 512); the limit is 1 TFLOP per step") == 0);
    // The largest cycles the ranges allow, on a small network: refused just the same.
    nlohmann::json small = arc;
    small.update({{"hidden_size", 128}, {"num_heads", 2}, {"L_layers", 64}, {"H_cycles", 64}, {"L_cycles", 64}});
    CHECK_THROWS_WITH(Config::from_json(small.dump(), "w"), Catch::Contains("the limit is 1 TFLOP per step"));
}

TEST_CASE("an interrupt stops a step before its next block; the next solve runs normally", "[hostile]") {
    Config c = test::tiny_config();
    c.L_layers = 2;
    c.H_cycles = 3;
    c.L_cycles = 4;  // 3 x 5 x 2 = 30 blocks per step
    const auto bytes = test::tiny_model_writer(c).bytes();
    const auto m = Model::load(bytes.data(), bytes.size(), "w");
    std::vector<int32_t> tokens(size_t(c.seq_len), 1);
    static int checks, stop_at;
    set_interrupt(+[] { return ++checks > stop_at; });
    Solver s(m, 1);
    s.set_puzzle(0, tokens.data(), 0);
    checks = 0;
    stop_at = 1000;
    s.step();
    CHECK(checks == 30);  // one check before every block
    checks = 0;
    stop_at = 4;  // the 5th block of the step
    CHECK_THROWS_AS(s.step(), Interrupted);
    CHECK(checks == 5);
    CHECK(s.steps_done(0) == 1);
    set_interrupt(nullptr);
    Solver fresh(m, 1), reference(m, 1);
    fresh.set_puzzle(0, tokens.data(), 0);
    reference.set_puzzle(0, tokens.data(), 0);
    fresh.step();
    reference.step();
    CHECK(std::vector<float>(fresh.logits(0), fresh.logits(0) + c.seq_len * c.vocab_size) ==
          std::vector<float>(reference.logits(0), reference.logits(0) + c.seq_len * c.vocab_size));
}

TEST_CASE("one rule for puzzle text: a leading BOM dropped, no-break spaces are spaces, other non-ASCII refused", "[hostile]") {
    const std::string p = "..3.2.6..9..3.5..1..18.64....81.29..7.......8..67.82....26.95..8..2.3..9..5.1.3..";
    CHECK(puzzle_text("\xef\xbb\xbf" + p, "sudoku") == p);
    CHECK(puzzle_text("a\xc2\xa0" "b", "sudoku") == "a b");
    CHECK(sudoku::encode("\xef\xbb\xbf" + p) == sudoku::encode(p));
    CHECK_THROWS_WITH(puzzle_text("ab\xef\xbb\xbf", "sudoku"),  // a BOM anywhere else is a character like any other
                      "sudoku: character U+FEFF at byte 2 is not ASCII; puzzle text is ASCII (a leading byte-order mark and no-break spaces are allowed)");
    CHECK_THROWS_WITH(puzzle_text("caf\xc3\xa9", "maze"), Catch::StartsWith("maze: character U+00E9 at byte 3 is not ASCII"));
    CHECK_THROWS_WITH(puzzle_text("\xf0\x9f\x99\x82", "sudoku"), Catch::StartsWith("sudoku: character U+1F642 at byte 0"));
    // Not UTF-8: a stray byte, a cut sequence, an overlong form, a surrogate; all U+FFFD, as JavaScript decodes them.
    for (const std::string bad : {"x\xff", "x\xe2\x82", "x\xc0\xaf", "x\xed\xa0\x80", "x\xf8\x88\x80\x80\x80"})
        CHECK_THROWS_WITH(puzzle_text(bad, "sudoku"), Catch::StartsWith("sudoku: character U+FFFD (not UTF-8) at byte 1 is not ASCII"));
    // Through the codecs the CLIs, the JS API and the page use.
    Config c = test::tiny_config();
    c.seq_len = 81;
    c.vocab_size = 11;
    SafetensorsWriter w = test::tiny_model_writer(c);
    w.set_metadata("task", "{\"kind\": \"sudoku\"}");
    const auto bytes = w.bytes();
    const auto sudoku_codec = codec_for(*Model::load(bytes.data(), bytes.size(), "sudoku.safetensors"), "solve");
    CHECK(sudoku_codec->normalize("\xef\xbb\xbf" + p.substr(0, 40) + "\xc2\xa0" + p.substr(40) + "\r\n") == p);
    std::string maze = "S" + std::string(898, ' ') + "G";
    CHECK(maze::normalize("\xef\xbb\xbf" + maze) == maze);
    maze[1] = '#';
    CHECK(maze::normalize(maze.substr(0, 5) + "\xc2\xa0" + maze.substr(6)) == maze.substr(0, 5) + " " + maze.substr(6));
}

TEST_CASE("a checkpoint's dataset.json and identifiers.json nested too deep are refused by name", "[hostile]") {
    const std::string arc = std::string(TRM_VECTORS_DIR) + "/arc_att_rope_puzzle_emb";
    FileSource src(arc + "/step_0");
    CheckpointInputs in = checkpoint_inputs(arc + "/step_0", {});
    in.dataset_text = "{\"seq_len\": " + nested(100000) + "}";
    in.dataset_label = "dataset.json";
    CHECK_THROWS_WITH(read_official_checkpoint(src, in), Catch::StartsWith("dataset.json: JSON nested deeper than 64 levels"));
    in = checkpoint_inputs(arc + "/step_0", {});
    in.identifiers_text = nested(100000);
    in.identifiers_label = "identifiers.json";
    CHECK_THROWS_WITH(read_official_checkpoint(src, in), Catch::StartsWith("identifiers.json: JSON nested deeper than 64 levels"));
}

TEST_CASE("a state dict naming one tensor under 100,000 keys is read in linear time; a repeated key is still refused", "[hostile]") {
    // Each reader looked for a repeated key by scanning the keys before it: quadratic, so that a 63 KB data.pkl took
    // 2.5 s in the fuzz build and the 64 MiB a checkpoint may hold would take weeks. Now by set; the old code took
    // minutes here.
    std::vector<std::string> keys;
    for (int i = 0; i < 100000; ++i) keys.push_back("k" + std::to_string(i));
    auto unpickle = [](const std::string& p) { return unpickle_state_dict(reinterpret_cast<const uint8_t*>(p.data()), p.size(), "x.pkl"); };
    const std::vector<PickledTensor> t = unpickle(shared_tensor_pickle(keys));
    REQUIRE(t.size() == keys.size());
    CHECK(t.back().key == "k99999");
    CHECK(t.back().shape == std::vector<int64_t>{4});
    keys.push_back("k5");
    CHECK(error_of([&] { unpickle(shared_tensor_pickle(keys)); }) == "x.pkl: state dict key 'k5' appears twice");

    // The official-checkpoint loader: the same key once its prefixes are removed, after 100,000 others.
    keys.back() = "model.k5";
    const std::string zip = torch_zip(shared_tensor_pickle(keys));
    const MemorySource src(reinterpret_cast<const uint8_t*>(zip.data()), zip.size(), "x.pt");
    CheckpointInputs in;
    in.config_label = "all_config.yaml";
    in.config_text = "arch:\n  H_cycles: 1\n  L_cycles: 1\n  L_layers: 1\n  expansion: 2\n  halt_max_steps: 1\n"
                     "  hidden_size: 8\n  num_heads: 2\n  pos_encodings: rope\n  puzzle_emb_ndim: 0\n  seq_len: 6\n";
    CHECK(error_of([&] { read_official_checkpoint(src, in); }) == "x.pt: two keys become 'k5' once the prefixes _orig_mod., model., inner. are removed");
}
