# SPDX-License-Identifier: MIT
# pipeline: the papers' pipeline on Fashion-MNIST end to end (float training, calibration,
# equal vs optimised weight bit-widths, QAT fine-tuning, tables, CSV and an SVG plot).
fxp_add_program(pipeline pipeline.cpp)
target_link_libraries(pipeline PRIVATE fxp::io CLI11::CLI11)

# Runs it from the build tree with its defaults (2 float epochs, 100 fine-tuning steps, seed 1, 2 threads); the
# results (CSV files, plans, the plot and the float checkpoint a later run reuses) go to
# ${CMAKE_BINARY_DIR}/results.
add_custom_target(run_pipeline
  COMMAND pipeline --results "${CMAKE_BINARY_DIR}/results" --threads 2 --seed 1
  WORKING_DIRECTORY "${CMAKE_BINARY_DIR}"
  USES_TERMINAL
  COMMENT "Running the fixed-point quantization pipeline (results in ${CMAKE_BINARY_DIR}/results)")
