# End-to-end tests: each tests/e2e/test_*.py runs the real binary against a real server on
# loopback (the built-in target, or Flask/nginx), bounded by a ctest TIMEOUT.
find_program(PYTHON3 python3 REQUIRED)
file(GLOB TIDE_E2E_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/test_*.py)
foreach(src ${TIDE_E2E_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_test(NAME e2e.${name} COMMAND ${PYTHON3} ${src})
  set_tests_properties(e2e.${name} PROPERTIES TIMEOUT 300
    ENVIRONMENT "TIDE_BIN=$<TARGET_FILE:tide>;TIDE_SOURCE_DIR=${CMAKE_SOURCE_DIR};TIDE_TEST_TMP=${CMAKE_BINARY_DIR}/e2e-tmp"
    LABELS e2e)
endforeach()
# Tests that exercise other programs more than tide (browser, Flask) skip the ASan pass.
foreach(t e2e.test_flask e2e.test_accuracy)
  if(TEST ${t})
    set_tests_properties(${t} PROPERTIES LABELS "e2e;no-asan")
  endif()
endforeach()
# Timing-sensitive tests run alone, so the other tests' CPU load does not skew them.
foreach(t e2e.test_accuracy e2e.test_open_model)
  if(TEST ${t})
    set_tests_properties(${t} PROPERTIES RUN_SERIAL TRUE)
  endif()
endforeach()
# Tests that run several worker threads at once: `make test` runs them again in a
# ThreadSanitizer build (-DTIDE_TSAN=ON, ctest -L tsan), where any report fails them.
foreach(t e2e.test_threads e2e.test_engine)
  if(TEST ${t})
    set_tests_properties(${t} PROPERTIES LABELS "e2e;tsan")
  endif()
endforeach()
include(${CMAKE_SOURCE_DIR}/tests/browser/tests.cmake OPTIONAL)
