// salesflow run DEF.json... [--directory people.json] [--store URI] [--summary] < commands.jsonl
//
// Drives an Engine with a stream of JSON commands, one per line, and answers each line with one
// JSON line, in order. The format is docs/command-stream.md; the codec is cli/command_json.hpp.
// Rejections are answers: the run only fails (exit 1) when a definition, the directory file or
// the store is invalid. With --store the engine recovers the stored instances first.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "cli/command_json.hpp"
#include "cli/commands.hpp"
#include "cli/files.hpp"
#include "definition/json_document.hpp"
#include "salesflow/engine.hpp"
#include "salesflow/figures.hpp"
#include "salesflow/hooks.hpp"
#include "salesflow/storage.hpp"

namespace salesflow::cli {
namespace {

using internal::quote_text;
using nlohmann::json;

struct RunOptions {
  std::vector<std::string> definitions;
  std::string directory;
  std::string store = "memory";
  std::string key_prefix;
  std::string notify;
  std::uint32_t batch = 10000;  // SQLite: commands per transaction at most; 0: one each
  bool summary = false;
  bool stats = false;
  std::uint32_t snapshot_every = EngineOptions{}.snapshot_every;
};

// --notify FILE: every notification the engine hands out, one JSON line each, appended with one
// write(2) per line (nothing buffered in the process: a killed run loses none it was given; a
// line a kill cut short is cut off by the next run, open_notify_file()).
// When the store batches appends, the lines are held until release(), which the runner calls
// once the batch holding their events has committed: a notification never names an event that
// a crash could still take back.
class NotifyFile final : public EventListener {
 public:
  NotifyFile(int fd, bool hold) : fd_(fd), hold_(hold) {}
  ~NotifyFile() override { ::close(fd_); }
  void on_event(const Event& e) override {
    std::string line = "{\"id\":";
    internal::append_json_string(line, e.instance + "#" + std::to_string(e.version));
    line += ",\"instance\":";
    internal::append_json_string(line, e.instance);
    line += ",\"version\":" + std::to_string(e.version) + ",\"type\":";
    internal::append_json_string(line, to_string(e.type));
    line += "}\n";
    std::lock_guard lock(mutex_);
    if (hold_) {
      held_ += line;
      return;
    }
    write_all(line);
  }
  // Writes the held lines (batch mode).
  void release() {
    std::lock_guard lock(mutex_);
    write_all(held_);
    held_.clear();
  }
  bool ok() const { return ok_; }

 private:
  void write_all(const std::string& line) {
    std::size_t done = 0;
    while (done < line.size()) {
      const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ok_ = false;
        return;
      }
      done += static_cast<std::size_t>(n);
    }
  }

