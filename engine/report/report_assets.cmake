# report_assets.cmake: compiles report.html's template, styles and scripts into the binary
# (symbol tide_report_assets, read by engine/report_html.c), so reports need no install step
# and no network. Included by the top-level CMakeLists.txt after tide_embed_files is defined.
set(TIDE_REPORT_ASSETS
  ${CMAKE_SOURCE_DIR}/engine/report/assets/report.html
  ${CMAKE_SOURCE_DIR}/engine/report/assets/report.css
  ${CMAKE_SOURCE_DIR}/engine/report/assets/report.js
  ${CMAKE_SOURCE_DIR}/engine/report/assets/uPlot.iife.min.js
  ${CMAKE_SOURCE_DIR}/engine/report/assets/uPlot.min.css)
tide_embed_files(${CMAKE_BINARY_DIR}/embedded_report.c tide_report_assets "${TIDE_REPORT_ASSETS}")
list(APPEND TIDE_GENERATED_SOURCES ${CMAKE_BINARY_DIR}/embedded_report.c)
