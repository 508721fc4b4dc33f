// TRM forward pass. Read against ../shared/docs/TRM_SPEC.md: embedding, Net(h, inj), the three block types,
// one supervision step (H_cycles x (L_cycles x Net(zL) then Net(zH))), lm_head and q_head.
#include "model.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "json_read.h"
#include "kernels.h"

namespace trm {

// ---------------------------------------------------------------------------------------------------------------
// Configuration

int swiglu_width(double expansion, int width) {
    const int w = static_cast<int>(std::nearbyint(expansion * width * 2.0 / 3.0));  // Python round(): half to even
    return (w + 255) / 256 * 256;
}

int Config::prefix_len() const {
    if (puzzle_emb_len > 0) return puzzle_emb_len;
    return (puzzle_emb_ndim + hidden_size - 1) / hidden_size;
}
int Config::positions() const { return seq_len + prefix_len(); }
int Config::mlp_width() const { return swiglu_width(expansion, hidden_size); }
int Config::mlp_t_width() const { return swiglu_width(expansion, positions()); }

const char* pos_encoding_name(PosEncoding p) {
    switch (p) {
        case PosEncoding::Rope: return "rope";
        case PosEncoding::Learned: return "learned";
        case PosEncoding::None: return "none";
    }
    return "?";
}

double Config::step_flops() const {
    const double S = positions(), D = hidden_size, I = mlp_width(), It = mlp_t_width();
    const double mix = mlp_t ? 2 * S * It * D * 3                   // token MLP: gate_up [2I_t, S] and down [S, I_t]
                             : 2 * S * D * 4 * D + 2 * 2 * S * S * D;  // qkv + o projections, scores and weighted sum
    const double block = mix + 2 * S * D * I * 3;                     // + the SwiGLU MLP: gate_up [2I, D], down [D, I]
    return double(H_cycles) * (L_cycles + 1) * L_layers * block + 2.0 * seq_len * D * vocab_size;
}

Config Config::from_json(const std::string& text, const std::string& label) {
    const std::string where = label + ": metadata 'config'";
    nlohmann::json j = parse_json(text, where);
    if (j.is_discarded() || !j.is_object()) throw Error(where + " is not a JSON object");
    Config c;
    auto integer = [&](const char* key, int lo, int hi) {
        if (!j.contains(key)) throw Error(where + ": missing field '" + key + "'");
        const auto& v = j[key];
        if (!v.is_number_integer()) throw Error(where + ": field '" + key + "' must be an integer");
        const int64_t x = v.get<int64_t>();
        if (x < lo || x > hi)
            throw Error(where + ": field '" + key + "' = " + std::to_string(x) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
        return static_cast<int>(x);
    };
    auto real = [&](const char* key, double lo, double hi) {
        if (!j.contains(key)) throw Error(where + ": missing field '" + key + "'");
        const auto& v = j[key];
        if (!v.is_number()) throw Error(where + ": field '" + key + "' must be a number");
        const double x = v.get<double>();
        if (!(x > lo && x <= hi))
            throw Error(where + ": field '" + key + "' = " + v.dump() + " is outside (" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
        return x;
    };
    // Ranges are generous for real models and small enough that activations stay within a few GiB.
    c.seq_len = integer("seq_len", 1, 4096);
    c.vocab_size = integer("vocab_size", 2, 4096);
    c.hidden_size = integer("hidden_size", 1, 4096);
    c.num_heads = integer("num_heads", 1, 256);
    c.expansion = real("expansion", 0.0, 16.0);
    c.L_layers = integer("L_layers", 1, 64);
    c.H_cycles = integer("H_cycles", 1, 64);
    c.L_cycles = integer("L_cycles", 1, 64);
    c.halt_max_steps = integer("halt_max_steps", 1, 1024);
    if (!j.contains("mlp_t") || !j["mlp_t"].is_boolean()) throw Error(where + ": field 'mlp_t' must be true or false");
    c.mlp_t = j["mlp_t"].get<bool>();
    if (!j.contains("pos_encodings") || !j["pos_encodings"].is_string())
        throw Error(where + ": field 'pos_encodings' must be a string");
    const std::string pe = j["pos_encodings"].get<std::string>();
    if (pe == "rope") c.pos_encodings = PosEncoding::Rope;
    else if (pe == "learned") c.pos_encodings = PosEncoding::Learned;
    else if (pe == "none") c.pos_encodings = PosEncoding::None;
    else throw Error(where + ": field 'pos_encodings' = \"" + pe + "\"; expected \"rope\", \"learned\" or \"none\"");
    c.puzzle_emb_ndim = integer("puzzle_emb_ndim", 0, 1 << 20);
    c.puzzle_emb_len = integer("puzzle_emb_len", 0, 1024);
    c.num_puzzle_identifiers = integer("num_puzzle_identifiers", 0, 1 << 24);
    c.rms_norm_eps = real("rms_norm_eps", 0.0, 1.0);
    c.rope_theta = real("rope_theta", 0.0, 1e12);

    if (c.hidden_size % c.num_heads != 0)
        throw Error(where + ": hidden_size " + std::to_string(c.hidden_size) + " is not divisible by num_heads " + std::to_string(c.num_heads));
    if (c.pos_encodings == PosEncoding::Rope && !c.mlp_t && c.head_dim() % 2 != 0)
        throw Error(where + ": rope needs an even head_dim (hidden_size / num_heads), got " + std::to_string(c.head_dim()));
    if (c.puzzle_emb_ndim == 0 && c.puzzle_emb_len != 0)
        throw Error(where + ": puzzle_emb_len is " + std::to_string(c.puzzle_emb_len) + " but puzzle_emb_ndim is 0; expected 0 (no puzzle prefix)");
    if (c.puzzle_emb_ndim > int64_t(c.prefix_len()) * c.hidden_size)
        throw Error(where + ": puzzle_emb_ndim " + std::to_string(c.puzzle_emb_ndim) + " exceeds puzzle_emb_len x hidden_size");
    if (c.puzzle_emb_ndim > 0 && c.num_puzzle_identifiers < 1)
        throw Error(where + ": num_puzzle_identifiers must be at least 1 when puzzle_emb_ndim > 0");
    if (c.positions() > 8192) throw Error(where + ": seq_len + puzzle prefix = " + std::to_string(c.positions()) + " exceeds 8192");
    if (c.step_flops() > kStepFlopBudget) {
        char tflop[32];
        std::snprintf(tflop, sizeof tflop, "%.2g", c.step_flops() / 1e12);
        throw Error(where + ": one supervision step needs " + tflop + " TFLOP (H_cycles " + std::to_string(c.H_cycles) + " x (L_cycles " +
                    std::to_string(c.L_cycles) + " + 1) x L_layers " + std::to_string(c.L_layers) + " blocks over " +
                    std::to_string(c.positions()) + " positions of hidden_size " + std::to_string(c.hidden_size) +
                    "); the limit is 1 TFLOP per step");
    }
    return c;
}

std::string Config::to_json() const {
    nlohmann::ordered_json j = {
        {"seq_len", seq_len}, {"vocab_size", vocab_size}, {"hidden_size", hidden_size}, {"num_heads", num_heads},
        {"expansion", expansion}, {"L_layers", L_layers}, {"H_cycles", H_cycles}, {"L_cycles", L_cycles},
        {"halt_max_steps", halt_max_steps}, {"mlp_t", mlp_t}, {"pos_encodings", pos_encoding_name(pos_encodings)},
        {"puzzle_emb_ndim", puzzle_emb_ndim}, {"puzzle_emb_len", puzzle_emb_len},
        {"num_puzzle_identifiers", num_puzzle_identifiers}, {"rms_norm_eps", rms_norm_eps}, {"rope_theta", rope_theta}};
    return j.dump();
}

// ---------------------------------------------------------------------------------------------------------------
// Loading: parse the metadata, list the tensors the config needs, convert them to float32, pack them for the kernels.

// The arena holds the weights back to back in weight_shapes order (Model::load).
const float* Model::weight(const std::string& name) const {
    size_t at = 0;
    for (const WeightShape& w : weight_shapes(cfg_)) {
        if (w.name == name) return arena_.data() + at;
        size_t n = 1;
        for (int64_t d : w.shape) n *= size_t(d);
        at += n;
    }
    return nullptr;
}

std::shared_ptr<const Model> Model::load_file(const std::string& path, bool simd_kernels) {
    std::vector<uint8_t> bytes = read_file(path);
    return load(bytes.data(), bytes.size(), path, simd_kernels);
}

std::shared_ptr<const Model> Model::load(const uint8_t* bytes, size_t size, const std::string& label, bool simd_kernels) {
    const SafetensorsFile file = parse_safetensors(bytes, size, label);
    auto m = std::shared_ptr<Model>(new Model());
    m->read_metadata(file, label);                   // format, config, task, source
    std::vector<Tensor> tensors = m->list_tensors();  // what the config needs, and where each goes
    m->find_tensors(file, tensors, label);            // the file holds exactly those (checked before any is read)
    m->convert(tensors, label);                      // float32, in one arena
    if (simd_kernels) m->pack(tensors);              // the kernels' forms, once, so that no step ever re-packs
    m->make_rope_tables();
    return m;
}

void Model::read_metadata(const SafetensorsFile& file, const std::string& label) {
    auto meta = [&](const char* key) -> const std::string& {
        auto it = file.metadata.find(key);
        if (it == file.metadata.end()) throw Error(label + ": metadata '" + key + "' is missing");
        return it->second;
    };
    if (meta("format") != "trm/1") throw Error(label + ": metadata 'format' is \"" + meta("format") + "\"; expected \"trm/1\"");
    cfg_ = Config::from_json(meta("config"), label);

    task_json_ = meta("task");
    nlohmann::json task = parse_json(task_json_, label + ": metadata 'task'");
    if (task.is_discarded() || !task.is_object()) throw Error(label + ": metadata 'task' is not a JSON object");
    if (!task.contains("kind") || !task["kind"].is_string()) throw Error(label + ": metadata 'task' lacks a string field 'kind'");
    const std::string kind = task["kind"].get<std::string>();
    const std::optional<TaskKind> k = parse_task_kind(kind);
    if (!k) throw Error(label + ": metadata 'task.kind' is \"" + kind + "\"; expected " + kTaskKindList);
    task_kind_ = *k;
    if (task.contains("puzzle_identifiers")) {
        const auto& ids = task["puzzle_identifiers"];
        if (!ids.is_array() || ids.size() != size_t(cfg_.num_puzzle_identifiers))
            throw Error(label + ": metadata 'task.puzzle_identifiers' must be a list of " + std::to_string(cfg_.num_puzzle_identifiers) + " names");
        for (const auto& n : ids) {
            if (!n.is_string()) throw Error(label + ": metadata 'task.puzzle_identifiers' must hold strings");
            puzzle_identifiers_.push_back(n.get<std::string>());
        }
    }
    auto src = file.metadata.find("source");
    if (src != file.metadata.end()) source_ = src->second;
}

struct Model::Tensor {
    std::string name;
    std::vector<int64_t> shape;
    const float** f32;                        // where the float32 values go
    Matrix* matrix = nullptr;                 // and, for a matrix, the Matrix they belong to
    const TensorView* view = nullptr;         // in the file (find_tensors)
    const TensorView* scale = nullptr;        // NAME.scale, for an I8 matrix
};

namespace {
std::string shape_str(const std::vector<int64_t>& s) {
    std::string r = "[";
    for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
    return r + "]";
}
}  // namespace

// The tensors the configuration needs, exactly (TRM_SPEC.md "Weights"), in load order.
std::vector<Model::Tensor> Model::list_tensors() {
    const Config& c = cfg_;
    const int64_t D = c.hidden_size, V = c.vocab_size, S = c.positions(), I = c.mlp_width(), It = c.mlp_t_width();
    std::vector<Tensor> want;
    auto vec = [&](std::string name, std::vector<int64_t> shape, const float** slot) { want.push_back({std::move(name), std::move(shape), slot}); };
    auto mat = [&](std::string name, int64_t rows, int64_t cols, Matrix& m, Matrix::Use use) {
        m.rows = int(rows);
        m.cols = int(cols);
        m.use = use;
        want.push_back({std::move(name), {rows, cols}, &m.f32, &m});
    };
    vec("embed_tokens.embedding_weight", {V, D}, &embed_tokens);
    mat("lm_head.weight", V, D, lm_head, Matrix::Use::Right);
    vec("q_head.weight", {2, D}, &q_head_w);
    vec("q_head.bias", {2}, &q_head_b);
    vec("H_init", {D}, &H_init);
    vec("L_init", {D}, &L_init);
    if (c.puzzle_emb_ndim > 0) vec("puzzle_emb.weights", {c.num_puzzle_identifiers, c.puzzle_emb_ndim}, &puzzle_emb);
    if (c.pos_encodings == PosEncoding::Learned) vec("embed_pos.embedding_weight", {S, D}, &embed_pos);
    layers.resize(size_t(c.L_layers));
    for (int i = 0; i < c.L_layers; ++i) {
        const std::string p = "L_level.layers." + std::to_string(i) + ".";
        LayerWeights& L = layers[size_t(i)];
        if (c.mlp_t) {
            mat(p + "mlp_t.gate_up_proj.weight", 2 * It, S, L.mlp_t_gate_up, Matrix::Use::Left);
            mat(p + "mlp_t.down_proj.weight", S, It, L.mlp_t_down, Matrix::Use::Left);
        } else {
            mat(p + "self_attn.qkv_proj.weight", 3 * D, D, L.qkv_proj, Matrix::Use::Right);
            mat(p + "self_attn.o_proj.weight", D, D, L.o_proj, Matrix::Use::Right);
        }
        mat(p + "mlp.gate_up_proj.weight", 2 * I, D, L.mlp_gate_up, Matrix::Use::GateUp);
        mat(p + "mlp.down_proj.weight", D, I, L.mlp_down, Matrix::Use::Right);
    }
    return want;
}

std::vector<WeightShape> weight_shapes(const Config& c) {
    Model scratch;  // only its slots' addresses are taken
    scratch.cfg_ = c;
    std::vector<WeightShape> r;
    for (const Model::Tensor& t : scratch.list_tensors()) r.push_back({t.name, t.shape});
    return r;
}

// Presence, dtype and shape of every tensor, and no tensor beyond them; nothing is read yet.
void Model::find_tensors(const SafetensorsFile& file, std::vector<Tensor>& tensors, const std::string& label) {
    std::vector<std::string> dtypes;
    for (Tensor& e : tensors) {
        const TensorView* t = file.find(e.name);
        if (!t) throw Error(label + ": missing tensor '" + e.name + "' (expected shape " + shape_str(e.shape) + ")");
        if (t->shape != e.shape)
            throw Error(label + ": tensor '" + e.name + "' has shape " + shape_str(t->shape) + "; the config implies " + shape_str(e.shape));
        const bool int8_matrix = t->dtype == DType::I8 && e.shape.size() == 2;
        if (t->dtype != DType::F32 && t->dtype != DType::F16 && t->dtype != DType::BF16 && !int8_matrix)
            throw Error(label + ": tensor '" + e.name + "' has dtype " + dtype_name(t->dtype) + "; expected F32, F16, BF16 (or I8 with a .scale for matrices)");
        if (t->dtype == DType::I8) {
            const TensorView* s = file.find(e.name + ".scale");
            if (!s) throw Error(label + ": I8 tensor '" + e.name + "' has no '" + e.name + ".scale'");
            if (s->dtype != DType::F32 || s->shape != std::vector<int64_t>{e.shape[0]})
                throw Error(label + ": tensor '" + e.name + ".scale' must be F32 " + shape_str({e.shape[0]}));
            e.scale = s;
        }
        if (std::find(dtypes.begin(), dtypes.end(), dtype_name(t->dtype)) == dtypes.end()) dtypes.push_back(dtype_name(t->dtype));
        e.view = t;
    }
    for (const TensorView& t : file.tensors) {
        bool known = false;
        for (const Tensor& e : tensors) known = known || t.name == e.name || (e.scale && t.name == e.scale->name);
        if (!known) throw Error(label + ": unexpected tensor '" + t.name + "' (not part of this configuration)");
    }
    for (size_t i = 0; i < dtypes.size(); ++i) storage_dtype_ += (i ? "+" : "") + dtypes[i];
}

// Everything to float32 in one arena (an I8 matrix times its row scales); non-finite values are refused.
void Model::convert(const std::vector<Tensor>& tensors, const std::string& label) {
    int64_t total = 0;
    for (const Tensor& e : tensors) total += e.view->numel();
    arena_.resize(size_t(total));
    float* dst = arena_.data();
    for (const Tensor& e : tensors) {
        const TensorView& t = *e.view;
        convert_to_f32(t, dst);
        if (e.scale) {
            std::vector<float> scale(size_t(t.shape[0]));
            convert_to_f32(*e.scale, scale.data());
            for (int64_t r = 0; r < t.shape[0]; ++r)
                for (int64_t k = 0; k < t.shape[1]; ++k) dst[r * t.shape[1] + k] *= scale[size_t(r)];
        }
        const int64_t n = t.numel();
        for (int64_t k = 0; k < n; ++k)
            if (!std::isfinite(dst[k]))
                throw Error(label + ": tensor '" + t.name + "' holds a non-finite value (NaN or Inf) at index " + std::to_string(k));
        *e.f32 = dst;
        dst += n;
    }
}

namespace {
// The form of one matrix that the SIMD kernels read (see Matrix): int8 values from the file when it stores them as
// I8 (int8 runs on the integer kernels), else panels of the float32 values.
void build_kernel_form(Matrix& w, const TensorView& t, const TensorView* scale) {
    const int N = w.rows, K = w.cols;
    if (scale) {  // I8
        w.kernel = Matrix::Kernel::Int8;
        const int8_t* q = reinterpret_cast<const int8_t*>(t.data);
        if (w.use == Matrix::Use::Left) {  // int16 rows [N, Kp], zero-padded
            const int Kp = i16_padded_k(K);
            w.i16.assign(size_t(N) * Kp, 0);
            for (int n = 0; n < N; ++n)
                for (int k = 0; k < K; ++k) w.i16[size_t(n) * Kp + k] = q[size_t(n) * K + k];
        } else {  // pair panels; the gating of gate_up then runs as its own pass
            w.i16.assign(pair_panels_size(N, K), 0);
            pack_pair_panels_i8(N, K, q, w.i16.data());
        }
        w.scale.resize(size_t(N));
        convert_to_f32(*scale, w.scale.data());
        return;
    }
    switch (w.use) {
        case Matrix::Use::Right:
            w.kernel = Matrix::Kernel::Packed;
            w.packed = pack_panels(w.f32, N, K);
            break;
        case Matrix::Use::GateUp:  // gate [I, K] then up [I, K]: SwiGLU pair panels, the gating fused into the product
            w.kernel = Matrix::Kernel::Packed;
            w.packed.resize(swiglu_packed_size(N / 2, K));
            pack_swiglu_panels_into(N / 2, K, w.f32, w.packed.data());
            break;
        case Matrix::Use::Left:  // its right operand (activations) is packed at each product instead
            break;
    }
}
}  // namespace

void Model::pack(const std::vector<Tensor>& tensors) {
    simd_kernels_ = true;
    for (const Tensor& e : tensors) {
        if (!e.matrix) continue;
        build_kernel_form(*e.matrix, *e.view, e.scale);
        int8_kernels_ = int8_kernels_ || e.matrix->kernel == Matrix::Kernel::Int8;
    }
}

// RoPE's cos/sin [S, hd]: angle(pos, j) = pos * theta^(-2j/hd), the j < hd/2 angles concatenated twice. float32
// arithmetic in the same order as the reference, so the tables match it bit for bit where libm does.
void Model::make_rope_tables() {
    const Config& c = cfg_;
    if (c.pos_encodings != PosEncoding::Rope || c.mlp_t) return;
    const int S = c.positions(), hd = c.head_dim(), half = hd / 2;
    rope_cos.resize(size_t(S) * hd);
    rope_sin.resize(size_t(S) * hd);
    for (int s = 0; s < S; ++s)
        for (int j = 0; j < half; ++j) {
            const float inv_freq = 1.0f / std::pow(float(c.rope_theta), float(2 * j) / float(hd));
            const float angle = float(s) * inv_freq;
            for (int k : {j, j + half}) {
                rope_cos[size_t(s) * hd + k] = std::cos(angle);
                rope_sin[size_t(s) * hd + k] = std::sin(angle);
            }
        }
}

// ---------------------------------------------------------------------------------------------------------------
// Solver: the forward pass

// Attention runs a head in blocks of this many query rows, so that a pool thread's scratch holds the scores of one
// block, [64, S] (234 KiB at S 916), not [S, S] (3.4 MB; 27 MB for 8 threads, in WASM memory that never shrinks).
// As fast as whole heads at 1 and 2 threads (docs/PERFORMANCE.md).
constexpr int kQueryBlock = 64;
static int query_block(int S) { return std::min(S, kQueryBlock); }

// int16s per head group in att_i16_: q rows [S, hd_p], k's pair panels, one query block's weights [Q, S_p], v's pair
// panels.
static size_t att_i16_per_group(int S, int hd) {
    return size_t(S) * i16_padded_k(hd) + pair_panels_size(S, hd) + size_t(query_block(S)) * i16_padded_k(S) +
           pair_panels_size(hd, S);
}
// floats per head group in att_scale_: the scales of q [S], k [S], one query block's weights [Q] and v [hd].
static size_t att_scale_per_group(int S, int hd) { return 2 * size_t(S) + size_t(query_block(S)) + size_t(hd); }

// The one description of a Solver's buffers: the constructor allocates exactly these lengths, and the activation
// budget is their sum (tests/cpp/test_solve.cpp holds the sum to what the constructor really allocates).
Solver::Buffers Solver::buffers(const Model& m, int batch, int threads) {
    const Config& c = m.config();
    const uint64_t S = uint64_t(c.positions()), D = uint64_t(c.hidden_size), B = uint64_t(batch);
    const uint64_t V = uint64_t(c.vocab_size), T = uint64_t(c.seq_len);
    const uint64_t I = uint64_t(c.mlp_width()), It = c.mlp_t ? uint64_t(c.mlp_t_width()) : 0;
    const int hd = c.head_dim();
    const bool simd = m.simd_kernels(), int8 = m.int8_kernels();
    const uint64_t groups = uint64_t(std::min(c.num_heads, threads));  // attention's scratch, one per pool thread
    Buffers n;
    n.x = n.carry = B * S * D;
    n.logits = B * T * V;
    n.pred = B * T;
    n.slots = B;
    n.inj = n.tmp = S * D;
    if (!c.mlp_t) {
        n.qkv = S * 3 * D;
        n.attn = S * D;
        n.scores = groups * uint64_t(query_block(int(S))) * S;
        if (int8) {
            n.att_i16 = groups * att_i16_per_group(int(S), hd);
            n.att_scale = groups * att_scale_per_group(int(S), hd);
        } else if (simd) {
            n.panels = groups * (packed_size(int(S), hd) + packed_size(hd, int(S)));
        }
    } else {
        n.colnorm = D;
        if (simd) n.panels = std::max(packed_size(int(D), int(S)), packed_size(int(D), int(It)));
    }
    // gate_up_ holds [S, 2I] only where the gating is a separate pass (Eigen or int8); the fused kernel needs none.
    bool unfused = false;
    for (const LayerWeights& w : m.layers) unfused = unfused || w.mlp_gate_up.kernel != Matrix::Kernel::Packed;
    n.gate_up = std::max(unfused ? S * 2 * I : 0, 2 * It * D);
    n.act = std::max(S * I, It * D);
    if (int8) {  // rows of x up to [max(S, seq_len), max(D, I)], or b [max(S, I_t), D] as panels
        const int Kmax = int(std::max({D, I, S, It}));
        n.act_i16 = std::max(std::max(S, T) * uint64_t(i16_padded_k(Kmax)), uint64_t(pair_panels_size(int(D), Kmax)));
        n.act_scale = std::max({S, T, D});
    }
    return n;
}

uint64_t Solver::Buffers::bytes() const {
    const uint64_t floats = x + 2 * carry + logits + 2 * slots + inj + tmp + qkv + attn + scores + colnorm + panels +
                            gate_up + act + act_scale + att_scale;
    // per slot: steps_ (int) and loaded_, halted_, fresh_input_, fresh_carry_ (uint8_t)
    return sizeof(float) * floats + sizeof(int32_t) * pred + (sizeof(int) + 4 * sizeof(uint8_t)) * slots +
           sizeof(int16_t) * (act_i16 + att_i16);
}

Solver::Solver(std::shared_ptr<const Model> model, int batch, int threads)
    : model_(std::move(model)), cfg_(model_->config()), pool_(new ThreadPool(threads)), batch_(batch),
      S_(cfg_.positions()), D_(cfg_.hidden_size) {
    if (batch < 1 || batch > 4096) throw Error("solver: batch " + std::to_string(batch) + " is outside [1, 4096]");
    // Refuse before allocating anything large.
    const Buffers n = buffers(*model_, batch, pool_->size());
    if (n.bytes() > kActivationBudget)
        throw Error("solver: a batch of " + std::to_string(batch) + " needs " + std::to_string(n.bytes() >> 20) +
                    " MiB of activations; the limit is " + std::to_string(kActivationBudget >> 20) + " MiB (use a smaller batch)");
    const std::pair<std::vector<float>*, uint64_t> floats[] = {
        {&x_, n.x}, {&zH_, n.carry}, {&zL_, n.carry}, {&logits_, n.logits}, {&q_halt_, n.slots}, {&q_continue_, n.slots},
        {&inj_, n.inj}, {&tmp_, n.tmp}, {&qkv_, n.qkv}, {&attn_, n.attn}, {&scores_, n.scores}, {&colnorm_, n.colnorm},
        {&panels_, n.panels}, {&gate_up_, n.gate_up}, {&act_, n.act}, {&act_scale_, n.act_scale}, {&att_scale_, n.att_scale}};
    for (const auto& [v, len] : floats) v->resize(size_t(len));
    pred_.resize(size_t(n.pred));
    steps_.resize(size_t(n.slots));
    loaded_.resize(size_t(n.slots));
    halted_.resize(size_t(n.slots));
    fresh_input_.resize(size_t(n.slots));
    fresh_carry_.resize(size_t(n.slots));
    act_i16_.resize(size_t(n.act_i16));
    att_i16_.resize(size_t(n.att_i16));
}

void Solver::set_puzzle(int b, const int32_t* tokens, int32_t puzzle_id, bool keep_carry) {
    if (b < 0 || b >= batch_) throw Error("solver: slot " + std::to_string(b) + " is outside the batch of " + std::to_string(batch_));
    const Config& c = cfg_;
    const Model& m = *model_;
    for (int i = 0; i < c.seq_len; ++i)
        if (tokens[i] < 0 || tokens[i] >= c.vocab_size)
            throw Error("input: token " + std::to_string(tokens[i]) + " at position " + std::to_string(i) + " is outside the vocabulary [0, " + std::to_string(c.vocab_size) + ")");
    if (c.puzzle_emb_ndim > 0 && (puzzle_id < 0 || puzzle_id >= c.num_puzzle_identifiers))
        throw Error("input: puzzle identifier " + std::to_string(puzzle_id) + " is outside [0, " + std::to_string(c.num_puzzle_identifiers) + ")");

    const int P = c.prefix_len(), D = D_;
    float* x = x_.data() + size_t(b) * S_ * D;  // [S, D]
    // 1-2. Token embeddings after the puzzle prefix; the prefix is the puzzle's row, zero-padded to P*D values.
    std::fill(x, x + size_t(P) * D, 0.f);
    if (c.puzzle_emb_ndim > 0)
        std::memcpy(x, m.puzzle_emb + size_t(puzzle_id) * c.puzzle_emb_ndim, sizeof(float) * size_t(c.puzzle_emb_ndim));
    for (int i = 0; i < c.seq_len; ++i)
        std::memcpy(x + size_t(P + i) * D, m.embed_tokens + size_t(tokens[i]) * D, sizeof(float) * size_t(D));
    // 3. Learned positions.
    if (c.pos_encodings == PosEncoding::Learned)
        for (size_t k = 0; k < size_t(S_) * D; ++k) x[k] = 0.707106781f * (x[k] + m.embed_pos[k]);
    // 4. Scale by sqrt(D).
    const float scale = std::sqrt(float(D));
    for (size_t k = 0; k < size_t(S_) * D; ++k) x[k] *= scale;
    fresh_input_[b] = 1;

    if (keep_carry && loaded_[b]) {
        halted_[b] = 0;
        return;
    }
    // The carry starts as H_init / L_init at every position.
    float* zH = zH_.data() + size_t(b) * S_ * D;
    float* zL = zL_.data() + size_t(b) * S_ * D;
    for (int s = 0; s < S_; ++s) {
        std::memcpy(zH + size_t(s) * D, m.H_init, sizeof(float) * size_t(D));
        std::memcpy(zL + size_t(s) * D, m.L_init, sizeof(float) * size_t(D));
    }
    loaded_[b] = 1;
    halted_[b] = 0;
    fresh_carry_[b] = 1;
    steps_[b] = 0;
    q_halt_[b] = q_continue_[b] = 0.f;
}

void Solver::halt(int b) { halted_[b] = 1; }

void Solver::halt_confident() {
    for (int b = 0; b < batch_; ++b)
        if (active(b) && steps_[b] > 0 && q_halt_[b] > 0.f) halted_[b] = 1;
}

int Solver::any_active() const {
    int n = 0;
    for (int b = 0; b < batch_; ++b) n += active(b);
    return n;
}

void Solver::step() {
    for (int b = 0; b < batch_; ++b)
        if (active(b)) step_one(b);
}

// One supervision step for slot b.
void Solver::step_one(int b) {
    const Config& c = cfg_;
    const Model& m = *model_;
    const size_t SD = size_t(S_) * D_;
    float* zH = zH_.data() + b * SD;  // [S, D]
    float* zL = zL_.data() + b * SD;  // [S, D]
    const float* x = x_.data() + b * SD;  // [S, D]

    for (int h = 0; h < c.H_cycles; ++h) {
        for (int l = 0; l < c.L_cycles; ++l) {
            for (size_t k = 0; k < SD; ++k) inj_[k] = zH[k] + x[k];
            net(zL, inj_.data());  // zL = Net(zL, zH + x)
        }
        net(zH, zL);               // zH = Net(zH, zL)
    }

    // lm_head over the token positions (the prefix is dropped), q_head on position 0.
    const int P = c.prefix_len(), V = c.vocab_size;
    float* logits = logits_.data() + size_t(b) * c.seq_len * V;  // [seq_len, V]
    linear(c.seq_len, zH + size_t(P) * D_, D_, m.lm_head, logits, V);
    int32_t* pred = pred_.data() + size_t(b) * c.seq_len;
    for (int i = 0; i < c.seq_len; ++i) pred[i] = argmax(logits + size_t(i) * V, V);
    float q[2];
    gemm_nt(1, 2, D_, zH, D_, m.q_head_w, D_, q, 2);  // [1, 2]
    q_halt_[b] = q[0] + m.q_head_b[0];
    q_continue_[b] = q[1] + m.q_head_b[1];
    ++steps_[b];
}

void Solver::set_outputs(int b, const float* logits, float q_halt, float q_continue) {
    if (b < 0 || b >= batch_) throw Error("solver: slot " + std::to_string(b) + " is outside the batch of " + std::to_string(batch_));
    const int T = cfg_.seq_len, V = cfg_.vocab_size;
    float* out = logits_.data() + size_t(b) * T * V;
    std::memcpy(out, logits, sizeof(float) * size_t(T) * V);
    int32_t* pred = pred_.data() + size_t(b) * T;
    for (int i = 0; i < T; ++i) pred[i] = argmax(out + size_t(i) * V, V);
    q_halt_[b] = q_halt;
    q_continue_[b] = q_continue;
    fresh_input_[b] = fresh_carry_[b] = 0;
    ++steps_[b];
}

void Solver::set_carry(int b, const float* zH, const float* zL) {
    if (b < 0 || b >= batch_) throw Error("solver: slot " + std::to_string(b) + " is outside the batch of " + std::to_string(batch_));
    const size_t SD = size_t(S_) * D_;
    std::memcpy(zH_.data() + size_t(b) * SD, zH, sizeof(float) * SD);
    std::memcpy(zL_.data() + size_t(b) * SD, zL, sizeof(float) * SD);
    fresh_carry_[b] = 0;
}

// Column blocks are multiples of 16 so each thread's slice of w stays whole cache lines and SIMD tiles.
// With threads, 8 blocks per thread: the pool hands blocks out as threads free up, so a thread that starts late or
// that the OS deschedules (a busy machine, a browser tab) leaves the others at most one small block to wait for.
// (Threads' waiting at 4, 8 and 16 blocks per thread: docs/PERFORMANCE.md.)
static int block_size(int n, int threads) {
    const int parts = threads > 1 ? 8 * threads : 1;
    return std::max(16, ((n + parts - 1) / parts + 15) / 16 * 16);
}

template <class F> void Solver::in_blocks(int count, F&& f) {
    const int bs = block_size(count, pool_->size());
    pool_->parallel_for((count + bs - 1) / bs, [&](int i) { f(i * bs, std::min(count, (i + 1) * bs) - i * bs); });
}

void Solver::linear(int M, const float* x, int ldx, const Matrix& w, float* y, int ldy) {
    const int N = w.rows, K = w.cols;
    if (w.kernel == Matrix::Kernel::Int8) {  // quantise x's rows once, then column blocks on the integer kernel
        const int Kp = i16_padded_k(K);
        int16_t* xq = act_i16_.data();  // [M, Kp]
        float* xs = act_scale_.data();   // [M]
        in_blocks(M, [&](int m0, int m) {
            quantize_rows_i16(m, K, x + size_t(m0) * ldx, ldx, i16_range(K), xq + size_t(m0) * Kp, Kp, xs + m0);
        });
        in_blocks(N, [&](int n0, int n) {
            gemm_nt_pairs(M, n, K, xq, Kp, xs, w.i16.data() + size_t(n0) * Kp, w.scale.data() + n0, y + n0, ldy);  // n0 % 8 == 0
        });
        return;
    }
    in_blocks(N, [&](int n0, int n) {
        if (w.kernel == Matrix::Kernel::Packed) gemm_nt_packed(M, n, K, x, ldx, w.packed.data() + size_t(n0) * K, y + n0, ldy);  // n0 % 8 == 0
        else gemm_nt(M, n, K, x, ldx, w.f32 + size_t(n0) * K, K, y + n0, ldy);
    });
}

// SIMD kernels: b (activations) is packed into panels first (O(KN), against the product's O(MKN)), then y's
// columns run on the packed kernel; an int8 a quantises b's columns into int16 pair panels instead. Each column
// block packs the columns it multiplies, so packing and product share one parallel loop. Eigen: row blocks.
void Solver::matmul(const Matrix& a, int N, const float* b, float* y) {
    const int M = a.rows, K = a.cols;
    if (model_->simd_kernels()) {
        if (a.kernel == Matrix::Kernel::Int8) {
            const int Kp = i16_padded_k(K);
            int16_t* panels = act_i16_.data();  // [ceil(N/8), Kp/2, 16]
            float* bscale = act_scale_.data();  // [N]
            in_blocks(N, [&](int n0, int n) {
                quantize_cols_to_pair_panels(K, n, b + n0, N, i16_range(K), panels + size_t(n0) * Kp, bscale + n0);
                gemm_nt_pairs(M, n, K, a.i16.data(), Kp, a.scale.data(), panels + size_t(n0) * Kp, bscale + n0, y + n0, N);
            });
            return;
        }
        float* panels = panels_.data();  // [ceil(N/8), K, 8]
        in_blocks(N, [&](int n0, int n) {
            pack_panels_kn_into(K, n, b + n0, N, panels + size_t(n0) * K);
            gemm_nt_packed(M, n, K, a.f32, K, panels + size_t(n0) * K, y + n0, N);
        });
        return;
    }
    in_blocks(M, [&](int m0, int m) {
        gemm_nn(m, N, K, a.f32 + size_t(m0) * K, K, b, N, y + size_t(m0) * N, N);
    });
}

// h = rms_norm(h + tmp_) row by row (attention and MLP blocks), in row blocks on the pool.
void Solver::add_rms_norm_rows_on_pool(float* h) {
    const int D = D_;
    in_blocks(S_, [&](int r0, int rows) {
        add_rms_norm_rows(rows, D, h + size_t(r0) * D, tmp_.data() + size_t(r0) * D, float(cfg_.rms_norm_eps));
    });
}

// Net(h, inj): h = h + inj, then every block of the one shared network.
static bool (*g_interrupt)() = nullptr;
void set_interrupt(bool (*check)()) { g_interrupt = check; }

void Solver::net(float* h, const float* inj) {
    const size_t SD = size_t(S_) * D_;
    for (size_t k = 0; k < SD; ++k) h[k] += inj[k];
    for (const LayerWeights& w : model_->layers) {
        if (g_interrupt && g_interrupt()) throw Interrupted("solve: cancelled");
        if (cfg_.mlp_t) mlp_t_block(h, w);
        else attention_block(h, w);
        mlp_block(h, w);
    }
}

// h = rms(h + o_proj(MultiHeadAttention(rope(q), rope(k), v))), non-causal.
void Solver::attention_block(float* h, const LayerWeights& w) {
    const int S = S_, D = D_, H = cfg_.num_heads, hd = cfg_.head_dim();
    float* qkv = qkv_.data();  // [S, 3D]: q heads, then k heads, then v heads
    linear(S, h, D, w.qkv_proj, qkv, 3 * D);
    if (cfg_.pos_encodings == PosEncoding::Rope) {
        in_blocks(S, [&](int s0, int n) {  // q's and k's heads at positions [s0, s0 + n)
            const size_t at = size_t(s0) * 3 * D, tab = size_t(s0) * hd;
            rope(n, H, hd, qkv + at, 3 * D, model_->rope_cos.data() + tab, model_->rope_sin.data() + tab);      // q
            rope(n, H, hd, qkv + at + D, 3 * D, model_->rope_cos.data() + tab, model_->rope_sin.data() + tab);  // k
        });
    }
    const float scale = 1.f / std::sqrt(float(hd));
    // One scratch buffer per pool thread (groups); each claims the next head until none is left, so a thread that
    // the OS deschedules (a shared machine, a busy tab) leaves its heads to the others instead of stalling the step.
    const int Q = query_block(S);
    const int groups = int(scores_.size() / (size_t(Q) * S));
    std::atomic<int> next_head{0};
    const bool simd = model_->simd_kernels(), int8 = model_->int8_kernels();
    // int8 models run both products on the integer kernels, every operand quantised to int16 per row (q, k, the
    // weights) or per column (v) at ranges whose int32 sums cannot overflow (kernels.h): q and k share one range
    // (5,792 at hd 64); the weights get up to 14 bits (16,383; fewer above S 1,032, so that v keeps at least 126
    // levels, about int8's), v the rest (142 at S 916). Of the weights' ranges tried (1,531 to 32,767), 16,383 moved the reference cases'
    // logits least (tests/cpp/test_reference.cpp).
    const int r_qk = i16_range_both(hd), r_p = std::min(16383, i16_range(S, 127)), r_v = i16_range(S, r_p);
    pool_->parallel_for(groups, [&](int g) {
        float* scores = scores_.data() + size_t(g) * Q * S;  // [Q, S]: one block of query rows
        for (int head = next_head.fetch_add(1, std::memory_order_relaxed); head < H; head = next_head.fetch_add(1, std::memory_order_relaxed)) {
            const float* q = qkv + head * hd;
            const float* k = qkv + D + head * hd;
            const float* v = qkv + 2 * D + head * hd;
            float* out = attn_.data() + head * hd;  // [S, hd] at stride D
            if (int8) {
                const int hdp = i16_padded_k(hd), Sp = i16_padded_k(S);
                int16_t* qq = att_i16_.data() + size_t(g) * att_i16_per_group(S, hd);  // [S, hdp]
                int16_t* kq = qq + size_t(S) * hdp;                                     // k as pair panels [S, hd]
                int16_t* pq = kq + pair_panels_size(S, hd);                             // [Q, Sp]
                int16_t* vq = pq + size_t(Q) * Sp;                                      // v^T as pair panels [hd, S]
                float* qs = att_scale_.data() + size_t(g) * att_scale_per_group(S, hd);  // [S]
                float *ks = qs + S, *ps = ks + S, *vs = ps + Q;                        // [S], [Q], [hd]
                quantize_rows_i16(S, hd, q, 3 * D, r_qk, qq, hdp, qs);
                quantize_rows_to_pair_panels(S, hd, k, 3 * D, r_qk, kq, ks);
                quantize_cols_to_pair_panels(S, hd, v, 3 * D, r_v, vq, vs);
                for (int r0 = 0; r0 < S; r0 += Q) {
                    const int rows = std::min(Q, S - r0);
                    gemm_nt_pairs(rows, S, hd, qq + size_t(r0) * hdp, hdp, qs + r0, kq, ks, scores, S);  // q k^T
                    softmax_rows_i16(rows, S, scores, scale, r_p, pq, Sp, ps);
                    gemm_nt_pairs(rows, hd, S, pq, Sp, ps, vq, vs, out + size_t(r0) * D, D);  // P v
                }
            } else if (simd) {  // k and v packed into panels (per head: they are slices of qkv), then the packed kernel
                float* kp = panels_.data() + size_t(g) * (packed_size(S, hd) + packed_size(hd, S));  // k as w [S, hd]
                float* vp = kp + packed_size(S, hd);                                                  // v as b [S, hd]
                pack_panels_into(S, hd, k, 3 * D, kp);
                pack_panels_kn_into(S, hd, v, 3 * D, vp);
                for (int r0 = 0; r0 < S; r0 += Q) {
                    const int rows = std::min(Q, S - r0);
                    gemm_nt_packed(rows, S, hd, q + size_t(r0) * 3 * D, 3 * D, kp, scores, S);  // q k^T
                    softmax_rows(rows, S, scores, scale);
                    gemm_nt_packed(rows, hd, S, scores, S, vp, out + size_t(r0) * D, D);  // [rows, hd] = P v
                }
            } else {
                for (int r0 = 0; r0 < S; r0 += Q) {
                    const int rows = std::min(Q, S - r0);
                    gemm_nt(rows, S, hd, q + size_t(r0) * 3 * D, 3 * D, k, 3 * D, scores, S);  // q k^T
                    softmax_rows(rows, S, scores, scale);
                    gemm_nn(rows, hd, S, scores, S, v, 3 * D, out + size_t(r0) * D, D);
                }
            }
        }
    });
    linear(S, attn_.data(), D, w.o_proj, tmp_.data(), D);
    add_rms_norm_rows_on_pool(h);
}

// Token mixing over positions: on h^T [D, S], h^T = rms(h^T + SwiGLU_t(h^T)), norm over S.
// Computed without transposing: SwiGLU_t(h^T)^T = down_t [S, I_t] * (silu(gate_t h) * (up_t h)), gate_t/up_t [I_t, S].
void Solver::mlp_t_block(float* h, const LayerWeights& w) {
    const int S = S_, D = D_, It = cfg_.mlp_t_width();
    matmul(w.mlp_t_gate_up, D, h, gate_up_.data());  // [2I_t, D]
    const float* gate = gate_up_.data();  // [I_t, D], then up [I_t, D]
    in_blocks(It, [&](int r0, int rows) {  // I_t * D exponentials, by row blocks
        const size_t at = size_t(r0) * D;
        swiglu(size_t(rows) * D, gate + at, gate + size_t(It) * D + at, act_.data() + at);  // [I_t, D]
    });
    matmul(w.mlp_t_down, D, act_.data(), tmp_.data());  // [S, D]
    add_rms_norm_cols(S, D, h, tmp_.data(), float(cfg_.rms_norm_eps), colnorm_.data());
}

// h = rms(h + down(silu(gate(h)) * up(h))), over the hidden axis.
void Solver::mlp_block(float* h, const LayerWeights& w) {
    const int S = S_, D = D_, I = cfg_.mlp_width();
    if (w.mlp_gate_up.kernel == Matrix::Kernel::Packed) {  // both products and the gating in one pass, by column blocks of act
        in_blocks(I, [&](int n0, int n) {
            gemm_swiglu_packed(S, n, D, h, D, w.mlp_gate_up.packed.data() + size_t(n0) * 2 * D, act_.data() + n0, I);  // [S, n]
        });
    } else {
        linear(S, h, D, w.mlp_gate_up, gate_up_.data(), 2 * I);  // [S, 2I]
        in_blocks(S, [&](int r0, int rows) {  // the gating by row blocks: S * I exponentials
            swiglu_rows(rows, I, gate_up_.data() + size_t(r0) * 2 * I, act_.data() + size_t(r0) * I);  // [S, I]
        });
    }
    linear(S, act_.data(), I, w.mlp_down, tmp_.data(), D);  // [S, D]
    add_rms_norm_rows_on_pool(h);
}

}  // namespace trm
