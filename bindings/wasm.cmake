# The WASM module: bindings/trm_bindings.cpp over trm_core, as an ES module (.mjs glue + .wasm).
# Included by CMakeLists.txt under Emscripten; scripts/build_wasm.sh configures it twice:
#   TRM_WASM_THREADS=OFF -> trm-wasm.mjs/.wasm            single-thread SIMD, runs everywhere
#   TRM_WASM_THREADS=ON  -> trm-wasm-threads.mjs/.wasm    -pthread SIMD (shared memory; needs cross-origin isolation
#                           in browsers), plus trm-wasm-threads.worker.js, the pthread worker Emscripten emits
# TRM_WASM_RELAXED_SIMD=ON builds either one with relaxed SIMD's fused multiply-add (src/simd.h) under the same
# output name; scripts/build_wasm.sh keeps its .wasm as trm-wasm[-threads]-relaxed.wasm beside the plain one (the
# JavaScript glue is the same file) and web/trm-worker.js picks it where the engine validates relaxed SIMD.
option(TRM_WASM_THREADS "Build the pthreads variant" OFF)
option(TRM_WASM_RELAXED_SIMD "Build with relaxed SIMD (fused multiply-add)" OFF)

# Debian's nlohmann_json points at /usr/include, whose glibc headers must not shadow Emscripten's libc: expose only
# its own folder, through a link in the build tree.
get_target_property(trm_json_inc nlohmann_json::nlohmann_json INTERFACE_INCLUDE_DIRECTORIES)
if("/usr/include" IN_LIST trm_json_inc)
  file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/host-include)
  file(CREATE_LINK /usr/include/nlohmann ${CMAKE_BINARY_DIR}/host-include/nlohmann SYMBOLIC)
  set_target_properties(nlohmann_json::nlohmann_json PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${CMAKE_BINARY_DIR}/host-include)
endif()

# C++ exceptions carry every refusal of the engine (trm::Error); the bindings catch them.
target_compile_options(trm_core PUBLIC -fexceptions)
target_link_options(trm_core PUBLIC -fexceptions)
if(TRM_WASM_THREADS)
  target_compile_options(trm_core PUBLIC -pthread)
  target_link_options(trm_core PUBLIC -pthread)
  set(trm_wasm_name trm-wasm-threads)
else()
  set(trm_wasm_name trm-wasm)
endif()

if(TRM_WASM_RELAXED_SIMD)
  target_compile_options(trm_core PUBLIC -mrelaxed-simd)
endif()

add_executable(trm_wasm bindings/trm_bindings.cpp bindings/checkpoint_bindings.cpp)
target_link_libraries(trm_wasm PRIVATE trm_core)
set_target_properties(trm_wasm PROPERTIES OUTPUT_NAME ${trm_wasm_name} SUFFIX ".mjs")
target_link_options(trm_wasm PRIVATE
  --bind
  -sMODULARIZE=1 -sEXPORT_ES6=1 -sEXPORT_NAME=createTrmModule
  -sENVIRONMENT=web,worker,node
  -sFILESYSTEM=0 -sNODEJS_CATCH_EXIT=0 -sNODEJS_CATCH_REJECTION=0
  -sDYNAMIC_EXECUTION=0  # no eval/new Function in the glue: pages with a strict CSP (no 'unsafe-eval') can run it
  -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=32MB -sMAXIMUM_MEMORY=2GB)  # shared memory reserves its maximum
if(TRM_WASM_THREADS)
  # The engine's ThreadPool creates its threads inside a blocking call, so their Workers must exist beforehand:
  # web/trm-worker.js passes Module.trmPoolSize (threads - 1, at least 1) and the module waits for them to load.
  target_link_options(trm_wasm PRIVATE -sPTHREAD_POOL_SIZE=Module.trmPoolSize)
endif()
if(TRM_WASM_RELAXED_SIMD)
  # LLVM 14 emits the pre-standard fma opcode; engines run only the standard relaxed_madd (TOOLCHAIN.md).
  add_custom_command(TARGET trm_wasm POST_BUILD
    COMMAND node ${CMAKE_SOURCE_DIR}/scripts/wasm_relaxed_madd.mjs $<TARGET_FILE_DIR:trm_wasm>/${trm_wasm_name}.wasm
    VERBATIM)
endif()
