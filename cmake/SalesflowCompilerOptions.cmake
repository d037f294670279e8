# Warnings and sanitizers for salesflow's own targets.
function(salesflow_target_options target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                           -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual)
  endif()
endfunction()

if(SALESFLOW_SANITIZE)
  add_compile_options(-fsanitize=${SALESFLOW_SANITIZE} -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${SALESFLOW_SANITIZE})
  # Internal preconditions that release builds trust (e.g. DeadlineQueue::cancel_pending) are
  # checked in sanitizer builds, whose test runs abort on a violation.
  add_compile_definitions(SALESFLOW_CHECK_PRECONDITIONS)
endif()
