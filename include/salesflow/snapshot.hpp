// Instance snapshots: an InstanceState in a compact, versioned binary form, so that recovery can
// start from the state at some version and apply only the events after it.
//
//     encode_snapshot(instance id, state)            -> bytes
//     decode_snapshot(definition, instance id, bytes) -> state | why not
//
// The format (docs/storage.md, "Snapshots") starts with a format version byte and ends with a
// CRC-32 of everything before it. It carries every member of InstanceState (stage, status,
// closed_from, timestamps, fields by FieldId, checked items, approvals, assignments, lost reason,
// team_required, the delivery standards' lives) plus the instance id, the version and the
// definition id and version it was taken on. Decoding checks all of it: the format version, the
// checksum, that every length and index is within the bytes and within the definition's tables,
// that the instance and definition are the ones asked for, that each standard's life is one the
// machine can reach, and that no byte is left over. A snapshot that fails any check is refused
// (the engine then replays the instance's events instead).
//
// [Thread safety] Pure functions. [Errors] decode_snapshot() answers a sentence, never throws for
// bad bytes (only std::bad_alloc may escape).
#ifndef SALESFLOW_SNAPSHOT_HPP_
#define SALESFLOW_SNAPSHOT_HPP_

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "salesflow/definition.hpp"
#include "salesflow/process.hpp"

namespace salesflow {

// The format version this build writes (the first byte of every snapshot) and reads.
inline constexpr std::uint8_t kSnapshotFormat = 1;

// The snapshot of `state` (which must exist: version >= 1, its definition set) for instance `id`.
std::string encode_snapshot(std::string_view id, const InstanceState& state);

// The state a snapshot holds, on `definition` (which must be the snapshot's definition id and
// version), or why it cannot be used.
struct DecodedSnapshot {
  std::variant<InstanceState, std::string> result;
  bool ok() const noexcept { return result.index() == 0; }
  InstanceState& state() { return std::get<InstanceState>(result); }
  const std::string& error() const { return std::get<std::string>(result); }
};
DecodedSnapshot decode_snapshot(const ProcessDefinition& definition, std::string_view id,
                                std::string_view bytes);

}  // namespace salesflow

#endif  // SALESFLOW_SNAPSHOT_HPP_