  int fd_;
  const bool hold_;
  std::mutex mutex_;
  std::string held_;
  bool ok_ = true;
};

// Opens the --notify file for appending. A run killed in the middle of a write can leave its last
// line cut short (Linux stops a write to a file at a page boundary when the writer is killed):
// that piece is cut off, so that every line stays one whole JSON object. Its event was not marked
// delivered yet (a mark is written after the lines it covers), so this run hands it over again.
// A regular file the run may write but not read is appended to as it is. Returns the
// descriptor, or -1 with `error` set.
int open_notify_file(const std::string& path, std::string& error) {
  // Write-only: a FIFO (or a pipe named by /dev/stdout) must not be held open for reading too,
  // or the run would never see its reader go.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = std::string("cannot open for appending: ") + std::strerror(errno);
    return -1;
  }
  const auto fail = [&](const char* what, int in) {
    error = std::string(what) + std::strerror(errno);
    if (in >= 0) ::close(in);
    ::close(fd);
    return -1;
  };
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail("cannot inspect it: ", -1);
  // Pipes, terminals and devices: nothing to mend.
  if (!S_ISREG(st.st_mode) || st.st_size == 0) return fd;
  // The same file read through a second descriptor (non-blocking, in case the name now leads to
  // a FIFO); one the run may write but not read is appended to as it is.
  const int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (in < 0 && errno == EACCES) return fd;
  struct stat read_st {};
  if (in < 0 || ::fstat(in, &read_st) != 0) return fail("cannot read it: ", in);
  if (read_st.st_dev != st.st_dev || read_st.st_ino != st.st_ino) {
    errno = EBUSY;
    return fail("it was replaced while being opened: ", in);
  }
  off_t end = st.st_size;  // the whole lines end here, once the last '\n' is found
  bool found = false;
  std::array<char, 4096> chunk;
  while (end > 0 && !found) {
    const off_t start =
        end > static_cast<off_t>(chunk.size()) ? end - static_cast<off_t>(chunk.size()) : 0;
    const ssize_t n = ::pread(in, chunk.data(), static_cast<std::size_t>(end - start), start);
    if (n < 0 && errno == EINTR) continue;
    if (n != end - start) {
      if (n >= 0) errno = EIO;  // a short read: the file shrank meanwhile
      return fail("cannot read its end: ", in);
    }
    for (ssize_t i = n; i > 0 && !found; --i) {
      found = chunk[static_cast<std::size_t>(i - 1)] == '\n';
      if (found) end = start + i;
    }
    if (!found) end = start;
  }
  ::close(in);
  if (end != st.st_size && ::ftruncate(fd, end) != 0) {
    return fail("cannot cut off the last line, which a crash cut short: ", -1);
  }
  return fd;
}

// Where the time of a run goes, for --stats: decoding the JSON lines, the engine, encoding the
// answers; the rest is reading, writing and bookkeeping. Off, it reads no clock.
class PhaseTimer {
 public:
  enum Phase { kDecode, kEngine, kEncode, kPhases };
  using Clock = std::chrono::steady_clock;

  explicit PhaseTimer(bool enabled) : enabled_(enabled), start_(Clock::now()) {}

  // Charges the time since the previous mark (or the start of the line) to `phase`.
  void begin_line() {
    if (enabled_) last_ = Clock::now();
  }
  void mark(Phase phase) {
    if (!enabled_) return;
    const auto now = Clock::now();
    spent_[phase] += now - last_;
    last_ = now;
  }

  void report(std::size_t lines) const {
    if (!enabled_) return;
    const auto seconds = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
    const double total = seconds(Clock::now() - start_);
    const auto line = [&](const char* what, double s) {
      std::fprintf(stderr, "  %-34s %8.3f s  %5.1f%%\n", what, s,
                   total > 0 ? 100 * s / total : 0.0);
    };
    std::fprintf(stderr, "salesflow run: %zu lines in %.3f s: %.0f lines/s\n", lines, total,
                 total > 0 ? static_cast<double>(lines) / total : 0.0);
    line("decode (JSON parse, checks, fields)", seconds(spent_[kDecode]));
    line("engine (decide, store, apply)", seconds(spent_[kEngine]));
    line("encode (answers as JSON)", seconds(spent_[kEncode]));
    line("read, write, bookkeeping",
         total - seconds(spent_[kDecode] + spent_[kEngine] + spent_[kEncode]));
  }

 private:
  bool enabled_;
  Clock::time_point start_, last_;
  std::array<Clock::duration, kPhases> spent_{};
};

// Text from the input, for a terminal: as it is unless it holds control characters (which could
// drive the terminal), then quoted and escaped.
std::string printable(std::string_view text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return quote_text(text, 200);
  }
  return std::string(text);
}

// Reads lines from a file descriptor without ever holding more than `max_bytes` of one line: the
// rest of an overlong line is skipped as it is read. read(2) returns what is available, so an
// interactive writer gets each answer before it sends the next command.
class LineReader {
 public:
  enum class Status { kLine, kTooLong, kEnd, kError };

  LineReader(int fd, std::size_t max_bytes) : fd_(fd), max_bytes_(max_bytes), buffer_(1 << 16) {}

