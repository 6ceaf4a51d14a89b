# SPDX-License-Identifier: MIT
# The reference CNN's training and inference throughput: fxp's float and fixed-point modes
# beside tiny-dnn in the same binary (Debian: tiny-dnn, libcereal-dev, libstb-dev) and
# PyTorch in a script run right after it (Debian: python3-torch), each peer only when it
# is installed.
fxp_add_program(bench_nn bench_nn.cpp)
target_link_libraries(bench_nn PRIVATE benchmark::benchmark fxp::io)

# tiny-dnn: header only. Its headers include "third_party/stb/stb_image*.h" (its bundled
# copies, which Debian replaces by libstb-dev under /usr/include/stb) and cereal; they are
# included as SYSTEM so that their warnings are not ours.
find_path(FXP_TINY_DNN_INCLUDE_DIR tiny_dnn/tiny_dnn.h)
find_path(FXP_CEREAL_INCLUDE_DIR cereal/cereal.hpp)
find_path(FXP_STB_INCLUDE_DIR stb_image.h PATH_SUFFIXES stb)
if(EXISTS "${FXP_TINY_DNN_INCLUDE_DIR}/tiny_dnn/tiny_dnn.h" AND EXISTS "${FXP_CEREAL_INCLUDE_DIR}/cereal/cereal.hpp"
   AND EXISTS "${FXP_STB_INCLUDE_DIR}/stb_image.h")
  set(fxp_tiny_dnn_shim "${CMAKE_CURRENT_BINARY_DIR}/tiny_dnn_shim")
  file(MAKE_DIRECTORY "${fxp_tiny_dnn_shim}/third_party/stb")
  foreach(header stb_image.h stb_image_resize.h stb_image_write.h)
    if(EXISTS "${FXP_STB_INCLUDE_DIR}/${header}")
      file(CREATE_LINK "${FXP_STB_INCLUDE_DIR}/${header}" "${fxp_tiny_dnn_shim}/third_party/stb/${header}"
           SYMBOLIC)
    endif()
  endforeach()
  target_include_directories(bench_nn SYSTEM PRIVATE
    "${fxp_tiny_dnn_shim}" "${FXP_TINY_DNN_INCLUDE_DIR}" "${FXP_CEREAL_INCLUDE_DIR}")
  target_compile_definitions(bench_nn PRIVATE FXP_HAVE_TINY_DNN=1)
  # tiny-dnn parallelises over the samples of a batch: with CNN_USE_OMP through OpenMP
  # (thread count set by omp_set_num_threads), otherwise one std::async per block and
  # std::thread::hardware_concurrency() blocks, which cannot be set. OpenMP when found.
  find_package(OpenMP QUIET COMPONENTS CXX)
  if(OpenMP_CXX_FOUND)
    target_link_libraries(bench_nn PRIVATE OpenMP::OpenMP_CXX)
    target_compile_definitions(bench_nn PRIVATE CNN_USE_OMP)
  else()
    message(STATUS "bench_nn: OpenMP not found, tiny-dnn uses hardware_concurrency() std::async threads")
  endif()
  # Its config.h enables the gemmlowp quantized kernels on every non-MSVC compiler; they
  # include "gemmlowp/public/gemmlowp.h" (libgemmlowp-dev). Without it, turn them off.
  find_path(FXP_GEMMLOWP_INCLUDE_DIR gemmlowp/public/gemmlowp.h)
  if(NOT FXP_GEMMLOWP_INCLUDE_DIR)
    target_compile_definitions(bench_nn PRIVATE FXP_TINY_DNN_NO_GEMMLOWP=1)
  endif()
else()
  message(STATUS "bench_nn: tiny-dnn (with cereal and stb) not found, benchmarking without it")
endif()

# PyTorch: benchmarks/peers/torch_cnn.py when the interpreter can import torch. Checked at
# run time so a later install needs no reconfigure.
set(FXP_PEER_PYTHON "/usr/bin/python3" CACHE FILEPATH "Python interpreter for the PyTorch peer")
set(fxp_bench_nn_json "${CMAKE_CURRENT_BINARY_DIR}/bench_nn.json")
set(fxp_torch_out "${CMAKE_CURRENT_BINARY_DIR}/bench_nn_torch.txt")
set(fxp_peers "${CMAKE_CURRENT_SOURCE_DIR}/peers")

# OpenMP's wait policy for the peers (tiny-dnn built with CNN_USE_OMP, and PyTorch, whose
# ATen uses OpenMP): "passive" lets their threads sleep at the end of each parallel region
# instead of spinning. On 2 cores shared with other work, spinning made PyTorch's inference
# up to 18x and tiny-dnn's 8x slower here; on a quiet machine "active" (OpenMP's default
# behaviour) may be a little faster for them. fxp's own pool is not affected.
set(FXP_PEER_OMP_WAIT_POLICY "passive" CACHE STRING "OMP_WAIT_POLICY for the bench_nn peers (passive or active)")

# `cmake --build <dir> --target run_bench_nn`: bench_nn (JSON kept beside it), then the
# PyTorch script when torch imports, then the ratios fxp / peer against the targets.
add_custom_target(run_bench_nn
  COMMAND ${CMAKE_COMMAND} -E env OMP_WAIT_POLICY=${FXP_PEER_OMP_WAIT_POLICY}
          $<TARGET_FILE:bench_nn> --benchmark_min_time=0.5 --benchmark_out=${fxp_bench_nn_json}
          --benchmark_out_format=json
  COMMAND ${CMAKE_COMMAND} -E env OMP_WAIT_POLICY=${FXP_PEER_OMP_WAIT_POLICY}
          sh "${fxp_peers}/run_torch.sh" "${FXP_PEER_PYTHON}" "${fxp_peers}/torch_cnn.py" "${fxp_torch_out}"
  COMMAND sh "${fxp_peers}/run_summary.sh" "${FXP_PEER_PYTHON}" "${fxp_peers}/summary.py" "${fxp_bench_nn_json}"
          "${fxp_torch_out}"
  USES_TERMINAL
  COMMENT "Running bench_nn and its peers")
