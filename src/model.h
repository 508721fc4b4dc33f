// The Tiny Recursive Model: configuration, weights (loaded once, immutable) and the per-batch solver state.
// The forward pass lives in model.cpp and follows ../shared/docs/TRM_SPEC.md line by line.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "safetensors.h"
#include "task_kind.h"
#include "thread_pool.h"

namespace trm {

enum class PosEncoding { Rope, Learned, None };

// The architecture fields of TRM_SPEC.md, as stored in the weight file's `config` metadata.
struct Config {
    int seq_len = 0, vocab_size = 0, hidden_size = 0, num_heads = 0;
    double expansion = 0;
    int L_layers = 0, H_cycles = 0, L_cycles = 0, halt_max_steps = 0;
    bool mlp_t = false;
    PosEncoding pos_encodings = PosEncoding::None;
    int puzzle_emb_ndim = 0, puzzle_emb_len = 0, num_puzzle_identifiers = 0;
    double rms_norm_eps = 1e-5, rope_theta = 10000.0;

    // Derived sizes.
    int prefix_len() const;     // P: puzzle-embedding positions in front of the tokens
    int positions() const;      // S = seq_len + P
    int head_dim() const { return hidden_size / num_heads; }
    int mlp_width() const;      // I: SwiGLU width over the hidden axis
    int mlp_t_width() const;    // I_t: SwiGLU width over the position axis (mlp_t only)

    // Multiply-adds x 2 of one supervision step of one puzzle: H_cycles x (L_cycles + 1) passes of L_layers blocks over
    // S positions, then lm_head. The paper's sizes (hidden 512, 2 layers): sudoku (mlp_t, H 3 x L 6) 0.026 TFLOP,
    // ARC (attention over 916 positions, H 3 x L 4) 0.24 TFLOP.
    double step_flops() const;
    // A step above this would run for minutes in a browser tab (WASM: about 20-30 GFLOP/s per thread): such a config
    // is refused at load, as kActivationBudget refuses a batch that cannot fit in memory.
    static constexpr double kStepFlopBudget = 1e12;

