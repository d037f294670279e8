// Snapshot format version 1 (docs/storage.md, "Snapshots"). Integers are LEB128 varints (signed
// ones zigzag-encoded first), strings a varint length and their bytes, doubles their 8 IEEE-754
// bytes little-endian; the last 4 bytes are the CRC-32 (Boost.CRC, the zlib polynomial) of all
// bytes before them, little-endian.
#include "salesflow/snapshot.hpp"

#include <bit>
#include <boost/crc.hpp>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "engine/instance_details.hpp"

namespace salesflow {
namespace {

// Value tags: which FieldValue alternative follows.
enum class Tag : std::uint8_t {
  kNone = 0,
  kString = 1,
  kNumber = 2,
  kInteger = 3,
  kFalse = 4,
  kTrue = 5,
  kTimestamp = 6,
  kStringList = 7,
};

std::uint32_t crc32(std::string_view bytes) {
  boost::crc_32_type crc;
  crc.process_bytes(bytes.data(), bytes.size());
  return crc.checksum();
}

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  void byte(std::uint8_t b) { out_.push_back(static_cast<char>(b)); }
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      byte(static_cast<std::uint8_t>(v | 0x80));
      v >>= 7;
    }
    byte(static_cast<std::uint8_t>(v));
  }
  void signed_varint(std::int64_t v) {
    varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
  }
  void text(std::string_view s) {
    varint(s.size());
    out_.append(s);
  }
  void fixed64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) byte(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void fixed32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) byte(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void time(Timestamp t) { signed_varint(t.time_since_epoch().count()); }

 private:
  std::string& out_;
};

// Reads within the bytes it was given; the first failure sticks and every later read answers 0.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  bool ok() const noexcept { return error_.empty(); }
  const std::string& error() const noexcept { return error_; }
  bool at_end() const noexcept { return pos_ == bytes_.size(); }
  std::size_t left() const noexcept { return bytes_.size() - pos_; }
  void fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
  }

  std::uint8_t byte() {
    if (!ok()) return 0;
    if (pos_ >= bytes_.size()) {
      fail("it is truncated");
      return 0;
    }
    return static_cast<std::uint8_t>(bytes_[pos_++]);
  }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const std::uint8_t b = byte();
      if (!ok()) return 0;
      if (shift == 63 && b > 1) break;
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return v;
    }
    fail("it holds an integer longer than 64 bits");
    return 0;
  }
  std::int64_t signed_varint() {
    const std::uint64_t v = varint();
    return static_cast<std::int64_t>((v >> 1) ^ (~(v & 1) + 1));
  }
  // A count of things that each take at least `min_bytes`: never more than the bytes left.
  std::size_t count(std::size_t min_bytes, const char* what) {
    const std::uint64_t n = varint();
    if (ok() && n > left() / min_bytes) fail(std::string("its ") + what + " count is too large");
    return ok() ? static_cast<std::size_t>(n) : 0;
  }
  std::uint32_t index(std::size_t size, const char* what) {
    const std::uint64_t i = varint();
    if (ok() && i >= size) {
      fail(std::string("its ") + what + " " + std::to_string(i) + " is not in the definition (" +
           std::to_string(size) + ")");
    }
    return ok() ? static_cast<std::uint32_t>(i) : 0;
  }
  std::string text() {
    const std::size_t n = count(1, "text length");
    if (!ok()) return {};
    std::string s(bytes_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  std::uint64_t fixed64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(byte()) << (8 * i);
    return v;
  }
  Timestamp time() { return Timestamp(std::chrono::milliseconds(signed_varint())); }
  // An instant the engine counts from (when the instance began, entered its stage, a standard's
  // stretch began). Instants outside what a command can carry are refused: a calendar walks every
  // day between two instants, and the standards add durations to them. (A field's timestamp
  // value is the host's and is read with time().)
  Timestamp instant() {
    const Timestamp t = time();
    if (ok() && (t < kEarliestTimestamp || t > kLatestTimestamp)) {
      fail("it names an instant outside the years 0000 to 9999");
    }
    return t;
  }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
  std::string error_;
};

