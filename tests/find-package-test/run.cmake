# ctest driver: install the built salesflow into a fresh prefix, then configure, build and run a
# consumer project against it with find_package(salesflow CONFIG REQUIRED).
# Inputs: BUILD_DIR, SOURCE_DIR, WORK_DIR, EXAMPLE, CXX_FLAGS, SANITIZE.
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

step(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")
foreach(f include/salesflow/definition.hpp lib/cmake/salesflow/salesflowConfig.cmake
          lib/cmake/salesflow/salesflowConfigVersion.cmake
          lib/cmake/salesflow/salesflowTargets.cmake share/salesflow/definition.schema.json)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "the install tree lacks ${f}")
  endif()
endforeach()

set(flags "${CXX_FLAGS}")
set(link_flags "")
if(SANITIZE)
  string(APPEND flags " -fsanitize=${SANITIZE}")
  set(link_flags "-fsanitize=${SANITIZE}")
endif()
step(${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${WORK_DIR}/build"
     "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_CXX_FLAGS=${flags}"
     "-DCMAKE_EXE_LINKER_FLAGS=${link_flags}")
step(${CMAKE_COMMAND} --build "${WORK_DIR}/build")
step("${WORK_DIR}/build/consumer" "${EXAMPLE}")
message(STATUS "${step_output}")
if(NOT step_output MATCHES "consumer: b2b_pipeline has [0-9]+ stages")
  message(FATAL_ERROR "unexpected consumer output: ${step_output}")
endif()
