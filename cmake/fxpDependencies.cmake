# SPDX-License-Identifier: MIT
# Finds a dependency and, when it is missing, stops with the Debian package that provides it.
include_guard(GLOBAL)
include(GNUInstallDirs)

function(fxp_require package debian_package)
  find_package(${package} ${ARGN} QUIET)
  if(NOT ${package}_FOUND)
    message(FATAL_ERROR
      "fxp needs ${package}, which was not found. On Debian 12: apt-get install -y ${debian_package}")
  endif()
endfunction()

# The library itself: xsimd (headers; the batch<T, Arch> API of version 8) for the SIMD
# layer, and the platform's threads for the kernels' thread pool.
set(FXP_XSIMD_MIN_VERSION 8.0)
fxp_require(xsimd libxsimd-dev ${FXP_XSIMD_MIN_VERSION})
set(THREADS_PREFER_PTHREAD_FLAG ON)
fxp_require(Threads libc6-dev)
include(fxpXsimdFixup)

# The io layer (fxp::io: gzip'd IDX data sets): zlib. The core target fxp::fxp does not use it.
fxp_require(ZLIB zlib1g-dev)