void write_value(Writer& w, const FieldValue& value) {
  struct Visitor {
    Writer& w;
    void operator()(std::monostate) const { w.byte(static_cast<std::uint8_t>(Tag::kNone)); }
    void operator()(const std::string& s) const {
      w.byte(static_cast<std::uint8_t>(Tag::kString));
      w.text(s);
    }
    void operator()(double d) const {
      w.byte(static_cast<std::uint8_t>(Tag::kNumber));
      w.fixed64(std::bit_cast<std::uint64_t>(d));
    }
    void operator()(std::int64_t i) const {
      w.byte(static_cast<std::uint8_t>(Tag::kInteger));
      w.signed_varint(i);
    }
    void operator()(bool b) const {
      w.byte(static_cast<std::uint8_t>(b ? Tag::kTrue : Tag::kFalse));
    }
    void operator()(Timestamp t) const {
      w.byte(static_cast<std::uint8_t>(Tag::kTimestamp));
      w.time(t);
    }
    void operator()(const std::vector<std::string>& list) const {
      w.byte(static_cast<std::uint8_t>(Tag::kStringList));
      w.varint(list.size());
      for (const std::string& s : list) w.text(s);
    }
  };
  std::visit(Visitor{w}, value);
}

FieldValue read_value(Reader& r) {
  switch (static_cast<Tag>(r.byte())) {
    case Tag::kNone:
      return FieldValue{};
    case Tag::kString:
      return r.text();
    case Tag::kNumber:
      return std::bit_cast<double>(r.fixed64());
    case Tag::kInteger:
      return r.signed_varint();
    case Tag::kFalse:
      return false;
    case Tag::kTrue:
      return true;
    case Tag::kTimestamp:
      return r.time();
    case Tag::kStringList: {
      std::vector<std::string> list(r.count(1, "list item"));
      for (std::string& s : list) s = r.text();
      return list;
    }
  }
  r.fail("it holds an unknown value tag");
  return FieldValue{};
}

}  // namespace

std::string encode_snapshot(std::string_view id, const InstanceState& state) {
  const ProcessDefinition& def = *state.definition;
  std::string out;
  out.reserve(64 + id.size() + def.id().size() + 16 * state.fields().size() +
              24 * state.standards().size());
  Writer w(out);
  w.byte(kSnapshotFormat);
  w.text(id);
  w.varint(state.version);
  w.text(def.id());
  w.varint(def.version());
  w.varint(to_index(state.stage));
  w.byte(static_cast<std::uint8_t>(state.status));
  w.varint(to_index(state.closed_from));
  w.time(state.created_at);
  w.time(state.stage_entered_at);
  w.varint(state.fields().size());
  for (const FieldValue& value : state.fields()) write_value(w, value);
  std::vector<std::uint32_t> checked;
  for (std::uint32_t i = 0; i < def.checklist_items().size(); ++i) {
    if (state.checked_items.contains(i)) checked.push_back(i);
  }
  w.varint(checked.size());
  for (const std::uint32_t i : checked) w.varint(i);
  w.varint(state.standards().size());
  for (const StandardLife& life : state.standards()) {
    const StandardLife::Saved saved = life.saved();
    w.byte(static_cast<std::uint8_t>(saved.phase));
    w.byte(saved.paused ? 1 : 0);
    w.byte(saved.escalations);
    w.signed_varint(saved.counted_ms);
    w.time(saved.since);
  }
  w.varint(state.approvals().size());
  for (const GivenApproval& a : state.approvals()) {
    w.varint(to_index(a.approval));
    w.text(a.person);
  }
  w.varint(state.assignments().size());
  for (const RoleAssignment& a : state.assignments()) {
    w.varint(to_index(a.role));
    w.text(a.person);
  }
  w.text(state.lost_reason());
  w.varint(state.team_required().bits());
  w.fixed32(crc32(out));
  return out;
}

