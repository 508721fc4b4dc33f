// Embind surface for official PyTorch checkpoints read piecewise (src/checkpoint_loader.h), marshalling only:
// web/checkpoint.js gives the file's pieces (Blob.slice) and gets back either the ranges still needed or the
// project's trm/1 weight file, which TRM.load takes like any other.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include "checkpoint_loader.h"

using emscripten::val;

namespace {

struct CheckpointPieces {
    trm::PieceSource src;
    CheckpointPieces(double size, const std::string& label) : src(uint64_t(size), label) {}
    // `bytes` is a Uint8Array: one TypedArray.set into the heap (bindings/trm_bindings.cpp loadModel says why).
    void add(double offset, const val& bytes) {
        const std::vector<uint8_t> b = emscripten::convertJSArrayToNumberVector<uint8_t>(bytes);
        src.add(uint64_t(offset), b.data(), b.size());
    }
};

val ranges_of(const std::vector<std::pair<uint64_t, uint64_t>>& r) {
    val a = val::array();
    for (size_t i = 0; i < r.size(); ++i) {
        val p = val::array();
        p.set(0, double(r[i].first));
        p.set(1, double(r[i].second));
        a.set(i, p);
    }
    return a;
}

// in: {config, configLabel, dataset, datasetLabel, identifiers, identifiersLabel, keep, keepLabel, dtype}, texts
// ('' when not given). Returns {need: [[offset, size], ...]}, {bytes: Uint8Array, notes: [...]} or {error}.
val checkpointWeights(CheckpointPieces& p, const val& in) {
    val out = val::object();
    try {
        trm::CheckpointInputs ci;
        ci.config_text = in["config"].as<std::string>();
        ci.config_label = in["configLabel"].as<std::string>();
        ci.dataset_text = in["dataset"].as<std::string>();
        ci.dataset_label = in["datasetLabel"].as<std::string>();
        ci.identifiers_text = in["identifiers"].as<std::string>();
        ci.identifiers_label = in["identifiersLabel"].as<std::string>();
        ci.keep_text = in["keep"].as<std::string>();
        ci.keep_label = in["keepLabel"].as<std::string>();
        const trm::WeightSet w = trm::read_official_checkpoint(p.src, ci);
        p.src.release();
        const std::vector<uint8_t> bytes = trm::weight_file_bytes(w, in["dtype"].as<std::string>(), p.src.label());
        out.set("bytes", val::global("Uint8Array").new_(emscripten::typed_memory_view(bytes.size(), bytes.data())));
        val notes = val::array();
        for (size_t i = 0; i < w.notes.size(); ++i) notes.set(i, w.notes[i]);
        out.set("notes", notes);
    } catch (const trm::NeedRanges& e) {
        out.set("need", ranges_of(e.ranges));
    } catch (const trm::NeedBytes& e) {
        out.set("need", ranges_of({{e.offset, e.size}}));
    } catch (const std::bad_alloc&) {
        out.set("error", std::string("out of memory"));
    } catch (const std::exception& e) {
        out.set("error", std::string(e.what()));
    }
    return out;
}

}  // namespace

EMSCRIPTEN_BINDINGS(trm_checkpoint) {
    emscripten::class_<CheckpointPieces>("CheckpointPieces")
        .constructor<double, std::string>()
        .function("add", &CheckpointPieces::add);
    emscripten::function("checkpointWeights", &checkpointWeights);
}