    // Parses and range-checks the JSON, the compute budget included; `label` names the file in errors.
    static Config from_json(const std::string& json, const std::string& label);
    std::string to_json() const;
};

int swiglu_width(double expansion, int width);

// The tensors a configuration needs (TRM_SPEC.md "Weights"), by name as in the weight file, in load order.
struct WeightShape {
    std::string name;
    std::vector<int64_t> shape;
};
std::vector<WeightShape> weight_shapes(const Config& c);  // round(expansion * w * 2/3) rounded up to a multiple of 256
const char* pos_encoding_name(PosEncoding p);

// A weight matrix W [rows, cols], used as the right operand of y = x W^T (the linear maps) or, for the token-mixing
// weights, as the left operand of y = W b. It always holds the float32 values; a model loaded for the SIMD kernels
// adds the one form those kernels read, built once at load (model.cpp, build_kernel_form):
// - Kernel::Packed, a float file: panels of a right operand (kernels.h pack_panels), or for the MLP's gate_up the
//   SwiGLU pair panels (gate and up in one product); a left operand needs none (its right operand is packed).
// - Kernel::Int8, a matrix the file stores as I8: its int8 values widened to int16, as pair panels of a right
//   operand or rows [rows, Kp] (Kp = i16_padded_k(cols)) of a left one, with the file's per-row scales.
struct Matrix {
    enum class Use { Right, GateUp, Left };  // how the forward pass multiplies it
    enum class Kernel { Eigen, Packed, Int8 };  // which kernels run its products
    int rows = 0, cols = 0;
    Use use = Use::Right;
    Kernel kernel = Kernel::Eigen;
    const float* f32 = nullptr;   // [rows, cols], row-major (in the model's arena)
    std::vector<float> packed;    // Kernel::Packed
    std::vector<int16_t> i16;     // Kernel::Int8
    std::vector<float> scale;     // Kernel::Int8: [rows]
};

// One block of the shared network. Shapes: D = hidden, S = positions, I / I_t = SwiGLU widths (TRM_SPEC.md).
struct LayerWeights {
    Matrix qkv_proj;       // [3D, D]    attention variant
    Matrix o_proj;         // [D, D]     attention variant
    Matrix mlp_t_gate_up;  // [2I_t, S]  mlp_t variant (left operand)
    Matrix mlp_t_down;     // [S, I_t]   mlp_t variant (left operand)
    Matrix mlp_gate_up;    // [2I, D]
    Matrix mlp_down;       // [D, I]
};

// Cancellation inside a step. A WASM worker cannot read a message while a step runs, so a cancel reaches it through
// shared memory: set_interrupt installs a check that every Solver calls before each block; once it returns true the
// step stops with Interrupted, its slot's carry half-updated (the caller drops the run). One check per process (a
// worker runs one solve at a time); none by default.
struct Interrupted : Error {
    using Error::Error;
};
void set_interrupt(bool (*check)());

class Model {
public:
    // Loads and validates a weight file held in memory (see DESIGN.md "Weight file"). `label` names it in errors.
    // simd_kernels: also pack the linear maps for the SIMD GEMM kernels (default: in WASM builds, where they
    // beat the scalar Eigen path; natively Eigen's own vectorised GEMM is used).
    static std::shared_ptr<const Model> load(const uint8_t* bytes, size_t size, const std::string& label,
                                             bool simd_kernels = kSimdKernelsByDefault);
    static std::shared_ptr<const Model> load_file(const std::string& path, bool simd_kernels = kSimdKernelsByDefault);
#if defined(__wasm_simd128__)
    static constexpr bool kSimdKernelsByDefault = true;
#else
    static constexpr bool kSimdKernelsByDefault = false;
#endif
    bool simd_kernels() const { return simd_kernels_; }
    bool int8_kernels() const { return int8_kernels_; }  // some products run on the integer kernels

    const Config& config() const { return cfg_; }
    const std::string& task_json() const { return task_json_; }
    TaskKind task_kind() const { return task_kind_; }  // task.kind
    const std::string& source() const { return source_; }
    const std::string& storage_dtype() const { return storage_dtype_; }
    int64_t parameter_count() const { return static_cast<int64_t>(arena_.size()); }
    const std::vector<std::string>& puzzle_identifiers() const { return puzzle_identifiers_; }
    // A weight by its name in the file (weight_shapes), float32 as loaded (an int8 matrix dequantised); null when the
    // configuration has no such tensor. For another engine that runs the same network (web/webgpu/).
    const float* weight(const std::string& name) const;

    // Weights, all float32 after load (matrices also in their kernels' form). D = hidden, V = vocab, S = positions.
    const float* embed_tokens = nullptr;  // [V, D]
    const float* puzzle_emb = nullptr;    // [num_puzzle_identifiers, puzzle_emb_ndim] or null
    const float* embed_pos = nullptr;     // [S, D] (learned positions) or null
    const float* H_init = nullptr;        // [D]
    const float* L_init = nullptr;        // [D]
    std::vector<LayerWeights> layers;     // [L_layers]
    Matrix lm_head;                       // [V, D]
    const float* q_head_w = nullptr;      // [2, D]
    const float* q_head_b = nullptr;      // [2]
    std::vector<float> rope_cos, rope_sin;  // [S, head_dim] each (rope only), computed at load

private:
    friend std::vector<WeightShape> weight_shapes(const Config& c);
    // The steps of load(), in order (model.cpp).
    struct Tensor;  // a tensor the configuration needs: its name and shape, where it goes, what the file holds for it
    void read_metadata(const SafetensorsFile& file, const std::string& label);
    std::vector<Tensor> list_tensors();
    void find_tensors(const SafetensorsFile& file, std::vector<Tensor>& tensors, const std::string& label);
    void convert(const std::vector<Tensor>& tensors, const std::string& label);
    void pack(const std::vector<Tensor>& tensors);
    void make_rope_tables();