  // The next line, without its '\n'. kTooLong: `length` is the whole line's length, `line` empty.
  // `before_blocking` runs before each read(2) that may wait for input.
  template <class F>
  Status next(std::string& line, std::size_t& length, F&& before_blocking) {
    line.clear();
    length = 0;
    bool any = false;
    for (;;) {
      if (begin_ == end_) {
        if (eof_) return any ? finish(length) : Status::kEnd;
        before_blocking();
        if (!fill()) return Status::kError;
        continue;
      }
      any = true;
      const char* start = buffer_.data() + begin_;
      const auto* newline = static_cast<const char*>(std::memchr(start, '\n', end_ - begin_));
      const std::size_t n = newline ? static_cast<std::size_t>(newline - start) : end_ - begin_;
      take(line, length, start, n);
      begin_ += n;
      if (newline) {
        ++begin_;
        return finish(length);
      }
    }
  }

 private:
  void take(std::string& line, std::size_t& length, const char* data, std::size_t n) {
    length += n;
    if (length <= max_bytes_) {
      line.append(data, n);
    } else {
      line.clear();
      line.shrink_to_fit();
    }
  }

  Status finish(std::size_t length) const {
    return length > max_bytes_ ? Status::kTooLong : Status::kLine;
  }

  bool fill() {
    begin_ = 0;
    end_ = 0;
    for (;;) {
      const ssize_t n = ::read(fd_, buffer_.data(), buffer_.size());
      if (n > 0) {
        end_ = static_cast<std::size_t>(n);
        return true;
      }
      if (n == 0) {
        eof_ = true;
        return true;
      }
      if (errno != EINTR) return false;
    }
  }

  int fd_;
  std::size_t max_bytes_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
};

// Loads the directory file: {"person": ["role", ...], ...}. Problems print as FILE: POINTER:
// message on stderr.
bool load_directory(const std::string& path, InMemoryDirectory& directory) {
  constexpr internal::JsonLimits kLimits{.max_document_bytes = 16 << 20,
                                         .max_depth = 4,
                                         .max_string_bytes = 4096,
                                         .max_values = 1'000'000};
  std::string text, error;
  if (!read_text_file(path, kLimits.max_document_bytes, text, error)) {
    std::cerr << path << ": (document): " << error << "\n";
    return false;
  }
  auto parsed = internal::parse_json(text, kLimits);
  if (const auto* d = std::get_if<Diagnostic>(&parsed)) {
    std::cerr << path << ": " << printable_pointer(d->pointer) << ": " << d->message << "\n";
    return false;
  }
  const json& root = std::get<json>(parsed);
  const auto problem = [&](const std::string& pointer, const std::string& message) {
    std::cerr << path << ": " << printable_pointer(pointer) << ": " << message << "\n";
    return false;
  };
  if (!root.is_object()) {
    return problem("",
                   "the directory must be an object of people to lists of role ids, e.g. "
                   "{\"maria\": [\"sales_rep\"]}");
  }
  bool ok = true;
  for (const auto& [person, roles] : root.items()) {
    const std::string pointer = internal::child_pointer("", person);
    if (person.empty()) ok = problem(pointer, "a person's id must not be empty");
    if (!roles.is_array()) {
      ok = problem(pointer, "must be a list of role ids, not " + std::string(roles.type_name()));
      continue;
    }
    for (std::size_t i = 0; i < roles.size(); ++i) {
      if (!roles[i].is_string() || roles[i].get_ref<const std::string&>().empty()) {
        ok = problem(internal::child_pointer(pointer, i), "a role id must be a non-empty string");
        continue;
      }
      directory.grant(person, roles[i].get<std::string>());
    }
  }
  return ok;
}

// What --summary reports of one instance.
struct InstanceReport {
  std::string id;
  std::size_t commands = 0;
  std::size_t rejected = 0;
  bool last_rejected = false;
  std::string last_code, last_message;
  std::vector<UnmetCriterion> last_unmet;
  std::string hold_reason;
};

