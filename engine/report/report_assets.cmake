# report_assets.cmake: compiles report.html's template, styles and scripts into the binary
# (symbol tide_report_assets, read by engine/report/report_html.c), so reports need no install
# step and no network. Included by the top-level CMakeLists.txt after tide_embed_files is defined.
#
# The chart library (uPlot) is third-party code and is not in the repository: its exact
# version and integrity hash are pinned in engine/report/npm/package-lock.json, and 'npm ci'
# fetches it from the npm registry into the build tree when the lock file changes (a stamp
# holds the lock file's hash). The files are then embedded like our own. No npm, or no
# registry: configuring stops with one line that says what to run.
set(TIDE_REPORT_NPM_SRC ${CMAKE_SOURCE_DIR}/engine/report/npm)
set(TIDE_REPORT_NPM ${CMAKE_BINARY_DIR}/report-npm)
file(SHA256 ${TIDE_REPORT_NPM_SRC}/package-lock.json TIDE_REPORT_NPM_LOCK_HASH)
set(TIDE_REPORT_NPM_STAMP ${TIDE_REPORT_NPM}/installed.stamp)
set(TIDE_REPORT_NPM_DIST ${TIDE_REPORT_NPM}/node_modules/uplot/dist)
set(tide_npm_installed "")
if(EXISTS ${TIDE_REPORT_NPM_STAMP})
  file(READ ${TIDE_REPORT_NPM_STAMP} tide_npm_installed)
endif()
if(NOT tide_npm_installed STREQUAL TIDE_REPORT_NPM_LOCK_HASH
   OR NOT EXISTS ${TIDE_REPORT_NPM_DIST}/uPlot.iife.min.js)
  find_program(TIDE_NPM npm)
  if(NOT TIDE_NPM)
    message(FATAL_ERROR "tide: npm not found; the report's chart library comes from the npm "
      "registry: run 'apt-get install -y nodejs npm' (or 'make deps'), then configure again")
  endif()
  file(MAKE_DIRECTORY ${TIDE_REPORT_NPM})
  configure_file(${TIDE_REPORT_NPM_SRC}/package.json ${TIDE_REPORT_NPM}/package.json COPYONLY)
  configure_file(${TIDE_REPORT_NPM_SRC}/package-lock.json ${TIDE_REPORT_NPM}/package-lock.json
    COPYONLY)
  message(STATUS "tide: npm ci in ${TIDE_REPORT_NPM} (uPlot, pinned in engine/report/npm)")
  execute_process(COMMAND ${TIDE_NPM} ci --no-audit --no-fund --prefer-offline --loglevel=error
    WORKING_DIRECTORY ${TIDE_REPORT_NPM} RESULT_VARIABLE tide_npm_rc OUTPUT_QUIET
    ERROR_VARIABLE tide_npm_err)
  if(NOT tide_npm_rc EQUAL 0 OR NOT EXISTS ${TIDE_REPORT_NPM_DIST}/uPlot.iife.min.js)
    message(FATAL_ERROR "tide: 'npm ci' failed in ${TIDE_REPORT_NPM} (npm registry unreachable?); "
      "run 'cd ${TIDE_REPORT_NPM} && npm ci' to see why, then configure again")
  endif()
  file(WRITE ${TIDE_REPORT_NPM_STAMP} "${TIDE_REPORT_NPM_LOCK_HASH}")
endif()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  ${TIDE_REPORT_NPM_SRC}/package.json ${TIDE_REPORT_NPM_SRC}/package-lock.json)

set(TIDE_REPORT_ASSETS
  ${CMAKE_SOURCE_DIR}/engine/report/assets/report.html
  ${CMAKE_SOURCE_DIR}/engine/report/assets/report.css
  ${CMAKE_SOURCE_DIR}/engine/report/assets/report.js
  ${TIDE_REPORT_NPM_DIST}/uPlot.iife.min.js
  ${TIDE_REPORT_NPM_DIST}/uPlot.min.css)
# uPlot's MIT licence travels with its code: the page carries it in a comment.
configure_file(${TIDE_REPORT_NPM}/node_modules/uplot/LICENSE ${TIDE_REPORT_NPM}/uPlot.LICENSE
  COPYONLY)
list(APPEND TIDE_REPORT_ASSETS ${TIDE_REPORT_NPM}/uPlot.LICENSE)
tide_embed_files(${CMAKE_BINARY_DIR}/embedded_report.c tide_report_assets "${TIDE_REPORT_ASSETS}")
list(APPEND TIDE_GENERATED_SOURCES ${CMAKE_BINARY_DIR}/embedded_report.c)
