# SPDX-License-Identifier: MIT
# train: the command-line trainer of the reference CNN on Fashion-MNIST (float, QAT, fixed
# point, fixed point with wide master weights), with checkpoints and a CSV log.
fxp_add_program(train train.cpp)
target_link_libraries(train PRIVATE fxp::io CLI11::CLI11)