class Runner {
 public:
  // `batching`: the store holds appends in a transaction until flush() (StoreOptions::
  // batch_appends); answers and `notify`'s lines go out only after it committed.
  Runner(Engine& engine, EventStore& store, const RunOptions& options, bool batching,
         NotifyFile* notify)
      : engine_(engine),
        store_(store),
        batching_(batching),
        batch_lines_(options.batch),
        notify_(notify),
        summary_(options.summary),
        key_prefix_(options.key_prefix),
        timer_(options.stats) {}

  // Processes standard input to its end. False when reading or writing failed.
  bool run() {
    LineReader reader(STDIN_FILENO, kMaxLineBytes);
    std::string line;
    std::size_t length = 0;
    // Answers are batched, and written whenever the reader is about to wait for input.
    const auto flush_if_waiting = [this] { flush(); };
    for (;;) {
      const auto status = reader.next(line, length, flush_if_waiting);
      if (store_lost_) return false;  // the flush before waiting for input failed
      if (status == LineReader::Status::kEnd) break;
      if (status == LineReader::Status::kError) {
        std::cerr << "salesflow run: cannot read the commands: " << std::strerror(errno) << "\n";
        flush();
        return false;
      }
      ++lines_;
      timer_.begin_line();
      if (status == LineReader::Status::kTooLong) {
        line_error(LineError{ErrorCode::kBadCommand,
                             "the line is " + std::to_string(length) +
                                 " bytes long, more than the limit of " +
                                 std::to_string(kMaxLineBytes),
                             "", "", ""});
      } else {
        process(line);
      }
      if (batching_ ? batch_due() : out_.size() >= (1 << 16)) flush();
      if (store_lost_) return false;
    }
    flush();
    if (store_lost_) return false;
    if (summary_) print_summary();
    timer_.report(lines_);
    return write_ok_;
  }

 private:
  void process(std::string_view text) {
    auto decoded = decode_command_line(text, parser_);
    timer_.mark(PhaseTimer::kDecode);
    if (auto* error = std::get_if<LineError>(&decoded)) return line_error(*error);
    CommandLine& line = std::get<CommandLine>(decoded);
    if (line.at < clock_) {
      return line_error(LineError{ErrorCode::kBadCommand,
                                  "\"at\" " + format_timestamp(line.at) + " is before the clock, " +
                                      format_timestamp(clock_) + ": time cannot go backwards",
                                  "/at", "", line.command.instance});
    }
    // Time passes first: the delivery-standard milestones due by this line's `at` fire before
    // its command, and its answer carries them (docs/command-stream.md, "Deadlines").
    const std::vector<Event> fired = engine_.advance_to(line.at);
    deadlines_.clear();
    if (!fired.empty()) {
      clock_ = line.at;
      deadlines_ = events_json(fired);
    }
    if (line.tick) {
      clock_ = line.at;
      ++accepted_;
      if (!summary_) {
        if (fired.empty()) {
          append_tick(out_);
        } else {
          out_ += "{\"ok\":true,\"events\":" + deadlines_ + "}\n";
        }
      }
      return;
    }
    Command& command = line.command;
    if (command.idempotency_key.empty() && !key_prefix_.empty()) {
      command.idempotency_key = key_prefix_ + std::to_string(lines_);
    }
    const ProcessDefinition* definition = nullptr;
    if (command.type == CommandType::kCreate) {
      definition = engine_.definition(command.definition_id, command.definition_version).get();
    } else if (const auto it = definition_of_.find(command.instance); it != definition_of_.end()) {
      // The same as engine_.instance(id)->definition (an instance never changes definition),
      // without copying the instance's state for every command.
      definition = it->second;
    } else if (const auto state = engine_.instance(command.instance)) {
      definition = state->definition;  // recovered from the store
      definition_of_.emplace(command.instance, definition);
    }
    if (!std::holds_alternative<std::monostate>(line.fields)) {
      if (auto error = convert_fields(line, definition)) {
        line_error(*error);
        return attach_deadlines();
      }
    }
    timer_.mark(PhaseTimer::kDecode);
    const CommandResult result = engine_.execute(command, line.at);
    timer_.mark(PhaseTimer::kEngine);
    InstanceReport* report = summary_ ? &report_of(command.instance) : nullptr;
    if (!result.ok()) {
      if (result.rejection->code == ErrorCode::kUnavailable) {
        std::cerr << "salesflow run: line " << lines_ << ": " << store_.uri() << ": "
                  << store_.last_error() << "\n";
      }
      ++rejected_;
      ++by_code_[std::string(to_string(result.rejection->code))];
      if (report != nullptr) {
        ++report->commands;
        ++report->rejected;
        report->last_rejected = true;
        report->last_code = to_string(result.rejection->code);
        report->last_message = result.rejection->message;
        report->last_unmet = result.rejection->unmet;
      } else {
        append_rejection(out_, *result.rejection, result.version);
        attach_deadlines();
        timer_.mark(PhaseTimer::kEncode);
      }
      return;
    }
    clock_ = line.at;
    ++accepted_;
    if (!result.events.empty() && result.events.front().type == EventType::kCreated) {
      definition_of_.emplace(command.instance, definition);
    }
    if (definition == nullptr && !result.events.empty()) {  // a repeat of a recovered create
      definition = engine_
                       .definition(result.events.front().definition_id,
                                   result.events.front().definition_version)
                       .get();
    }
    if (report != nullptr) {
      ++report->commands;
      report->last_rejected = false;
      for (const Event& e : result.events) {
        if (e.type == EventType::kPutOnHold) report->hold_reason = e.text;
        if (definition != nullptr) figures_of(*definition).add(e);
      }
    } else {
      append_accepted(out_, result, definition);
      attach_deadlines();
      timer_.mark(PhaseTimer::kEncode);
    }
  }

