#include "cli/files.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>

#include "definition/json_document.hpp"

namespace salesflow::cli {

std::string printable_pointer(const std::string& pointer) {
  if (pointer.empty()) return "(document)";
  const std::string q = internal::quote_text(pointer, SIZE_MAX);
  return q.substr(1, q.size() - 2);
}

bool read_text_file(const std::string& path, std::size_t max_bytes, std::string& text,
                    std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::string("cannot open the file: ") + std::strerror(errno);
    return false;
  }
  if (!internal::read_bounded(in, max_bytes, text)) {
    error = "cannot read the file";
    return false;
  }
  if (text.size() > max_bytes) {
    error = "the file is larger than the limit of " + std::to_string(max_bytes) + " bytes";
    return false;
  }
  return true;
}

}  // namespace salesflow::cli
