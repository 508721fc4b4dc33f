#include "safetensors.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "json_read.h"

namespace trm {

const char* dtype_name(DType d) {
    switch (d) {
        case DType::F32: return "F32";
        case DType::F16: return "F16";
        case DType::BF16: return "BF16";
        case DType::I8: return "I8";
        case DType::I32: return "I32";
    }
    return "?";
}

size_t dtype_size(DType d) {
    switch (d) {
        case DType::F32: case DType::I32: return 4;
        case DType::F16: case DType::BF16: return 2;
        case DType::I8: return 1;
    }
    return 0;
}

int64_t TensorView::numel() const {
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    return n;
}

const TensorView* SafetensorsFile::find(const std::string& name) const {
    for (const TensorView& t : tensors)
        if (t.name == name) return &t;
    return nullptr;
}

// A header larger than this is refused before it is parsed: real TRM headers are a few KiB.
static constexpr uint64_t kMaxHeaderBytes = 64u << 20;

static bool parse_dtype(const std::string& s, DType* out) {
    static const std::pair<const char*, DType> names[] = {
        {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16}, {"I8", DType::I8}, {"I32", DType::I32}};
    for (const auto& [n, d] : names)
        if (s == n) { *out = d; return true; }
    return false;
}

SafetensorsFile parse_safetensors(const uint8_t* bytes, size_t size, const std::string& label) {
    auto fail = [&](const std::string& what) -> Error { return Error(label + ": " + what); };
    if (size < 8) throw fail("file is " + std::to_string(size) + " bytes; a safetensors file needs at least the 8-byte header length");
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
    if (header_len > size - 8)
        throw fail("header length " + std::to_string(header_len) + " runs past the end of the file (" +
                   std::to_string(size - 8) + " bytes after the length field)");
    if (header_len > kMaxHeaderBytes)
        throw fail("header length " + std::to_string(header_len) + " exceeds the limit of " + std::to_string(kMaxHeaderBytes));

    const char* header = reinterpret_cast<const char*>(bytes + 8);
    nlohmann::json j = parse_json(header, header + header_len, label + ": header");
    if (j.is_discarded()) throw fail("header is not well-formed JSON");
    if (!j.is_object()) throw fail("header JSON must be an object of tensor entries");

    const uint8_t* data = bytes + 8 + header_len;
    const uint64_t data_size = size - 8 - header_len;
    SafetensorsFile file;
    struct Span { uint64_t begin, end; std::string name; };
    std::vector<Span> spans;
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string& name = it.key();
        const nlohmann::json& e = it.value();
        if (name == "__metadata__") {
            if (!e.is_object()) throw fail("__metadata__ must be an object of strings");
            for (auto m = e.begin(); m != e.end(); ++m) {
                if (!m.value().is_string()) throw fail("__metadata__." + m.key() + " must be a string");
                file.metadata[m.key()] = m.value().get<std::string>();
            }
            continue;
        }
        auto bad = [&](const std::string& what) { return fail("tensor '" + name + "': " + what); };
        if (!e.is_object()) throw bad("entry must be an object with dtype, shape, data_offsets");
        if (!e.contains("dtype") || !e["dtype"].is_string()) throw bad("missing string field 'dtype'");
        TensorView t;
        t.name = name;
        if (!parse_dtype(e["dtype"].get<std::string>(), &t.dtype))
            throw bad("dtype '" + e["dtype"].get<std::string>() + "' is not one of F32, F16, BF16, I8, I32");
        if (!e.contains("shape") || !e["shape"].is_array()) throw bad("missing array field 'shape'");
        if (e["shape"].size() > 8) throw bad("shape has " + std::to_string(e["shape"].size()) + " dimensions; at most 8 expected");
        // Element count with overflow checks: a claimed shape can never exceed the bytes the file holds.
        uint64_t numel = 1;
        for (const auto& d : e["shape"]) {
            if (!d.is_number_unsigned()) throw bad("shape entries must be non-negative integers");
            uint64_t v = d.get<uint64_t>();
            if (v > data_size || (v != 0 && numel > data_size / v))
                numel = data_size + 1;  // saturate: refused below as larger than the data region
            else
                numel *= v;
            t.shape.push_back(static_cast<int64_t>(std::min<uint64_t>(v, uint64_t(1) << 62)));
        }
        if (!e.contains("data_offsets") || !e["data_offsets"].is_array() || e["data_offsets"].size() != 2 ||
            !e["data_offsets"][0].is_number_unsigned() || !e["data_offsets"][1].is_number_unsigned())
            throw bad("data_offsets must be two non-negative integers [begin, end]");
        uint64_t begin = e["data_offsets"][0].get<uint64_t>(), end = e["data_offsets"][1].get<uint64_t>();
        if (begin > end) throw bad("data_offsets begin " + std::to_string(begin) + " is after end " + std::to_string(end));
        if (end > data_size)
            throw bad("data_offsets end " + std::to_string(end) + " is past the data region (" + std::to_string(data_size) + " bytes)");
        if (numel > data_size) throw bad("shape claims more elements than the file holds");
        uint64_t expected = numel * dtype_size(t.dtype);
        if (end - begin != expected)
            throw bad("data_offsets span " + std::to_string(end - begin) + " bytes but shape x dtype needs " + std::to_string(expected));
        t.data = data + begin;
        t.nbytes = static_cast<size_t>(end - begin);
        spans.push_back({begin, end, name});
        file.tensors.push_back(std::move(t));
    }
    std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin || (a.begin == b.begin && a.end < b.end); });
    uint64_t pos = 0;
    for (const Span& s : spans) {
        if (s.begin < pos) throw fail("tensor '" + s.name + "' overlaps the previous tensor in the data region");
        if (s.begin > pos) throw fail("data region has a hole of " + std::to_string(s.begin - pos) + " bytes before tensor '" + s.name + "'");
        pos = s.end;
    }
    if (pos != data_size) throw fail("data region has " + std::to_string(data_size - pos) + " trailing bytes not covered by any tensor");
    return file;
}