  // The events as a JSON array, each with the names of its own definition.
  std::string events_json(const std::vector<Event>& events) const {
    std::string text = "[";
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (i > 0) text += ',';
      const auto def = engine_.definition(events[i].definition_id, events[i].definition_version);
      if (def) append_event(text, events[i], *def);
    }
    text += ']';
    return text;
  }

  // Adds "deadlines": [...] to the answer just written, when milestones fired before its command.
  void attach_deadlines() {
    if (deadlines_.empty() || summary_ || out_.size() < 2) return;
    out_.resize(out_.size() - 2);  // the answer's closing "}\n"
    out_ += ",\"deadlines\":" + deadlines_ + "}\n";
  }

  void line_error(const LineError& error) {
    ++rejected_;
    ++by_code_[std::string(to_string(error.code))];
    if (!summary_) return append_line_error(out_, error);
    if (error.instance.empty()) return;
    InstanceReport& report = report_of(error.instance);
    ++report.commands;
    ++report.rejected;
    report.last_rejected = true;
    report.last_code = to_string(error.code);
    report.last_message = error.message;
    report.last_unmet.clear();
  }

  PipelineFigures& figures_of(const ProcessDefinition& definition) {
    const auto key = std::pair(definition.id(), definition.version());
    auto it = figures_.find(key);
    if (it == figures_.end()) {
      it = figures_.emplace(key, PipelineFigures(engine_.definition(key.first, key.second))).first;
    }
    return it->second;
  }

  InstanceReport& report_of(const std::string& id) {
    const auto [it, added] = report_index_.emplace(id, reports_.size());
    if (added) reports_.push_back(InstanceReport{id, 0, 0, false, {}, {}, {}, {}});
    return reports_[it->second];
  }

  // Batch mode: time to commit, after batch_lines_ lines or 100 ms since the batch's first line
  // (the reader flushes too whenever it is about to wait for input).
  bool batch_due() {
    const auto now = std::chrono::steady_clock::now();
    if (lines_in_batch_++ == 0) batch_start_ = now;
    return lines_in_batch_ >= batch_lines_ ||
           now - batch_start_ >= std::chrono::milliseconds(100) || out_.size() >= (1 << 22);
  }

  void flush() {
    if (batching_ && !store_lost_) {
      lines_in_batch_ = 0;
      if (!store_.flush()) {
        // The batch may be lost: its answers and notifications must not go out, and the engine is
        // ahead of the store, so the run stops. A new run recovers what the store kept.
        std::cerr << "salesflow run: " << store_.uri() << ": " << store_.last_error()
                  << "; stopped after line " << lines_ << ", the answers since line "
                  << first_unflushed_line_ << " are not written\n";
        store_lost_ = true;
      } else if (notify_ != nullptr) {
        notify_->release();
      }
      first_unflushed_line_ = lines_ + 1;
    }
    if (store_lost_) out_.clear();
    if (out_.empty()) return;
    if (write_ok_) {
      write_ok_ = std::fwrite(out_.data(), 1, out_.size(), stdout) == out_.size() &&
                  std::fflush(stdout) == 0;
    }
    out_.clear();
  }

  // Where each instance ended and why, in the order first seen; then the totals.
  void print_summary() {
    std::size_t width = 0;
    for (const InstanceReport& r : reports_) width = std::max(width, printable(r.id).size());
    width = std::min<std::size_t>(width, 32);
    std::string text;
    for (const InstanceReport& r : reports_) {
      std::string id = printable(r.id);
      id.resize(std::max(id.size(), width), ' ');
      text += id + "  " + describe(r) + " after " + plural(r.commands, "command") + ", " +
              std::to_string(r.rejected) + " rejected\n";
      if (r.last_rejected) {
        text += std::string(width + 2, ' ') + "last command rejected: " + r.last_code + ": " +
                r.last_message + "\n";
        for (const UnmetCriterion& u : r.last_unmet) {
          text += std::string(width + 4, ' ') + "- " + std::string(to_string(u.kind)) +
                  (u.id.empty() ? "" : " " + u.id) + ": " + u.detail + "\n";
        }
      }
    }
    text += plural(lines_, "line") + ": " + std::to_string(accepted_) + " accepted, " +
            std::to_string(rejected_) + " rejected";
    std::string codes;
    for (const auto& [code, count] : by_code_) {
      codes += (codes.empty() ? "" : ", ") + code + " " + std::to_string(count);
    }
    text += codes.empty() ? "\n" : " (" + codes + ")\n";
    for (const auto& [definition, figures] : figures_) text += describe(figures);
    std::fwrite(text.data(), 1, text.size(), stdout);
    write_ok_ = std::fflush(stdout) == 0 && write_ok_;
  }

  std::string describe(const InstanceReport& r) const {
    const auto state = engine_.instance(r.id);
    if (!state) return "never created";
    const ProcessDefinition& def = *state->definition;
    const std::string& stage = def.stage(state->stage).name;
    switch (state->status) {
      case InstanceStatus::kOpen:
        return stage + " (open)";
      case InstanceStatus::kOnHold:
        return stage + " (on hold" +
               (r.hold_reason.empty() ? "" : ": " + printable(r.hold_reason)) + ")";
      case InstanceStatus::kWon:
        return stage + " (won)";
      case InstanceStatus::kLost:
        return stage + " (lost" +
               (state->lost_reason().empty() ? "" : ": " + printable(state->lost_reason())) +
               ") in " + def.stage(state->closed_from).name;
    }
    return stage;
  }

  // The flow through each module, and the alerts the figures raise.
  static std::string describe(const PipelineFigures& figures) {
    const ProcessDefinition& def = figures.definition();
    std::string text = "\n" + def.name() + " (version " + std::to_string(def.version()) +
                       "): " + std::to_string(figures.created()) + " created, " +
                       std::to_string(figures.won()) + " won, " + std::to_string(figures.lost()) +
                       " lost\n";
    for (std::size_t m = 0; m < def.modules().size(); ++m) {
      const FlowCount& flow = figures.module(static_cast<ModuleId>(m));
      const auto rate = flow.conversion();
      text += "  " + def.modules()[m].name + ": " + std::to_string(flow.entered) + " entered, " +
              std::to_string(flow.advanced) + " moved on, " + std::to_string(flow.lost) + " lost" +
              (rate ? ", conversion " + std::to_string(std::lround(*rate * 100)) + "%" : "") + "\n";
    }
    for (const AlertThreshold* alert : figures.raised_alerts()) {
      text += "  ALERT " + alert->id + ": " + alert->condition.description + "\n";
    }
    return text;
  }

  static std::string plural(std::size_t n, const std::string& noun) {
    return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
  }

  Engine& engine_;
  EventStore& store_;
  const bool batching_;
  const std::size_t batch_lines_;
  NotifyFile* const notify_;
  std::size_t lines_in_batch_ = 0;
  std::size_t first_unflushed_line_ = 1;
  std::chrono::steady_clock::time_point batch_start_;
  bool store_lost_ = false;
  const bool summary_;
  const std::string key_prefix_;
  PhaseTimer timer_;
  Timestamp clock_ = Timestamp::min();
  std::string deadlines_;  // the milestones the current line's `at` fired, as JSON
  std::string out_;
  // Parses every line; a line's "fields" live in it until the next line is parsed.
  simdjson::dom::parser parser_;
  bool write_ok_ = true;
  std::unordered_map<std::string, const ProcessDefinition*> definition_of_;
  std::size_t lines_ = 0, accepted_ = 0, rejected_ = 0;
  std::map<std::string, std::size_t> by_code_;
  std::unordered_map<std::string, std::size_t> report_index_;
  std::vector<InstanceReport> reports_;
  std::map<std::pair<std::string, std::uint32_t>, PipelineFigures> figures_;  // by id, version
};

