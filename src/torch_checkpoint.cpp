// PyTorch checkpoint reader: zip directory, restricted unpickler, tensor locations. See torch_checkpoint.h.
#include "torch_checkpoint.h"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <limits>
#include <map>
#include <unordered_map>
#include <unordered_set>

namespace trm {

// ---------------------------------------------------------------------------------------------------------------
// Byte sources

FileSource::FileSource(const std::string& path) : ByteSource(path) {
    regular_file_size(path);  // a device or pipe is refused before it is opened (it could block or never end)
    in_.open(path, std::ios::binary);
    if (!in_) throw Error(path + ": cannot open file");
    in_.seekg(0, std::ios::end);
    const std::streamoff end = in_.tellg();
    if (end < 0) throw Error(path + ": cannot determine the file's size");
    size_ = uint64_t(end);
}

void FileSource::read(uint64_t offset, size_t n, uint8_t* dst) const {
    if (offset > size_ || n > size_ - offset)
        throw Error(label_ + ": read of " + std::to_string(n) + " bytes at offset " + std::to_string(offset) +
                    " runs past the end of the file (" + std::to_string(size_) + " bytes; truncated?)");
    in_.clear();
    in_.seekg(std::streamoff(offset));
    in_.read(reinterpret_cast<char*>(dst), std::streamsize(n));
    if (!in_) throw Error(label_ + ": read of " + std::to_string(n) + " bytes at offset " + std::to_string(offset) + " failed");
}

void MemorySource::read(uint64_t offset, size_t n, uint8_t* dst) const {
    if (offset > size_ || n > size_ - offset)
        throw Error(label_ + ": read of " + std::to_string(n) + " bytes at offset " + std::to_string(offset) +
                    " runs past the end of the data (" + std::to_string(size_) + " bytes; truncated?)");
    if (n) std::memcpy(dst, data_ + offset, n);
}

void PieceSource::read(uint64_t offset, size_t n, uint8_t* dst) const {
    if (offset > size_ || n > size_ - offset)
        throw Error(label_ + ": read of " + std::to_string(n) + " bytes at offset " + std::to_string(offset) +
                    " runs past the end of the file (" + std::to_string(size_) + " bytes; truncated?)");
    if (!holds(offset, n)) throw NeedBytes(label_, offset, n);
    auto it = std::prev(pieces_.upper_bound(offset));
    if (n) std::memcpy(dst, it->second.data() + (offset - it->first), n);
}

void PieceSource::need(const std::vector<std::pair<uint64_t, uint64_t>>& ranges) const {
    std::vector<std::pair<uint64_t, uint64_t>> missing;
    for (const auto& r : ranges)
        if (r.first <= size_ && r.second <= size_ - r.first && !holds(r.first, r.second)) missing.push_back(r);
    if (!missing.empty()) throw NeedRanges(label_, std::move(missing));
}

bool PieceSource::holds(uint64_t offset, uint64_t n) const {
    auto it = pieces_.upper_bound(offset);  // the last piece starting at or before offset
    if (it == pieces_.begin()) return false;
    --it;
    return offset - it->first <= it->second.size() && n <= it->second.size() - (offset - it->first);
}

void PieceSource::add(uint64_t offset, const uint8_t* data, size_t n) {
    if (offset > size_ || n > size_ - offset)
        throw Error(label_ + ": piece of " + std::to_string(n) + " bytes at offset " + std::to_string(offset) + " lies past the end of the file");
    std::vector<uint8_t>& p = pieces_[offset];
    if (n > p.size()) p.assign(data, data + n);
}

uint64_t PieceSource::held_bytes() const {
    uint64_t n = 0;
    for (const auto& [o, p] : pieces_) n += p.size();
    return n;
}

// ---------------------------------------------------------------------------------------------------------------
// zip

namespace {

uint64_t le(const uint8_t* p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr uint32_t kEnd64Sig = 0x06064b50, kEnd64LocatorSig = 0x07064b50;
// A state dict has one entry per storage: a few hundred at most; the directory of 2^20 would be ~60 MB.
constexpr uint64_t kMaxEntries = 1 << 20;
constexpr uint64_t kMaxDirectoryBytes = 64ull << 20;

const char* method_name(uint64_t m) {
    switch (m) {
        case 8: return "deflate";
        case 9: return "deflate64";
        case 12: return "bzip2";
        case 14: return "lzma";
        case 93: return "zstd";
        default: return "unknown";
    }
}

}  // namespace

bool looks_like_zip(const ByteSource& src) {
    if (src.size() < 4) return false;
    uint8_t b[4];
    src.read(0, 4, b);
    return le(b, 4) == kLocalSig;
}

std::vector<ZipEntry> read_zip_directory(const ByteSource& src) {
    const std::string& f = src.label();
    const uint64_t size = src.size();
    // End of central directory: 22 bytes plus a comment of at most 65535, at the very end.
    const uint64_t tail_len = std::min<uint64_t>(size, 22 + 65535);
    std::vector<uint8_t> tail(tail_len);
    src.read(size - tail_len, tail_len, tail.data());
    int64_t eocd = -1;
    for (int64_t i = int64_t(tail_len) - 22; i >= 0; --i)
        if (le(&tail[size_t(i)], 4) == kEndSig && uint64_t(i) + 22 + le(&tail[size_t(i) + 20], 2) == tail_len) { eocd = i; break; }
    if (eocd < 0) throw Error(f + ": no zip end-of-central-directory record at the end of the file (truncated, or not a zip file)");
    const uint8_t* e = &tail[size_t(eocd)];
    const uint64_t eocd_pos = size - tail_len + uint64_t(eocd);
    uint64_t disk = le(e + 4, 2), cd_disk = le(e + 6, 2), count = le(e + 10, 2), cd_size = le(e + 12, 4), cd_offset = le(e + 16, 4);
    if (le(e + 8, 2) != count) throw Error(f + ": zip end record: entries on this disk differ from the total; multi-disk archives are not supported");

    // zip64: a locator just before the end record points at the 64-bit end record (torch.save always writes one).
    if (eocd_pos >= 20) {
        uint8_t loc[20];
        src.read(eocd_pos - 20, 20, loc);
        if (le(loc, 4) == kEnd64LocatorSig) {
            if (le(loc + 4, 4) != 0 || le(loc + 16, 4) != 1)
                throw Error(f + ": zip64 locator names another disk; multi-disk archives are not supported");
            const uint64_t e64 = le(loc + 8, 8);
            if (e64 > eocd_pos - 20 || eocd_pos - 20 - e64 < 56)
                throw Error(f + ": zip64 end record offset " + std::to_string(e64) + " is outside the file; expected it before the locator");
            uint8_t r[56];
            src.read(e64, 56, r);
            if (le(r, 4) != kEnd64Sig) throw Error(f + ": no zip64 end record at offset " + std::to_string(e64) + " where the locator points");
            disk = le(r + 16, 4);
            cd_disk = le(r + 20, 4);
            if (le(r + 24, 8) != le(r + 32, 8)) throw Error(f + ": zip64 end record: entries on this disk differ from the total; multi-disk archives are not supported");
            count = le(r + 32, 8);
            cd_size = le(r + 40, 8);
            cd_offset = le(r + 48, 8);
        } else if (count == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF) {
            throw Error(f + ": zip end record needs a zip64 record but no zip64 locator precedes it (truncated or corrupt)");
        }
    }
    if (disk != 0 || cd_disk != 0) throw Error(f + ": multi-disk zip archives are not supported");
    if (count > kMaxEntries) throw Error(f + ": zip directory lists " + std::to_string(count) + " entries; at most " + std::to_string(kMaxEntries) + " are read");
    if (cd_size > kMaxDirectoryBytes || cd_offset > eocd_pos || cd_size > eocd_pos - cd_offset)
        throw Error(f + ": zip central directory (offset " + std::to_string(cd_offset) + ", " + std::to_string(cd_size) +
                    " bytes) does not lie before the end record (truncated or corrupt)");

    std::vector<uint8_t> cd(static_cast<size_t>(cd_size));
    src.read(cd_offset, size_t(cd_size), cd.data());
    std::vector<ZipEntry> out;
    out.reserve(size_t(count));
    size_t p = 0;
    for (uint64_t k = 0; k < count; ++k) {
        if (cd.size() - p < 46 || le(&cd[p], 4) != kCentralSig)
            throw Error(f + ": zip central directory entry " + std::to_string(k) + " is malformed (no header signature where expected)");
        const uint8_t* h = &cd[p];
        const uint64_t flags = le(h + 8, 2), method = le(h + 10, 2), name_len = le(h + 28, 2), extra_len = le(h + 30, 2), comment_len = le(h + 32, 2);
        uint64_t csize = le(h + 20, 4), usize = le(h + 24, 4), local = le(h + 42, 4), start_disk = le(h + 34, 2);
        if (cd.size() - p - 46 < name_len + extra_len + comment_len)
            throw Error(f + ": zip central directory entry " + std::to_string(k) + " runs past the directory");
        ZipEntry ze;
        ze.name.assign(reinterpret_cast<const char*>(h + 46), size_t(name_len));
        // zip64 extended information: the fields whose 32-bit value is saturated, in this order.
        for (size_t x = 0; x + 4 <= extra_len;) {
            const uint8_t* xf = h + 46 + name_len + x;
            const uint64_t id = le(xf, 2), len = le(xf + 2, 2);
            if (x + 4 + len > extra_len) throw Error(f + ": zip entry '" + ze.name + "': extra field runs past its header");
            if (id == 1) {
                size_t q = 0;
                auto take = [&](uint64_t& v, const char* what) {
                    if (q + 8 > len) throw Error(f + ": zip entry '" + ze.name + "': zip64 extra field lacks the " + what);
                    v = le(xf + 4 + q, 8);
                    q += 8;
                };
                if (usize == 0xFFFFFFFF) take(usize, "uncompressed size");
                if (csize == 0xFFFFFFFF) take(csize, "compressed size");
                if (local == 0xFFFFFFFF) take(local, "local header offset");
                if (start_disk == 0xFFFF) { uint64_t d = 0; take(d, "disk number"); start_disk = d; }
            }
            x += 4 + size_t(len);
        }
        if (usize == 0xFFFFFFFF || csize == 0xFFFFFFFF || local == 0xFFFFFFFF)
            throw Error(f + ": zip entry '" + ze.name + "': 32-bit size or offset is saturated but no zip64 extra field gives the value");
        if (start_disk != 0) throw Error(f + ": zip entry '" + ze.name + "' starts on another disk; multi-disk archives are not supported");
        if (flags & 1) throw Error(f + ": zip entry '" + ze.name + "' is encrypted; expected plain stored entries");
        if (method != 0)
            throw Error(f + ": zip entry '" + ze.name + "' is compressed (method " + std::to_string(method) + ", " + method_name(method) +
                        "); only stored entries are read, as torch.save writes them");
        if (csize != usize) throw Error(f + ": zip entry '" + ze.name + "' is stored but its sizes differ (" + std::to_string(csize) + " and " + std::to_string(usize) + ")");
        ze.size = usize;
        if (local > size || size - local < 30) throw Error(f + ": zip entry '" + ze.name + "': local header offset " + std::to_string(local) + " is past the end of the file (truncated?)");
        ze.data_offset = local;  // for now: where its local header is
        out.push_back(std::move(ze));
        p += 46 + size_t(name_len + extra_len + comment_len);
    }
    // The data starts after the local header, whose name and extra field may differ in length from the central
    // directory's (torch pads the local one so that data is 64-byte aligned).
    std::vector<std::pair<uint64_t, uint64_t>> headers;
    for (const ZipEntry& ze : out) headers.push_back({ze.data_offset, 30});
    src.need(headers);
    for (ZipEntry& ze : out) {
        uint8_t lh[30];
        src.read(ze.data_offset, 30, lh);
        if (le(lh, 4) != kLocalSig) throw Error(f + ": zip entry '" + ze.name + "': no local header at offset " + std::to_string(ze.data_offset));
        ze.data_offset += 30 + le(lh + 26, 2) + le(lh + 28, 2);
        if (ze.data_offset > size || ze.size > size - ze.data_offset)
            throw Error(f + ": zip entry '" + ze.name + "' (" + std::to_string(ze.size) + " bytes at offset " + std::to_string(ze.data_offset) +
                        ") runs past the end of the file (" + std::to_string(size) + " bytes; truncated?)");
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Restricted unpickler

namespace {

const char* opcode_name(uint8_t op) {
    switch (op) {
        case '(': return "MARK"; case '.': return "STOP"; case '0': return "POP"; case '1': return "POP_MARK";
        case '2': return "DUP"; case 'F': return "FLOAT"; case 'I': return "INT"; case 'J': return "BININT";
        case 'K': return "BININT1"; case 'L': return "LONG"; case 'M': return "BININT2"; case 'N': return "NONE";
        case 'P': return "PERSID"; case 'Q': return "BINPERSID"; case 'R': return "REDUCE"; case 'S': return "STRING";
        case 'T': return "BINSTRING"; case 'U': return "SHORT_BINSTRING"; case 'V': return "UNICODE";
        case 'X': return "BINUNICODE"; case 'a': return "APPEND"; case 'b': return "BUILD"; case 'c': return "GLOBAL";
        case 'd': return "DICT"; case '}': return "EMPTY_DICT"; case 'e': return "APPENDS"; case 'g': return "GET";
        case 'h': return "BINGET"; case 'i': return "INST"; case 'j': return "LONG_BINGET"; case 'l': return "LIST";
        case ']': return "EMPTY_LIST"; case 'o': return "OBJ"; case 'p': return "PUT"; case 'q': return "BINPUT";
        case 'r': return "LONG_BINPUT"; case 's': return "SETITEM"; case 't': return "TUPLE"; case ')': return "EMPTY_TUPLE";
        case 'u': return "SETITEMS"; case 'G': return "BINFLOAT"; case 'B': return "BINBYTES"; case 'C': return "SHORT_BINBYTES";
        case 0x80: return "PROTO"; case 0x81: return "NEWOBJ"; case 0x82: return "EXT1"; case 0x83: return "EXT2";
        case 0x84: return "EXT4"; case 0x85: return "TUPLE1"; case 0x86: return "TUPLE2"; case 0x87: return "TUPLE3";
        case 0x88: return "NEWTRUE"; case 0x89: return "NEWFALSE"; case 0x8a: return "LONG1"; case 0x8b: return "LONG4";
        case 0x8c: return "SHORT_BINUNICODE"; case 0x8d: return "BINUNICODE8"; case 0x8e: return "BINBYTES8";
        case 0x8f: return "EMPTY_SET"; case 0x90: return "ADDITEMS"; case 0x91: return "FROZENSET"; case 0x92: return "NEWOBJ_EX";
        case 0x93: return "STACK_GLOBAL"; case 0x94: return "MEMOIZE"; case 0x95: return "FRAME"; case 0x96: return "BYTEARRAY8";
        case 0x97: return "NEXT_BUFFER"; case 0x98: return "READONLY_BUFFER";
        default: return nullptr;
    }
}

// The values a state dict's pickle builds. Owned by the unpickler's arena and linked by raw pointers, so that a
// hostile pickle that puts a dict inside itself makes a cycle that is simply freed with the arena.
struct Value {
    enum Kind { None, Bool, Int, Float, Str, Tuple, Dict, Global, Storage, Tensor } kind = None;
    int64_t i = 0;                // Bool, Int; Storage: numel
    double f = 0;                 // Float
    std::string s;                // Str; Global: "module.name"; Storage: key
    std::vector<Value*> items;    // Tuple; Dict: key, value, key, value...
    DType dtype = DType::F32;     // Storage
    int elem_bytes = 0;           // Storage
    const Value* storage = nullptr;  // Tensor
    int64_t offset = 0;           // Tensor
    std::vector<int64_t> shape;   // Tensor
};

const char* kind_name(Value::Kind k) {
    switch (k) {
        case Value::None: return "None";
        case Value::Bool: return "a bool";
        case Value::Int: return "an int";
        case Value::Float: return "a float";
        case Value::Str: return "a string";
        case Value::Tuple: return "a tuple";
        case Value::Dict: return "a dict";
        case Value::Global: return "a global";
        case Value::Storage: return "a storage";
        case Value::Tensor: return "a tensor";
    }
    return "?";
}

constexpr const char* kOrderedDict = "collections.OrderedDict";
constexpr const char* kRebuildTensor = "torch._utils._rebuild_tensor_v2";
constexpr const char* kAllowedGlobals =
    "collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch.FloatStorage, torch.BFloat16Storage, torch.HalfStorage, "
    "torch.IntStorage, torch.LongStorage";
// A state dict's pickle holds a few values per tensor; this bounds the arena long before memory is at risk.
constexpr size_t kMaxValues = 1 << 20;

// The storage types a state dict may reference: the float weights, and the integer buffers some training runs
// leave in it (the sparse puzzle embedding's ids), which loaders skip by name. Element size in bytes, 0 if none.
int storage_type(const std::string& global, DType* d) {
    if (global == "torch.FloatStorage") { *d = DType::F32; return 4; }
    if (global == "torch.BFloat16Storage") { *d = DType::BF16; return 2; }
    if (global == "torch.HalfStorage") { *d = DType::F16; return 2; }
    if (global == "torch.IntStorage") { *d = DType::I32; return 4; }
    if (global == "torch.LongStorage") { *d = DType::I32; return 8; }  // I32 marks "integer"; never read as data
    return 0;
}

class Unpickler {
public:
    Unpickler(const uint8_t* data, size_t size, const std::string& label) : d_(data), n_(size), label_(label) {}

    Value* run() {
        while (true) {
            if (p_ >= n_) fail("ends before its STOP opcode (truncated)");
            op_at_ = p_;
            const uint8_t op = d_[p_++];
            switch (op) {
                case 0x80: {  // PROTO
                    const uint8_t v = u8();
                    if (v < 2 || v > 5) fail("pickle protocol " + std::to_string(v) + "; expected 2 to 5");
                    break;
                }
                case 0x95: bytes(8); break;  // FRAME: a length hint only
                case '.': {  // STOP
                    if (stack_.size() != 1 || !marks_.empty()) fail("STOP with " + std::to_string(stack_.size()) + " values on the stack; expected exactly 1");
                    return stack_.back();
                }
                case '(': marks_.push_back(stack_.size()); break;
                case '}': push(make(Value::Dict)); break;
                case ')': push(make(Value::Tuple)); break;
                case 'N': push(make(Value::None)); break;
                case 0x88: case 0x89: { Value* v = make(Value::Bool); v->i = op == 0x88; push(v); break; }
                case 'K': push_int(int64_t(u8())); break;
                case 'M': push_int(int64_t(le(bytes(2), 2))); break;
                case 'J': push_int(int64_t(int32_t(uint32_t(le(bytes(4), 4))))); break;
                case 0x8a: {  // LONG1: little-endian two's complement of n bytes
                    const uint8_t len = u8();
                    if (len > 8) fail("LONG1 of " + std::to_string(len) + " bytes; at most 8 are read");
                    const uint8_t* b = bytes(len);
                    uint64_t v = len ? le(b, len) : 0;
                    if (len && len < 8 && (b[len - 1] & 0x80)) v |= ~uint64_t(0) << (8 * len);
                    push_int(int64_t(v));
                    break;
                }
                case 'G': {  // BINFLOAT: big-endian double
                    const uint8_t* b = bytes(8);
                    uint64_t bits = 0;
                    for (int k = 0; k < 8; ++k) bits = (bits << 8) | b[k];
                    Value* v = make(Value::Float);
                    std::memcpy(&v->f, &bits, 8);
                    push(v);
                    break;
                }
                case 'X': push_str(le(bytes(4), 4)); break;
                case 0x8c: push_str(u8()); break;
                case 0x8d: push_str(le(bytes(8), 8)); break;
                case 't': { Value* t = make(Value::Tuple); t->items = pop_mark(); push(t); break; }
                case 0x85: case 0x86: case 0x87: {
                    const size_t k = size_t(op - 0x84);
                    if (stack_.size() - base() < k) fail(std::string(opcode_name(op)) + " needs " + std::to_string(k) + " values on the stack");
                    Value* t = make(Value::Tuple);
                    t->items.assign(stack_.end() - long(k), stack_.end());
                    stack_.resize(stack_.size() - k);
                    push(t);
                    break;
                }
                case 'd': {  // DICT from the pairs above the mark
                    std::vector<Value*> kv = pop_mark();
                    if (kv.size() % 2) fail("DICT with an odd number of values");
                    Value* v = make(Value::Dict);
                    for (size_t k = 0; k < kv.size(); k += 2) set_item(v, kv[k], kv[k + 1]);
                    push(v);
                    break;
                }
                case 's': {
                    Value* val = pop();
                    Value* key = pop();
                    set_item(top(), key, val);
                    break;
                }
                case 'u': {
                    std::vector<Value*> kv = pop_mark();
                    if (kv.size() % 2) fail("SETITEMS with an odd number of values");
                    Value* dict = top();
                    for (size_t k = 0; k < kv.size(); k += 2) set_item(dict, kv[k], kv[k + 1]);
                    break;
                }
                case 'q': memo_[uint32_t(u8())] = top(); break;
                case 'r': memo_[uint32_t(le(bytes(4), 4))] = top(); break;
                case 0x94: { const uint32_t k = uint32_t(memo_.size()); memo_[k] = top(); break; }
                case 'h': push(get(u8())); break;
                case 'j': push(get(uint32_t(le(bytes(4), 4)))); break;
                case 'c': {  // GLOBAL "module\nname\n": checked against the allowed list before anything else
                    const std::string module = line(), name = line();
                    push(global(module + "." + name));
                    break;
                }
                case 0x93: {  // STACK_GLOBAL
                    Value* name = pop();
                    Value* module = pop();
                    if (module->kind != Value::Str || name->kind != Value::Str) fail("STACK_GLOBAL needs two strings");
                    push(global(module->s + "." + name->s));
                    break;
                }
                case 'Q': push(persistent_load(pop())); break;
                case 'R': {
                    Value* args = pop();
                    Value* fn = pop();
                    push(reduce(fn, args));
                    break;
                }
                case 'b': {  // BUILD: only an OrderedDict's attributes (torch keeps `_metadata` there); ignored
                    Value* state = pop();
                    if (top()->kind != Value::Dict || (state->kind != Value::Dict && state->kind != Value::None))
                        fail("BUILD on " + std::string(kind_name(top()->kind)) + " with " + kind_name(state->kind) + "; expected a dict's attributes");
                    break;
                }
                default: {
                    const char* nm = opcode_name(op);
                    char hex[8];
                    std::snprintf(hex, sizeof hex, "0x%02x", op);
                    fail(nm ? std::string("opcode ") + nm + " (" + hex + ") is not allowed in a state dict"
                            : std::string("unknown opcode ") + hex);
                }
            }
        }
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw Error(label_ + ": byte " + std::to_string(op_at_) + ": " + what);
    }
    Value* make(Value::Kind k) {
        if (arena_.size() >= kMaxValues) fail("more than " + std::to_string(kMaxValues) + " values; a state dict holds a few per tensor");
        arena_.push_back(std::make_unique<Value>());
        arena_.back()->kind = k;
        return arena_.back().get();
    }
    uint8_t u8() { return *bytes(1); }
    const uint8_t* bytes(uint64_t k) {
        if (k > n_ - p_) fail("needs " + std::to_string(k) + " more bytes but the pickle ends (truncated)");
        const uint8_t* r = d_ + p_;
        p_ += size_t(k);
        return r;
    }
    std::string line() {
        const void* nl = std::memchr(d_ + p_, '\n', std::min<size_t>(n_ - p_, 256));
        if (!nl) fail(n_ - p_ < 256 ? "ends inside a GLOBAL name (truncated)" : "GLOBAL name not terminated within 256 bytes");
        const size_t len = size_t(static_cast<const uint8_t*>(nl) - (d_ + p_));
        std::string s(reinterpret_cast<const char*>(d_ + p_), len);
        p_ += len + 1;
        return s;
    }
    size_t base() const { return marks_.empty() ? 0 : marks_.back(); }
    void push(Value* v) { stack_.push_back(v); }
    Value* top() {
        if (stack_.size() <= base()) fail(std::string(opcode_name(d_[op_at_])) + " on an empty stack");
        return stack_.back();
    }
    Value* pop() {
        Value* v = top();
        stack_.pop_back();
        return v;
    }
    std::vector<Value*> pop_mark() {
        if (marks_.empty()) fail(std::string(opcode_name(d_[op_at_])) + " without a MARK");
        const size_t m = marks_.back();
        marks_.pop_back();
        std::vector<Value*> r(stack_.begin() + long(m), stack_.end());
        stack_.resize(m);
        return r;
    }
    void push_int(int64_t x) { Value* v = make(Value::Int); v->i = x; push(v); }
    void push_str(uint64_t len) {
        const uint8_t* b = bytes(len);  // checked against what is left before any copy
        Value* v = make(Value::Str);
        v->s.assign(reinterpret_cast<const char*>(b), size_t(len));
        push(v);
    }
    Value* get(uint32_t k) {
        auto it = memo_.find(k);
        if (it == memo_.end()) fail("memo entry " + std::to_string(k) + " was never stored");
        return it->second;
    }
    void set_item(Value* dict, Value* key, Value* val) {
        if (dict->kind != Value::Dict) fail(std::string("SETITEM on ") + kind_name(dict->kind) + "; expected a dict");
        dict->items.push_back(key);
        dict->items.push_back(val);
    }
    Value* global(const std::string& name) {
        DType d;
        if (name != kOrderedDict && name != kRebuildTensor && !storage_type(name, &d))
            fail("global '" + name + "' is not allowed; a state dict names only " + kAllowedGlobals);
        Value* v = make(Value::Global);
        v->s = name;
        return v;
    }
    // ('storage', torch.XStorage, key, location, numel), as torch.save's persistent_id writes it.
    Value* persistent_load(Value* pid) {
        const auto& t = pid->items;
        if (pid->kind != Value::Tuple || t.size() != 5 || t[0]->kind != Value::Str || t[0]->s != "storage" ||
            t[1]->kind != Value::Global || t[2]->kind != Value::Str || t[3]->kind != Value::Str || t[4]->kind != Value::Int)
            fail("persistent id is not ('storage', torch.<Type>Storage, key, location, numel)");
        Value* s = make(Value::Storage);
        s->elem_bytes = storage_type(t[1]->s, &s->dtype);
        if (!s->elem_bytes) fail("storage type '" + t[1]->s + "'; expected one of " + kAllowedGlobals);
        if (t[4]->i < 0 || t[4]->i > (int64_t(1) << 48)) fail("storage '" + t[2]->s + "' has " + std::to_string(t[4]->i) + " elements; expected 0 to 2^48");
        s->s = t[2]->s;
        s->i = t[4]->i;
        return s;
    }
    Value* reduce(Value* fn, Value* args) {
        if (fn->kind != Value::Global || args->kind != Value::Tuple) fail("REDUCE of " + std::string(kind_name(fn->kind)) + "; expected an allowed global and a tuple");
        const auto& a = args->items;
        if (fn->s == kOrderedDict) {
            if (!a.empty()) fail("collections.OrderedDict called with arguments; expected ()");
            return make(Value::Dict);
        }
        if (fn->s != kRebuildTensor) fail("REDUCE of '" + fn->s + "'; only collections.OrderedDict and " + kRebuildTensor + " are called");
        // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        if (a.size() != 6 && a.size() != 7) fail(std::string(kRebuildTensor) + " with " + std::to_string(a.size()) + " arguments; expected 6 or 7");
        if (a[0]->kind != Value::Storage || a[1]->kind != Value::Int || a[2]->kind != Value::Tuple || a[3]->kind != Value::Tuple ||
            a[4]->kind != Value::Bool || a[5]->kind != Value::Dict || (a.size() == 7 && a[6]->kind != Value::Dict && a[6]->kind != Value::None))
            fail(std::string(kRebuildTensor) + " arguments are not (storage, int, size tuple, stride tuple, bool, dict)");
        if (!a[5]->items.empty()) fail("tensor with backward hooks; a saved state dict has none");
        Value* t = make(Value::Tensor);
        t->storage = a[0];
        t->offset = a[1]->i;
        const auto& size = a[2]->items;
        const auto& stride = a[3]->items;
        if (size.size() != stride.size() || size.size() > 8) fail("tensor size and stride differ in length or exceed 8 dimensions");
        int64_t numel = 1, expect = 1;
        for (size_t k = size.size(); k-- > 0;) {  // contiguous row-major only: strides from the last dimension
            if (size[k]->kind != Value::Int || stride[k]->kind != Value::Int) fail("tensor size or stride holds a non-integer");
            const int64_t n = size[k]->i;
            if (n < 0 || n > (int64_t(1) << 40)) fail("tensor dimension " + std::to_string(n) + "; expected 0 to 2^40");
            if (n > 1 && stride[k]->i != expect) fail("tensor is not contiguous (stride " + std::to_string(stride[k]->i) + " where " + std::to_string(expect) + " was expected)");
            if (n && numel > (int64_t(1) << 48) / n) fail("tensor has more than 2^48 elements");
            numel *= n;
            expect *= std::max<int64_t>(n, 1);
        }
        for (const Value* v : size) t->shape.push_back(v->i);
        if (t->offset < 0 || t->offset > a[0]->i || numel > a[0]->i - t->offset)
            fail("tensor of " + std::to_string(numel) + " elements at offset " + std::to_string(t->offset) + " lies outside storage '" +
                 a[0]->s + "' of " + std::to_string(a[0]->i) + " elements");
        return t;
    }

    const uint8_t* d_;
    size_t n_, p_ = 0, op_at_ = 0;
    const std::string& label_;
    std::vector<std::unique_ptr<Value>> arena_;
    std::vector<Value*> stack_;
    std::vector<size_t> marks_;
    std::unordered_map<uint32_t, Value*> memo_;
};

}  // namespace

std::vector<PickledTensor> unpickle_state_dict(const uint8_t* data, size_t size, const std::string& label) {
    Unpickler u(data, size, label);
    const Value* root = u.run();
    if (root->kind != Value::Dict) throw Error(label + ": the pickle holds " + kind_name(root->kind) + "; expected a state dict (a dict of tensors)");
    std::vector<PickledTensor> out;
    // Keys seen so far, by set: a hostile pickle can name one memoised tensor under many keys (a few bytes each), and
    // a scan of the keys before each one was quadratic (9,000 keys in 63 KB: 2.5 s under ASan; 64 MiB: weeks).
    std::unordered_set<std::string> keys;
    for (size_t k = 0; k < root->items.size(); k += 2) {
        const Value* key = root->items[k];
        const Value* val = root->items[k + 1];
        if (key->kind != Value::Str) throw Error(label + ": state dict key is " + kind_name(key->kind) + "; expected a string");
        if (val->kind != Value::Tensor) throw Error(label + ": state dict entry '" + key->s + "' is " + kind_name(val->kind) + "; expected a tensor");
        if (!keys.insert(key->s).second) throw Error(label + ": state dict key '" + key->s + "' appears twice");
        PickledTensor t;
        t.key = key->s;
        t.storage = val->storage->s;
        t.dtype = val->storage->dtype;
        t.elem_bytes = val->storage->elem_bytes;
        t.storage_numel = val->storage->i;
        t.offset = val->offset;
        t.shape = val->shape;
        out.push_back(std::move(t));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------------------

int64_t CheckpointTensor::numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

TorchCheckpoint read_torch_checkpoint(const ByteSource& src) {
    const std::string& f = src.label();
    if (!looks_like_zip(src)) {
        uint8_t b[3] = {0, 0, 0};
        if (src.size() >= 3) src.read(0, 3, b);
        if (b[0] == 0x80 && b[1] == 0x02 && b[2] == 0x8a) throw Error(f + ": a legacy (torch < 1.6, not zip) torch.save file; expected the zip format (re-save it with a current torch)");
        throw Error(f + ": not a zip file (no local file header at offset 0); expected a torch.save checkpoint");
    }
    const std::vector<ZipEntry> entries = read_zip_directory(src);
    // torch.save names every entry <archive>/...; the archive name is the file's, so find it by data.pkl.
    const ZipEntry* pkl = nullptr;
    std::map<std::string, const ZipEntry*> by_name;
    for (const ZipEntry& e : entries) {
        if (!by_name.emplace(e.name, &e).second) throw Error(f + ": zip entry '" + e.name + "' appears twice");
        const size_t slash = e.name.find('/');
        if (slash != std::string::npos && e.name.substr(slash) == "/data.pkl") {
            if (pkl) throw Error(f + ": two data.pkl entries ('" + pkl->name + "', '" + e.name + "'); expected one state dict");
            pkl = &e;
        }
    }
    if (!pkl) throw Error(f + ": no <archive>/data.pkl entry; expected a torch.save checkpoint");
    const std::string prefix = pkl->name.substr(0, pkl->name.size() - std::strlen("data.pkl"));
    auto bo = by_name.find(prefix + "byteorder");
    if (bo != by_name.end()) {
        std::string order(size_t(std::min<uint64_t>(bo->second->size, 16)), '\0');
        src.read(bo->second->data_offset, order.size(), reinterpret_cast<uint8_t*>(&order[0]));
        if (order != "little") throw Error(f + ": entry '" + bo->first + "' says \"" + order + "\"; only little-endian checkpoints are read");
    }
    // A state dict's pickle is a few hundred bytes per tensor; anything near this bound is not one.
    constexpr uint64_t kMaxPickle = 64ull << 20;
    if (pkl->size > kMaxPickle) throw Error(f + ": '" + pkl->name + "' is " + std::to_string(pkl->size) + " bytes; a state dict's pickle is expected under 64 MiB");
    std::vector<uint8_t> pickle(static_cast<size_t>(pkl->size));
    src.read(pkl->data_offset, pickle.size(), pickle.data());
    const std::vector<PickledTensor> pts = unpickle_state_dict(pickle.data(), pickle.size(), f + ": " + pkl->name);

    TorchCheckpoint ck;
    for (const PickledTensor& p : pts) {
        auto it = by_name.find(prefix + "data/" + p.storage);
        if (it == by_name.end()) throw Error(f + ": tensor '" + p.key + "': storage entry '" + prefix + "data/" + p.storage + "' is not in the zip");
        const uint64_t es = uint64_t(p.elem_bytes);
        if (it->second->size != uint64_t(p.storage_numel) * es)
            throw Error(f + ": tensor '" + p.key + "': storage entry '" + it->first + "' is " + std::to_string(it->second->size) + " bytes; expected " +
                        std::to_string(p.storage_numel) + " elements of " + std::to_string(es) + " bytes = " + std::to_string(uint64_t(p.storage_numel) * es) + " bytes");
        CheckpointTensor t;
        t.key = p.key;
        t.dtype = p.dtype;
        t.integer = p.dtype == DType::I32;
        t.shape = p.shape;
        t.offset = it->second->data_offset + uint64_t(p.offset) * es;
        t.nbytes = uint64_t(t.numel()) * es;
        ck.tensors.push_back(std::move(t));
    }
    return ck;
}

}  // namespace trm