    Config cfg_;
    std::string task_json_, source_, storage_dtype_;
    TaskKind task_kind_ = TaskKind::Generic;
    std::vector<std::string> puzzle_identifiers_;
    std::vector<float> arena_;  // every weight, float32, back to back
    bool simd_kernels_ = false, int8_kernels_ = false;
};

// The state of a batch of puzzles being solved: input embeddings, the carry (z_H, z_L) and the outputs of the
// last supervision step. All buffers are allocated in the constructor; step() allocates nothing.
class Solver {
public:
    // threads: workers that split each step's matrix products and attention heads (<= 0: one per hardware thread).
    // Throws trm::Error when the batch's activations would exceed kActivationBudget.
    Solver(std::shared_ptr<const Model> model, int batch, int threads = 1);
    static constexpr uint64_t kActivationBudget = uint64_t(1) << 31;  // 2 GiB: half of what a WASM page can address
    // What a Solver of `batch` slots on a pool of `threads` threads allocates, in bytes (what the budget measures).
    static uint64_t activation_bytes(const Model& model, int batch, int threads) { return buffers(model, batch, threads).bytes(); }

    int batch() const { return batch_; }
    int threads() const { return pool_->size(); }
    const Model& model() const { return *model_; }

    // Puts a puzzle into slot b: embeds tokens [seq_len] with puzzle row `puzzle_id`, resets the carry to
    // H_init/L_init and the slot's step count to 0. Throws trm::Error on a token or id out of range.
    // keep_carry: only the input changes (a strategy feeding cells back as givens); carry and step count go on.
    void set_puzzle(int b, const int32_t* tokens, int32_t puzzle_id, bool keep_carry = false);

    // One supervision step for every slot that holds a puzzle and is not halted.
    void step();

    // Stops stepping slot b (its outputs stay as they were). halt_confident() halts every active slot whose
    // last q_halt > 0, the model's own "my answer is complete" signal.
    void halt(int b);
    void halt_confident();
    bool active(int b) const { return loaded_[b] && !halted_[b]; }
    int any_active() const;
    int steps_done(int b) const { return steps_[b]; }

    // Outputs of the most recent step of each slot.
    const float* logits(int b) const { return logits_.data() + size_t(b) * cfg_.seq_len * cfg_.vocab_size; }  // [seq_len, V]
    const int32_t* predictions(int b) const { return pred_.data() + size_t(b) * cfg_.seq_len; }                // [seq_len]
    float q_halt(int b) const { return q_halt_[b]; }
    float q_continue(int b) const { return q_continue_[b]; }
    const float* z_H(int b) const { return zH_.data() + size_t(b) * S_ * D_; }                                 // [S, D]
    const float* z_L(int b) const { return zL_.data() + size_t(b) * S_ * D_; }                                 // [S, D]

    // An external network (the worker's WebGPU engine, web/webgpu/) in place of step(): it runs the active slots from
    // their input embeddings x [S, D] and its own copy of their carry, which it starts again from H_init/L_init where
    // fresh_carry(b) says so, then hands each slot's outputs to set_outputs. fresh_input/fresh_carry: set_puzzle
    // changed the input / reset the carry since the slot's last set_outputs.
    const float* x(int b) const { return x_.data() + size_t(b) * S_ * D_; }                                     // [S, D]
    bool fresh_input(int b) const { return fresh_input_[b] != 0; }
    bool fresh_carry(int b) const { return fresh_carry_[b] != 0; }
    // What step() leaves in slot b, from the external network's logits [seq_len, V] and q_head outputs.
    void set_outputs(int b, const float* logits, float q_halt, float q_continue);
    // Slot b's carry [S, D] each, as the external network holds it: when that network fails mid-solve (the worker's
    // WebGPU device lost), step() goes on from where it was instead of from a stale carry.
    void set_carry(int b, const float* zH, const float* zL);

private:
    // The length (elements) of each buffer below, for a model, a batch and a pool size: the constructor allocates
    // these and nothing else, and the activation budget adds them up (model.cpp, Solver::buffers).
    struct Buffers {
        uint64_t x = 0, carry = 0, logits = 0, pred = 0, slots = 0;  // per batch: x_; zH_ and zL_ each; ...; q_halt_ to fresh_carry_
        uint64_t inj = 0, tmp = 0, qkv = 0, attn = 0, scores = 0, colnorm = 0, panels = 0, gate_up = 0, act = 0;
        uint64_t act_i16 = 0, act_scale = 0, att_i16 = 0, att_scale = 0;
        uint64_t bytes() const;
    };
    static Buffers buffers(const Model& model, int batch, int threads);