float f16_to_f32(uint16_t h) {
    uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) bits = sign;
        else {  // subnormal: normalise
            exp = 127 - 15 + 1;
            while (!(man & 0x400)) { man <<= 1; --exp; }
            bits = sign | (exp << 23) | ((man & 0x3ff) << 13);
        }
    } else if (exp == 31) bits = sign | 0x7f800000 | (man << 13);
    else bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

float bf16_to_f32(uint16_t b) {
    uint32_t bits = uint32_t(b) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

void convert_to_f32(const TensorView& t, float* out) {
    const int64_t n = t.numel();
    const uint8_t* p = t.data;
    for (int64_t i = 0; i < n; ++i) {
        switch (t.dtype) {
            case DType::F32: { float v; std::memcpy(&v, p + 4 * i, 4); out[i] = v; break; }
            case DType::I32: { int32_t v; std::memcpy(&v, p + 4 * i, 4); out[i] = float(v); break; }
            case DType::F16: { uint16_t v; std::memcpy(&v, p + 2 * i, 2); out[i] = f16_to_f32(v); break; }
            case DType::BF16: { uint16_t v; std::memcpy(&v, p + 2 * i, 2); out[i] = bf16_to_f32(v); break; }
            case DType::I8: out[i] = float(int8_t(p[i])); break;
        }
    }
}

void SafetensorsWriter::add(const std::string& name, DType dtype, std::vector<int64_t> shape, const void* data) {
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    Entry e{name, dtype, std::move(shape), {}};
    const uint8_t* p = static_cast<const uint8_t*>(data);
    e.data.assign(p, p + n * dtype_size(dtype));
    entries_.push_back(std::move(e));
}

std::vector<uint8_t> SafetensorsWriter::bytes() const {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata_.empty()) header["__metadata__"] = metadata_;
    uint64_t offset = 0;
    for (const Entry& e : entries_) {
        header[e.name] = {{"dtype", dtype_name(e.dtype)}, {"shape", e.shape}, {"data_offsets", {offset, offset + e.data.size()}}};
        offset += e.data.size();
    }
    std::string h = header.dump();
    while ((8 + h.size()) % 8) h.push_back(' ');  // align the data region to 8 bytes, as safetensors does
    std::vector<uint8_t> out(8);
    for (int i = 0; i < 8; ++i) out[i] = uint8_t(uint64_t(h.size()) >> (8 * i));
    out.insert(out.end(), h.begin(), h.end());
    for (const Entry& e : entries_) out.insert(out.end(), e.data.begin(), e.data.end());
    return out;
}

void SafetensorsWriter::write(const std::string& path) const { write_file(path, bytes()); }

void write_file(const std::string& path, const std::vector<uint8_t>& b) {
    std::ofstream f(path, std::ios::binary);
    if (!f) throw Error(path + ": cannot open for writing");
    f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
    if (!f) throw Error(path + ": write failed");
}

uint64_t regular_file_size(const std::string& path) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) throw Error(path + ": cannot open file");
    if (!S_ISREG(st.st_mode)) throw Error(path + ": not a regular file");
    return uint64_t(st.st_size);
}

std::vector<uint8_t> read_file(const std::string& path) {
    const uint64_t size = regular_file_size(path);
    if (size > kMaxFileBytes)
        throw Error(path + ": file is " + std::to_string(size) + " bytes; files read whole are limited to " +
                    std::to_string(kMaxFileBytes) + " bytes (1 GiB)");
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    if (!f) throw Error(path + ": cannot open file");
    std::streamoff n = f.tellg();
    if (n < 0) throw Error(path + ": cannot determine file size");
    std::vector<uint8_t> b(static_cast<size_t>(n));
    f.seekg(0);
    if (n > 0 && !f.read(reinterpret_cast<char*>(b.data()), n)) throw Error(path + ": read failed");
    return b;
}

}  // namespace trm
