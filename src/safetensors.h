// safetensors: reader that validates the whole header before any data is touched, and a small writer.
// Format: 8-byte little-endian header length N, N bytes of JSON, then the raw little-endian data region.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "error.h"

namespace trm {

enum class DType { F32, F16, BF16, I8, I32 };
const char* dtype_name(DType d);
size_t dtype_size(DType d);

struct TensorView {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    const uint8_t* data;  // points into the caller's buffer; valid while that buffer lives
    size_t nbytes;
    int64_t numel() const;
};

struct SafetensorsFile {
    std::map<std::string, std::string> metadata;  // __metadata__ (string -> string)
    std::vector<TensorView> tensors;              // in header order
    const TensorView* find(const std::string& name) const;
};

// Parses and validates `bytes` (the whole file). `label` (usually the path) prefixes every error message.
// Checks: header length within the file, JSON well-formed, dtypes known, shapes non-negative, byte counts equal to
// shape x dtype size, offsets in range, tensors neither overlapping nor leaving holes in the data region.
SafetensorsFile parse_safetensors(const uint8_t* bytes, size_t size, const std::string& label);

// Converts F32/F16/BF16/I8/I32 data to float32 (I8 without scale: the raw integer values).
void convert_to_f32(const TensorView& t, float* out);

float f16_to_f32(uint16_t h);
float bf16_to_f32(uint16_t b);

class SafetensorsWriter {
public:
    void add(const std::string& name, DType dtype, std::vector<int64_t> shape, const void* data);
    void set_metadata(const std::string& key, const std::string& value) { metadata_[key] = value; }
    std::vector<uint8_t> bytes() const;
    void write(const std::string& path) const;  // throws trm::Error naming the path on failure

private:
    struct Entry { std::string name; DType dtype; std::vector<int64_t> shape; std::vector<uint8_t> data; };
    std::vector<Entry> entries_;
    std::map<std::string, std::string> metadata_;
};

// Files read whole (weight files, inputs, configs, task files) are at most this size; a checkpoint, read by offset,
// has no limit. The WASM engine's memory is 2 GiB, and a weight file is held twice while it loads. The Node CLI and
// web/trm.js refuse with the same messages (kMaxFileBytes there).
constexpr uint64_t kMaxFileBytes = uint64_t(1) << 30;
// The size of the regular file at path. Anything else (a device such as /dev/zero, a pipe, a folder) is refused
// before it is opened, with "PATH: not a regular file"; a path that is not there, with "PATH: cannot open file".
uint64_t regular_file_size(const std::string& path);
std::vector<uint8_t> read_file(const std::string& path);  // throws trm::Error naming the path; at most kMaxFileBytes
void write_file(const std::string& path, const std::vector<uint8_t>& bytes);  // likewise

}  // namespace trm
