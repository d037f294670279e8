// Helpers the subcommands share for reading their input files and naming places in them.
//
// [Errors] Nothing here throws for bad input; only std::bad_alloc may escape.
#ifndef SALESFLOW_CLI_FILES_HPP_
#define SALESFLOW_CLI_FILES_HPP_

#include <cstddef>
#include <string>

namespace salesflow::cli {

// A JSON Pointer for a line of text output: "" (the whole document) would print as nothing, so it
// is "(document)"; anything else unquoted, but without control characters or invalid UTF-8.
std::string printable_pointer(const std::string& pointer);

// Reads the file at `path` whole into `text` when it holds at most `max_bytes`. Reads in chunks,
// never more than one chunk past the limit, so that a huge or endless file (/dev/zero) is refused
// without being read whole and no memory is set aside for the limit up front. Otherwise returns
// false and says why in `error` (internal::read_document_file()'s messages: "is a directory, not
// a file", "cannot open the file: REASON", "cannot read the file", "the file is larger than the
// limit of N bytes").
bool read_text_file(const std::string& path, std::size_t max_bytes, std::string& text,
                    std::string& error);

}  // namespace salesflow::cli

#endif  // SALESFLOW_CLI_FILES_HPP_
