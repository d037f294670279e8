#include "cli/files.hpp"

#include <cstdint>

#include "definition/json_document.hpp"

namespace salesflow::cli {

std::string printable_pointer(const std::string& pointer) {
  if (pointer.empty()) return "(document)";
  const std::string q = internal::quote_text(pointer, SIZE_MAX);
  return q.substr(1, q.size() - 2);
}

bool read_text_file(const std::string& path, std::size_t max_bytes, std::string& text,
                    std::string& error) {
  auto problem = internal::read_document_file(path, max_bytes, text);
  if (problem) error = std::move(problem->message);
  return !problem;
}

}  // namespace salesflow::cli
