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

# The library itself: only xsimd (headers), for the SIMD layer.
fxp_require(xsimd libxsimd-dev)
include(fxpXsimdFixup)

# The io layer (fxp::io: gzip'd IDX data sets): zlib. The core target fxp::fxp does not use it.
fxp_require(ZLIB zlib1g-dev)
