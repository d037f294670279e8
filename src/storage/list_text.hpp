// The text the stores keep for a string-list field value: a JSON array of strings.
#ifndef SALESFLOW_STORAGE_LIST_TEXT_HPP_
#define SALESFLOW_STORAGE_LIST_TEXT_HPP_

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace salesflow::internal {

// The brackets and commas are written here and each string is dumped on its own: dumping a whole
// array with nlohmann/json 3.11.2 (Debian 12) calls std::terminate when its last allocation fails,
// instead of throwing std::bad_alloc (tests/alloc_failure_test.cpp runs out of memory there).
inline std::string list_text(const std::vector<std::string>& list) {
  std::string text = "[";
  for (const std::string& item : list) {
    if (text.size() > 1) text += ',';
    text += nlohmann::json(item).dump();
  }
  text += ']';
  return text;
}

}  // namespace salesflow::internal

#endif  // SALESFLOW_STORAGE_LIST_TEXT_HPP_
