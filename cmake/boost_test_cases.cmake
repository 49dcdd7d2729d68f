# Registers every Boost.Test case found in the given sources as its own CTest entry, so each runs
# in a fresh process (SystemC cannot re-elaborate within one). Cases are found by scanning for
# BOOST_AUTO_TEST_SUITE / BOOST_AUTO_TEST_CASE; one suite per file, no nesting.
# NPUSIM_PRESET_CASES / NPUSIM_PRESET_TESTS(name, ...) (tests/sw/op_fixture.h) make one case
# per preset.
set(NPUSIM_PRESETS tiny ascend910 ascend910b1 ascend310p3)
function(npusim_add_boost_case target suite name)
  if(suite)
    set(name "${suite}/${name}")
  endif()
  add_test(NAME ${name} COMMAND ${target} --run_test=${name} --log_level=warning)
  set_tests_properties(${name} PROPERTIES TIMEOUT 300)
endfunction()

function(npusim_add_boost_tests target sources)
  foreach(src ${sources})
    file(STRINGS ${src} lines REGEX "(BOOST_(AUTO_TEST_SUITE|AUTO_TEST_CASE|FIXTURE_TEST_CASE)|NPUSIM_PRESET_(CASES|TESTS))\\(")
    set(suite "")
    foreach(l ${lines})
      if(l MATCHES "BOOST_AUTO_TEST_SUITE\\(([A-Za-z0-9_]+)")
        set(suite ${CMAKE_MATCH_1})
      elseif(l MATCHES "BOOST_(AUTO_TEST_CASE|FIXTURE_TEST_CASE)\\(([A-Za-z0-9_]+)")
        npusim_add_boost_case(${target} "${suite}" ${CMAKE_MATCH_2})
      elseif(l MATCHES "NPUSIM_PRESET_(CASES|TESTS)\\(([A-Za-z0-9_]+)")
        foreach(preset ${NPUSIM_PRESETS})
          npusim_add_boost_case(${target} "${suite}" ${CMAKE_MATCH_2}_${preset})
        endforeach()
      endif()
    endforeach()
  endforeach()
endfunction()