DecodedSnapshot decode_snapshot(const ProcessDefinition& def, std::string_view id,
                                std::string_view bytes) {
  const auto refuse = [](std::string why) {
    return DecodedSnapshot{"the snapshot is not usable: " + std::move(why)};
  };
  if (bytes.empty()) return refuse("it is empty");
  if (static_cast<std::uint8_t>(bytes[0]) != kSnapshotFormat) {
    return refuse("its format version is " +
                  std::to_string(static_cast<unsigned>(static_cast<std::uint8_t>(bytes[0]))) +
                  " (this build reads " + std::to_string(kSnapshotFormat) + ")");
  }
  if (bytes.size() < 5) return refuse("it is truncated");
  const std::string_view body = bytes.substr(0, bytes.size() - 4);
  std::uint32_t stored = 0;
  for (int i = 0; i < 4; ++i) {
    stored |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[body.size() + i]))
              << (8 * i);
  }
  if (crc32(body) != stored) return refuse("its checksum does not match (damaged or truncated)");

  Reader r(body);
  r.byte();  // the format version, checked above
  InstanceState state;
  state.definition = &def;
  if (const std::string snapshot_id = r.text(); r.ok() && snapshot_id != id) {
    r.fail("it is of another instance");
  }
  state.version = r.varint();
  if (r.ok() && state.version == 0) r.fail("its version is 0");
  const std::string def_id = r.text();
  const std::uint64_t def_version = r.varint();
  if (r.ok() && (def_id != def.id() || def_version != def.version())) {
    r.fail("it was taken on another definition (" + def_id + " version " +
           std::to_string(def_version) + ")");
  }
  state.stage = StageId(r.index(def.stages().size(), "stage"));
  const std::uint8_t status = r.byte();
  if (r.ok() && status > static_cast<std::uint8_t>(InstanceStatus::kLost)) {
    r.fail("its status is unknown");
  }
  state.status = static_cast<InstanceStatus>(status);
  state.closed_from = StageId(r.index(def.stages().size(), "stage"));
  state.created_at = r.instant();
  state.stage_entered_at = r.instant();
  const std::size_t fields = r.count(1, "field");
  if (r.ok() && fields != def.fields().size()) r.fail("its field count is not the definition's");
  state.resize_slots(r.ok() ? fields : 0, 0);
  for (FieldValue& value : state.fields()) value = read_value(r);
  const std::size_t checked = r.count(1, "checked item");
  std::int64_t previous = -1;
  for (std::size_t i = 0; i < checked && r.ok(); ++i) {
    const std::uint32_t item = r.index(def.checklist_items().size(), "checklist item");
    if (r.ok() && static_cast<std::int64_t>(item) <= previous) r.fail("its items are not in order");
    previous = item;
    state.checked_items.insert(item);
  }
  const auto standards = def.delivery_standards();
  const std::size_t lives = r.count(3, "standard");
  if (r.ok() && lives != standards.size()) {
    r.fail("its standard count is not the definition's");
  }
  state.resize_slots(state.fields().size(), r.ok() ? lives : 0);
  for (std::size_t i = 0; i < lives && r.ok(); ++i) {
    StandardLife::Saved saved;
    const std::uint8_t phase = r.byte();
    const std::uint8_t paused = r.byte();
    saved.escalations = r.byte();
    saved.counted_ms = r.signed_varint();
    saved.since = r.instant();
    saved.phase = static_cast<StandardPhase>(phase);
    saved.paused = paused == 1;
    std::optional<StandardLife> life;
    if (r.ok() && paused <= 1 && saved.escalations <= standards[i].escalation.size()) {
      life = StandardLife::restore(saved);
    }
    if (r.ok() && !life) r.fail("the life of standard " + standards[i].id + " is not possible");
    if (life) state.standards()[i] = *life;
  }
  const std::size_t approvals = r.count(2, "approval");
  std::vector<GivenApproval> given(approvals);
  for (GivenApproval& a : given) {
    a.approval = ApprovalId(r.index(def.approvals().size(), "approval"));
    a.person = r.text();
  }
  const std::size_t assignments = r.count(2, "assignment");
  std::vector<RoleAssignment> assigned(assignments);
  for (RoleAssignment& a : assigned) {
    a.role = RoleId(r.index(def.roles().size(), "role"));
    a.person = r.text();
  }
  std::string lost_reason = r.text();
  const RoleSet team(r.varint());
  if (r.ok() && def.roles().size() < 64 && (team.bits() >> def.roles().size()) != 0) {
    r.fail("its team names a role that is not in the definition");
  }
  if (r.ok() && !r.at_end()) r.fail("bytes are left over after it");
  if (!r.ok()) return refuse(r.error());
  if (!given.empty() || !assigned.empty() || !lost_reason.empty() || !team.empty()) {
    InstanceDetails& details = state.details();
    details.approvals.assign(std::make_move_iterator(given.begin()),
                             std::make_move_iterator(given.end()));
    details.assignments = std::move(assigned);
    details.lost_reason = std::move(lost_reason);
    details.team_required = team;
  }
  return DecodedSnapshot{std::move(state)};
}

}  // namespace salesflow
