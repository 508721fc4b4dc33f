// PyTorch checkpoint files (torch.save of a state dict, the format the official TRM training code writes), read
// without Python and without executing anything: the zip container (stored entries only) and a restricted
// unpickler that accepts only what a saved state dict holds. Tensor data is never read here: the result says where
// each tensor lies in the file, so callers read what they keep, by offset (a 2 GB ARC checkpoint is mostly a
// puzzle-embedding table of which a task needs a few rows).
#pragma once
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "safetensors.h"

namespace trm {

// Random-access bytes: a file on disk, a buffer, or (in the browser) a user's File read with Blob.slice.
class ByteSource {
public:
    virtual ~ByteSource() = default;
    virtual uint64_t size() const = 0;
    // Reads bytes [offset, offset + n) into dst; throws trm::Error naming the source if they are not there.
    virtual void read(uint64_t offset, size_t n, uint8_t* dst) const = 0;
    // Announces the (offset, size) ranges about to be read, so that a piecewise source asks for them all at once.
    virtual void need(const std::vector<std::pair<uint64_t, uint64_t>>& ranges) const { (void)ranges; }
    const std::string& label() const { return label_; }

protected:
    explicit ByteSource(std::string label) : label_(std::move(label)) {}
    std::string label_;
};

class FileSource : public ByteSource {
public:
    explicit FileSource(const std::string& path);  // throws trm::Error naming the path
    uint64_t size() const override { return size_; }
    void read(uint64_t offset, size_t n, uint8_t* dst) const override;

private:
    mutable std::ifstream in_;
    uint64_t size_ = 0;
};

class MemorySource : public ByteSource {
public:
    MemorySource(const uint8_t* data, size_t size, std::string label) : ByteSource(std::move(label)), data_(data), size_(size) {}
    uint64_t size() const override { return size_; }
    void read(uint64_t offset, size_t n, uint8_t* dst) const override;

private:
    const uint8_t* data_;
    size_t size_;
};

// A file read piece by piece, where reads cannot wait (the browser's Blob.slice is asynchronous): holds the pieces
// given so far; a read of bytes it does not hold throws NeedBytes, an announcement of ranges it does not hold
// NeedRanges. The caller fetches them, add()s them and runs the same parse again.
struct NeedBytes : Error {
    uint64_t offset, size;
    NeedBytes(const std::string& label, uint64_t o, uint64_t n)
        : Error(label + ": bytes " + std::to_string(o) + "+" + std::to_string(n) + " were not read yet"), offset(o), size(n) {}
};

struct NeedRanges : Error {
    std::vector<std::pair<uint64_t, uint64_t>> ranges;  // (offset, size)
    NeedRanges(const std::string& label, std::vector<std::pair<uint64_t, uint64_t>> r)
        : Error(label + ": " + std::to_string(r.size()) + " ranges were not read yet"), ranges(std::move(r)) {}
};

class PieceSource : public ByteSource {
public:
    PieceSource(uint64_t size, std::string label) : ByteSource(std::move(label)), size_(size) {}
    uint64_t size() const override { return size_; }
    void read(uint64_t offset, size_t n, uint8_t* dst) const override;  // throws NeedBytes unless one piece holds it
    void need(const std::vector<std::pair<uint64_t, uint64_t>>& ranges) const override;  // NeedRanges: those not held
    void add(uint64_t offset, const uint8_t* data, size_t n);          // throws trm::Error if it lies past the end
    bool holds(uint64_t offset, uint64_t n) const;                     // one piece holds all of [offset, offset + n)
    uint64_t held_bytes() const;
    void release() { pieces_.clear(); }  // once everything has been read

private:
    uint64_t size_;
    std::map<uint64_t, std::vector<uint8_t>> pieces_;  // by offset
};

// --- zip ---------------------------------------------------------------------------------------------------------

struct ZipEntry {
    std::string name;
    uint64_t data_offset = 0;  // where the entry's bytes start in the file
    uint64_t size = 0;
};

// The central directory of a zip file whose entries are all stored (method 0), zip64 records included. Refuses
// compressed or encrypted entries, multi-disk archives and anything that lies outside the file, in one line each.
std::vector<ZipEntry> read_zip_directory(const ByteSource& src);

bool looks_like_zip(const ByteSource& src);  // starts with a local file header

// --- restricted unpickler ----------------------------------------------------------------------------------------

// One tensor of a state dict as its pickle describes it: a contiguous view of a storage.
struct PickledTensor {
    std::string key;           // the state dict's key, as saved
    std::string storage;       // the storage's name: its zip entry is <archive>/data/<storage>
    DType dtype = DType::F32;  // F32, BF16 or F16; I32 for integer storages (Int or Long, elem_bytes 4 or 8)
    int elem_bytes = 4;
    int64_t storage_numel = 0;
    int64_t offset = 0;        // in elements
    std::vector<int64_t> shape;
};

// Parses data.pkl of a state dict. Accepts dict / collections.OrderedDict, tuples, strings, ints, floats, bools,
// None, torch._utils._rebuild_tensor_v2 and persistent-id storage references of torch.FloatStorage,
// BFloat16Storage, HalfStorage (weights), IntStorage and LongStorage (buffers the loader skips by name); any other
// global or opcode is refused by name before it is acted on.
// `label` names the pickle in errors.
std::vector<PickledTensor> unpickle_state_dict(const uint8_t* data, size_t size, const std::string& label);

// --- the two together ----------------------------------------------------------------------------------------------

struct CheckpointTensor {
    std::string key;  // as saved
    DType dtype = DType::F32;
    bool integer = false;  // an Int or Long storage: a buffer, never a weight
    std::vector<int64_t> shape;
    uint64_t offset = 0;  // absolute, in the file
    uint64_t nbytes = 0;
    int64_t numel() const;
};

struct TorchCheckpoint {
    std::vector<CheckpointTensor> tensors;  // in the pickle's order
};

// Reads the zip directory and data.pkl (nothing else) and checks that every tensor lies within its storage entry.
TorchCheckpoint read_torch_checkpoint(const ByteSource& src);

}  // namespace trm
