// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// fxp's version. This header is its only source: CMakeLists.txt reads the three numbers
/// below into the project's version, and so into the installed package's.

#define FXP_VERSION_MAJOR 0
#define FXP_VERSION_MINOR 1
#define FXP_VERSION_PATCH 0

/// One integer that orders releases: major * 10000 + minor * 100 + patch.
#define FXP_VERSION (FXP_VERSION_MAJOR * 10000 + FXP_VERSION_MINOR * 100 + FXP_VERSION_PATCH)

#define FXP_DETAIL_STRINGIZE(x) #x
#define FXP_DETAIL_EXPAND_STRINGIZE(x) FXP_DETAIL_STRINGIZE(x)
/// "major.minor.patch".
#define FXP_VERSION_STRING                                 \
  FXP_DETAIL_EXPAND_STRINGIZE(FXP_VERSION_MAJOR)           \
  "." FXP_DETAIL_EXPAND_STRINGIZE(FXP_VERSION_MINOR) "." \
      FXP_DETAIL_EXPAND_STRINGIZE(FXP_VERSION_PATCH)
