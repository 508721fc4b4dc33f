// Helpers shared by the C++ tests: a tiny valid weight file built in memory, and a naive GEMM.
#pragma once
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "model.h"

namespace trm::test {

// The message of the trm::Error that f throws; "" when it throws none.
inline std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

inline std::vector<float> random_vector(size_t n, unsigned seed, float scale = 1.f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.f, scale);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

// A complete, valid weight file for `c`, with random weights, as a writer (callers may add/break things).
// int8: the matrices the integer kernels take (lm_head and the blocks') stored as I8 with per-row scales.
inline SafetensorsWriter tiny_model_writer(const Config& c, unsigned seed = 1, bool int8 = false) {
    SafetensorsWriter w;
    w.set_metadata("format", "trm/1");
    w.set_metadata("config", c.to_json());
    w.set_metadata("task", "{\"kind\":\"generic\"}");
    std::vector<std::vector<float>> keep;
    std::vector<std::vector<int8_t>> keep_i8;
    const int64_t D = c.hidden_size, V = c.vocab_size, S = c.positions(), I = c.mlp_width(), It = c.mlp_t_width();
    auto add = [&](const std::string& name, std::vector<int64_t> shape) {
        size_t n = 1;
        for (int64_t s : shape) n *= size_t(s);
        keep.push_back(random_vector(n, seed++, 0.2f));
        const bool matrix = name == "lm_head.weight" || name.rfind("L_level.", 0) == 0;
        if (!int8 || !matrix) return w.add(name, DType::F32, shape, keep.back().data());
        keep_i8.emplace_back(n);
        for (size_t k = 0; k < n; ++k) keep_i8.back()[k] = int8_t(int(k * 37 + seed) % 255 - 127);
        keep.emplace_back(size_t(shape[0]), 0.01f);
        w.add(name, DType::I8, shape, keep_i8.back().data());
        w.add(name + ".scale", DType::F32, {shape[0]}, keep.back().data());
    };
    add("embed_tokens.embedding_weight", {V, D});
    add("lm_head.weight", {V, D});
    add("q_head.weight", {2, D});
    add("q_head.bias", {2});
    add("H_init", {D});
    add("L_init", {D});
    if (c.puzzle_emb_ndim > 0) add("puzzle_emb.weights", {c.num_puzzle_identifiers, c.puzzle_emb_ndim});
    if (c.pos_encodings == PosEncoding::Learned) add("embed_pos.embedding_weight", {S, D});
    for (int i = 0; i < c.L_layers; ++i) {
        const std::string p = "L_level.layers." + std::to_string(i) + ".";
        if (c.mlp_t) {
            add(p + "mlp_t.gate_up_proj.weight", {2 * It, S});
            add(p + "mlp_t.down_proj.weight", {S, It});
        } else {
            add(p + "self_attn.qkv_proj.weight", {3 * D, D});
            add(p + "self_attn.o_proj.weight", {D, D});
        }
        add(p + "mlp.gate_up_proj.weight", {2 * I, D});
        add(p + "mlp.down_proj.weight", {D, I});
    }
    return w;
}

inline Config tiny_config(bool mlp_t = false) {
    Config c;
    c.seq_len = 6; c.vocab_size = 5; c.hidden_size = 8; c.num_heads = 2; c.expansion = 2;
    c.L_layers = 1; c.H_cycles = 1; c.L_cycles = 2; c.halt_max_steps = 3; c.mlp_t = mlp_t;
    c.pos_encodings = mlp_t ? PosEncoding::None : PosEncoding::Rope;
    c.puzzle_emb_ndim = 8; c.puzzle_emb_len = 2; c.num_puzzle_identifiers = 3;
    return c;
}

}  // namespace trm::test
