# The rule language (include/salesflow/rules.hpp). Included by the top-level CMakeLists.txt after
# add_library(salesflow).
target_sources(salesflow PRIVATE
  ${PROJECT_SOURCE_DIR}/src/rules/builtins.cpp
  ${PROJECT_SOURCE_DIR}/src/rules/coerce.cpp
  ${PROJECT_SOURCE_DIR}/src/rules/compile.cpp
  ${PROJECT_SOURCE_DIR}/src/rules/evaluate.cpp
  ${PROJECT_SOURCE_DIR}/src/rules/js.cpp
  ${PROJECT_SOURCE_DIR}/src/rules/json_data.cpp
  ${PROJECT_SOURCE_DIR}/src/rules/operators.cpp
  ${PROJECT_SOURCE_DIR}/src/rules/rule.cpp
  ${PROJECT_SOURCE_DIR}/src/rules/value.cpp
)
