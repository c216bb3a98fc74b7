# Browser test of report.html (tests/browser/): renders the fixture summary and checks the page
# in headless Debian Chromium through playwright-core. Needs the Debian packages chromium and
# nodejs/npm; 'npm ci' fetches playwright-core (tests/browser/package-lock.json) on first run.
# Skipped (exit 77) when Chromium or Node.js is missing. Screenshot: build/tests/browser/report.png.
add_executable(tide_render_report ${CMAKE_CURRENT_LIST_DIR}/render_report.c)
target_compile_options(tide_render_report PRIVATE ${TIDE_WARNINGS})
target_link_libraries(tide_render_report PRIVATE tide_engine)
add_test(NAME browser.report
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/run.sh $<TARGET_FILE:tide_render_report>
          ${CMAKE_SOURCE_DIR}/tests/fixtures/summary.json ${CMAKE_CURRENT_BINARY_DIR}/browser)
set_tests_properties(browser.report PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300
  LABELS "browser;no-asan")

# A long run's report (tests/browser/long_run.sh): a synthetic 8-hour summary rendered by
# 'tide report', report.html under 3 MB with the history thinned for the charts (min/max per
# bucket), stats_history.csv at full resolution, loads in Chromium under a generous ceiling.
add_test(NAME browser.long_report
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/long_run.sh $<TARGET_FILE:tide>
          ${CMAKE_SOURCE_DIR}/tests/fixtures/summary.json ${CMAKE_CURRENT_BINARY_DIR}/browser-long)
set_tests_properties(browser.long_report PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600
  LABELS "browser;no-asan")
# Both browser tests may run 'npm ci' in tests/browser on first use: never at once.
set_tests_properties(browser.report browser.long_report PROPERTIES RESOURCE_LOCK tide-browser-npm)

# The live dashboard (tests/browser/dashboard.test.mjs): 'tide run --dashboard' against the
# built-in target; the page loads during the run, updates, shows the final verdict.
add_test(NAME browser.dashboard
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/dashboard_run.sh $<TARGET_FILE:tide>
          ${CMAKE_SOURCE_DIR}/scenarios/demo.lua ${CMAKE_CURRENT_BINARY_DIR}/browser-dashboard)
set_tests_properties(browser.dashboard PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300
  LABELS "browser;no-asan" RESOURCE_LOCK tide-browser-npm)
