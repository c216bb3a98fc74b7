# End-to-end tests: each tests/e2e/test_*.py runs the real binary against a real server on
# loopback (the built-in target, or Flask/nginx), bounded by a ctest TIMEOUT. A test that cannot
# run here (no Flask, not root for the full disk) exits 77 through tidetest.skip(reason) and
# shows as "Skipped" in ctest's closing lines, never as passed.
# No test asserts a speed or a latency that a busy machine can miss (bench/ reports those), so
# none needs to run alone.
find_program(PYTHON3 python3 REQUIRED)
file(GLOB TIDE_E2E_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/test_*.py)
foreach(src ${TIDE_E2E_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_test(NAME e2e.${name} COMMAND ${PYTHON3} ${src})
  set_tests_properties(e2e.${name} PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77
    ENVIRONMENT "TIDE_BIN=$<TARGET_FILE:tide>;TIDE_SOURCE_DIR=${CMAKE_SOURCE_DIR};TIDE_TEST_TMP=${CMAKE_BINARY_DIR}/e2e-tmp"
    LABELS e2e)
endforeach()
# Tests that exercise other programs more than tide (Flask), or the docs more than the code,
# skip the ASan pass.
foreach(t e2e.test_flask e2e.test_docs_examples)
  if(TEST ${t})
    set_tests_properties(${t} PROPERTIES LABELS "e2e;no-asan")
  endif()
endforeach()
# Hostile inputs move gigabytes through loopback (big bodies): room on a loaded machine.
if(TEST e2e.test_hostile)
  set_tests_properties(e2e.test_hostile PROPERTIES TIMEOUT 600)
endif()
# The demo runs twice for 30 s each: more room than the default, as a hang guard.
if(TEST e2e.test_demo)
  set_tests_properties(e2e.test_demo PROPERTIES TIMEOUT 600)
endif()
# Every command of README.md and docs/ (about 60 runs of a few seconds).
if(TEST e2e.test_docs_examples)
  set_tests_properties(e2e.test_docs_examples PROPERTIES TIMEOUT 900)
endif()

# Sub-cases of unit tests that need something this machine may not have are their own ctest
# cases, so that a skip (exit 77) is visible: the ENOSPC case of the atomic write needs a tmpfs
# mount, the JUnit schema check needs xmllint.
if(TARGET test_report_fs)
  add_test(NAME unit.test_report_fs.full_disk COMMAND test_report_fs --full-disk)
  set_tests_properties(unit.test_report_fs.full_disk PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77)
endif()
if(TARGET test_report_junit)
  add_test(NAME unit.test_report_junit.schema COMMAND test_report_junit --schema)
  set_tests_properties(unit.test_report_junit.schema PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77)
endif()
# Tests that run several worker threads at once: `make test` runs them again in a
# ThreadSanitizer build (-DTIDE_TSAN=ON, ctest -L tsan), where any report fails them.
foreach(t e2e.test_threads e2e.test_engine e2e.test_dns)
  if(TEST ${t})
    set_tests_properties(${t} PROPERTIES LABELS "e2e;tsan")
  endif()
endforeach()
include(${CMAKE_SOURCE_DIR}/tests/browser/tests.cmake OPTIONAL)
# The IPFS export test may first install its npm packages (npm ci: minutes on a slow link), then
# starts a js-ipfs node; each step is bounded inside the test.
if(TEST e2e.test_export_ipfs)
  set_tests_properties(e2e.test_export_ipfs PROPERTIES TIMEOUT 2400 LABELS "e2e;no-asan")
endif()
# The dweb test may first install js-ipfs with npm ci (minutes on a busy machine).
if(TEST e2e.test_scenarios_dweb)
  set_tests_properties(e2e.test_scenarios_dweb PROPERTIES TIMEOUT 1500 LABELS "e2e;no-asan")
endif()
