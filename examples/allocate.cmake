# SPDX-License-Identifier: MIT
# `allocate`: the constexpr bit-width allocation of arXiv:1511.06393 on the reference CNN's
# weights and activations, printing the plan and using the fxp::fixed types it yields.
fxp_add_program(allocate allocate.cpp)
target_link_libraries(allocate PRIVATE CLI11::CLI11)