    void net(float* h, const float* inj);          // Net(h, inj) of TRM_SPEC.md, in place on h [S, D]
    void attention_block(float* h, const LayerWeights& w);
    void mlp_t_block(float* h, const LayerWeights& w);
    void mlp_block(float* h, const LayerWeights& w);
    void add_rms_norm_rows_on_pool(float* h);  // h = rms_norm(h + tmp_) per row
    void step_one(int b);
    // The hot spots, split across the pool: y [M, w.rows] = x [M, w.cols] w^T by column blocks; y [a.rows, N] =
    // a b, b [a.cols, N], by column blocks (SIMD kernels) or row blocks (Eigen).
    void linear(int M, const float* x, int ldx, const Matrix& w, float* y, int ldy);
    void matmul(const Matrix& a, int N, const float* b, float* y);
    // f(i0, n) for blocks [i0, i0 + n) that cover [0, count), run on the pool (model.cpp: block_size)
    template <class F> void in_blocks(int count, F&& f);

    std::shared_ptr<const Model> model_;
    const Config& cfg_;
    std::unique_ptr<ThreadPool> pool_;
    int batch_, S_, D_;
    // Per-slot state.
    std::vector<float> x_;        // [B, S, D] input embedding
    std::vector<float> zH_, zL_;  // [B, S, D] carry
    std::vector<float> logits_;   // [B, seq_len, V]
    std::vector<int32_t> pred_;   // [B, seq_len]
    std::vector<float> q_halt_, q_continue_;  // [B]
    std::vector<int> steps_;      // [B]
    std::vector<uint8_t> loaded_, halted_;  // [B]
    std::vector<uint8_t> fresh_input_, fresh_carry_;  // [B] (external network, see set_outputs)
    // Scratch for one slot at a time.
    std::vector<float> inj_;      // [S, D]   z_H + x
    std::vector<float> tmp_;      // [S, D]   block output before the residual
    std::vector<float> qkv_;      // [S, 3D]
    std::vector<float> attn_;     // [S, D]   concatenated head outputs
    std::vector<float> scores_;   // [G, Q, S] attention weights of Q query rows (model.cpp kQueryBlock), one per pool
                                  // thread (G = min(heads, threads))
    std::vector<float> colnorm_;  // [D]      column sums of squares (token-mixing block)
    std::vector<float> panels_;   // SIMD kernels only: activations packed as kernels.h panels; per head group
                                  // k [S, hd] and v [S, hd] (attention), or the right operand of matmul (mlp_t)
    std::vector<float> gate_up_;  // [S, 2I] (unfused gating only) or [2I_t, D]
    std::vector<float> act_;      // [S, I]  or [I_t, D]
    // Integer kernels only (int8 files): activations quantised to int16 (rows of x, or pair panels of b) + scales.
    std::vector<int16_t> act_i16_;
    std::vector<float> act_scale_;
    // Integer kernels, attention: per head group q [S, hd_p] (int16 rows), k and v (pair panels), the attention
    // weights of one query block [Q, S_p] (int16 rows); then per group the scales of q [S], k [S], the weights [Q]
    // and v [hd].
    std::vector<int16_t> att_i16_;
    std::vector<float> att_scale_;
};

}  // namespace trm
