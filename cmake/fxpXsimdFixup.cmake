# SPDX-License-Identifier: MIT
# Debian's xsimd 8.1 target lists "xtl" as a link dependency although xsimd needs xtl only
# for its optional xtl::xcomplex support. Without libxtl-dev that name becomes "-lxtl" and
# every link fails, so drop it unless an xtl target really exists.
if(TARGET xsimd AND NOT TARGET xtl)
  get_target_property(_fxp_xsimd_libs xsimd INTERFACE_LINK_LIBRARIES)
  if(_fxp_xsimd_libs)
    list(REMOVE_ITEM _fxp_xsimd_libs xtl)
    set_target_properties(xsimd PROPERTIES INTERFACE_LINK_LIBRARIES "${_fxp_xsimd_libs}")
  endif()
  unset(_fxp_xsimd_libs)
endif()