int run(const RunOptions& options) {
  std::vector<std::shared_ptr<const ProcessDefinition>> definitions;
  std::vector<std::string> sources;
  bool valid = true;
  for (const std::string& file : options.definitions) {
    // The text is kept in the store. The file is read once (it may be a pipe).
    std::string text;
    LoadResult result;
    if (auto problem = internal::read_document_file(file, LoadLimits{}.max_document_bytes, text)) {
      result.diagnostics.push_back(std::move(*problem));
    } else {
      result = load_definition(text);
    }
    for (const Diagnostic& d : result.diagnostics) {
      std::cerr << file << ": " << printable_pointer(d.pointer) << ": " << d.message << "\n";
    }
    valid = valid && result.ok();
    if (result.ok()) {
      definitions.push_back(std::move(result.definition));
      sources.push_back(std::move(text));
    }
  }
  InMemoryDirectory directory;
  if (!options.directory.empty() && !load_directory(options.directory, directory)) valid = false;
  if (!valid) return kExitInvalid;

  // Only SQLite batches; its appends then wait in a transaction for the runner's flush.
  const bool batching = options.batch > 0 && options.store.starts_with("sqlite:");
  OpenStoreResult opened =
      open_store(options.store, StoreOptions{.read_only = false, .batch_appends = options.batch});
  if (!opened.store) {
    std::cerr << "salesflow run: " << opened.error << "\n";
    return kExitInvalid;
  }
  EventStore& store = *opened.store;
  std::unique_ptr<NotifyFile> notify;
  if (!options.notify.empty()) {
    std::string error;
    const int fd = open_notify_file(options.notify, error);
    if (fd < 0) {
      std::cerr << options.notify << ": " << error << "\n";
      return kExitInvalid;
    }
    notify = std::make_unique<NotifyFile>(fd, batching);
  }
  EngineOptions engine_options;
  engine_options.storage = &store;
  engine_options.directory = &directory;
  engine_options.snapshot_every = options.snapshot_every;
  if (notify) engine_options.listeners.push_back(notify.get());
  Engine engine(engine_options);
  for (std::size_t i = 0; i < definitions.size(); ++i) {
    if (!engine.register_definition(definitions[i])) {
      std::cerr << options.definitions[i] << ": (document): " << definitions[i]->id() << " version "
                << definitions[i]->version() << " is already defined by an earlier file\n";
      return kExitInvalid;
    }
    switch (store.keep_definition(definitions[i]->id(), definitions[i]->version(), sources[i])) {
      case EventStore::KeepResult::kKept:
      case EventStore::KeepResult::kSame:
        break;
      case EventStore::KeepResult::kDifferent:
        std::cerr << options.definitions[i] << ": (document): " << store.uri() << " keeps another "
                  << "text for " << definitions[i]->id() << " version " << definitions[i]->version()
                  << ", which its events were decided on: give the changed definition a new "
                     "version\n";
        return kExitInvalid;
      case EventStore::KeepResult::kUnavailable:
        std::cerr << "salesflow run: " << store.uri() << ": " << store.last_error() << "\n";
        return kExitInvalid;
    }
  }
  // Definitions the store keeps but the command line does not name: its instances run on them.
  for (const StoredDefinition& kept : store.definitions()) {
    if (engine.definition(kept.id, kept.version)) continue;
    LoadResult result = load_definition(kept.source);
    if (!result.ok()) {
      std::cerr << "salesflow run: " << store.uri() << ": the stored definition " << kept.id
                << " version " << kept.version << " does not load\n";
      return kExitInvalid;
    }
    engine.register_definition(std::move(result.definition));
  }
  const std::size_t skipped = engine.recover();
  if (const std::string error = store.last_error(); !error.empty()) {
    std::cerr << "salesflow run: cannot recover from " << store.uri() << ": " << error << "\n";
    return kExitInvalid;
  }
  if (skipped > 0) {
    std::cerr << "salesflow run: " << store.uri() << ": " << skipped
              << " stored events do not fit their definition and were left out\n";
  }
  Runner runner(engine, store, options, batching, notify.get());
  bool ok = runner.run();
  // A commit that landed after recover() (another process died while committing it) is in the
  // outbox still: hand it over before stopping. Its events are committed, so in batch mode its
  // lines go out at once; the flush then releases their marks, which the store writes as it
  // closes, after the lines.
  if (ok && notify) {
    engine.deliver_undelivered();
    notify->release();
  }
  if (!store.flush() && ok) {
    std::cerr << "salesflow run: " << store.uri() << ": " << store.last_error() << "\n";
    ok = false;
  }
  if (notify && !notify->ok()) {
    std::cerr << options.notify << ": cannot write notifications\n";
    ok = false;
  }
  return ok ? kExitOk : kExitInvalid;
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* command = app.add_subcommand(
      "run",
      "Run a stream of JSON commands (one per line on stdin) against the definitions and answer\n"
      "each with one JSON line on stdout (docs/command-stream.md). Exit 0 when the stream was\n"
      "processed (rejected commands are answers), 1 when a definition or the directory file is\n"
      "invalid (FILE: POINTER: message on stderr), 2 on usage errors.");
  command->add_option("definitions", options->definitions, "Definition files (JSON)")->required();
  command->add_option("--directory", options->directory,
                      "People and their roles: a JSON object {\"maria\": [\"sales_rep\"], ...}");
  command->add_option("--store", options->store,
                      "Where events are kept: memory (default), sqlite:PATH, postgres:CONNINFO. An "
                      "existing store's instances are recovered first");
  command->add_option("--key-prefix", options->key_prefix,
                      "Give each command without an idempotency_key the key PREFIX<line number>, "
                      "so that re-running a script against a store repeats its answers");
  command->add_option("--notify", options->notify,
                      "Append every notification (committed event, with its stable id) to FILE");
  command
      ->add_option("--batch", options->batch,
                   "SQLite: commit the events of up to N commands in one transaction (also when "
                   "the input pauses, and every 100 ms); answers and notifications are written "
                   "after their transaction commits. 0: one transaction per command")
      ->capture_default_str()
      ->check(CLI::Range(0, 1'000'000));
  command
      ->add_option("--snapshot-every", options->snapshot_every,
                   "With --store: snapshot an instance each time its version crosses a "
                   "multiple of N, so that recovery replays fewer events (0: never)")
      ->capture_default_str();
  command->add_flag("--summary", options->summary,
                    "Instead of the answers, print where each instance ended and why");
  command->add_flag("--stats", options->stats,
                    "At the end, print on stderr the lines per second and where the time went");
  command->callback([options, &exit_code] { exit_code = run(*options); });
}

}  // namespace salesflow::cli
