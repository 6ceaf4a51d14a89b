# SPDX-License-Identifier: MIT
# Install rules and the package config, so find_package(fxp) works after cmake --install.
include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(FXP_INSTALL_CMAKEDIR "${CMAKE_INSTALL_DATADIR}/cmake/fxp" CACHE STRING
    "Where fxp's CMake package files are installed, relative to the prefix")

install(TARGETS fxp fxp_io EXPORT fxpTargets)
install(DIRECTORY include/fxp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT fxpTargets NAMESPACE fxp:: DESTINATION ${FXP_INSTALL_CMAKEDIR})

configure_package_config_file(cmake/fxpConfig.cmake.in
  "${PROJECT_BINARY_DIR}/fxpConfig.cmake"
  INSTALL_DESTINATION ${FXP_INSTALL_CMAKEDIR})
# Header-only: one package serves every architecture.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/fxpConfigVersion.cmake"
  COMPATIBILITY SameMajorVersion ARCH_INDEPENDENT)
install(FILES
  "${PROJECT_BINARY_DIR}/fxpConfig.cmake"
  "${PROJECT_BINARY_DIR}/fxpConfigVersion.cmake"
  cmake/fxpXsimdFixup.cmake
  DESTINATION ${FXP_INSTALL_CMAKEDIR})
