// SPDX-License-Identifier: MIT
#include <agent/audit/json_input.hpp>
#include <agent/audit/log_reader.hpp>

#include <cstring>
#include <map>
#include <memory>

namespace execmark::audit {

namespace {

constexpr std::string_view k_script_footer = "Script done on ";
// Bytes of the end of a transcript kept to look for the footer line.
constexpr std::size_t k_footer_tail_bytes = 512;

LogIdentity file_identity(const std::string& path, LogFormat format, const ReadOptions& options)
{
    LogIdentity id;
    id.format = format;
    id.source = path == "-" ? "standard input" : path;
    if (format == LogFormat::cloudwatch_export) {
        const std::size_t slash = path.rfind('/');
        id.key = "cwx:" + (slash == std::string::npos ? path : path.substr(0, slash));
    } else {
        id.key = "file:" + path;
    }
    if (!options.session_override.empty()) {
        id.own_sid = options.session_override;
        id.sid_origin = "--session";
    } else {
        id.own_sid = session_id_from_path(path, format);
        id.sid_origin = format == LogFormat::cloudwatch_export ? "directory name" : "file name";
    }
    return id;
}

util::Status read_text(Input& in, const LogIdentity& id, LogRouter& router)
{
    LineSink* sink = router.open_log(id);
    if (sink == nullptr) {
        return {};
    }
    TextScanner scanner(*sink);
    std::string tail;
    auto st = for_each_chunk(in, [&](std::string_view chunk) {
        sink->on_raw(chunk);
        scanner.feed(chunk);
        if (chunk.size() >= k_footer_tail_bytes) {
            tail.assign(chunk.substr(chunk.size() - k_footer_tail_bytes));
        } else {
            tail.append(chunk);
            if (tail.size() > k_footer_tail_bytes) {
                tail.erase(0, tail.size() - k_footer_tail_bytes);
            }
        }
    });
    scanner.finish();
    LogEnd end;
    end.transcript = id.format == LogFormat::transcript;
    end.footer = end.transcript && tail.find(k_script_footer) != std::string::npos;
    end.units = scanner.lines();
    router.end_log(id, end);
    return st;
}

// Yields the lines of an input, each line in pieces of at most max_piece bytes.
class LineReader {
public:
    LineReader(Input& in, std::size_t max_piece)
        : m_in(in)
        , m_max(max_piece)
        , m_buf(k_read_chunk_bytes, '\0')
    {}

    struct Piece {
        std::string_view text;
        bool continued = false; // continues the previous piece (same line)
    };

    // False at the end of the input (or on an error, see error()).
    bool next(Piece& piece)
    {
        m_line.clear();
        piece.continued = m_partial;
        for (;;) {
            if (m_pos == m_len) {
                auto got = m_in.read(m_buf);
                if (!got) {
                    m_error = got.error();
                    return false;
                }
                m_pos = 0;
                m_len = *got;
                if (m_len == 0) {
                    m_partial = false;
                    piece.text = m_line;
                    return !m_line.empty();
                }
            }
            const char* start = m_buf.data() + m_pos;
            const std::size_t avail = m_len - m_pos;
            const std::size_t room = m_max - m_line.size();
            const void* nl = std::memchr(start, '\n', std::min(avail, room));
            if (nl != nullptr) {
                const auto n = static_cast<std::size_t>(static_cast<const char*>(nl) - start);
                m_line.append(start, n);
                m_pos += n + 1;
                m_partial = false;
                piece.text = m_line;
                return true;
            }
            const std::size_t take = std::min(avail, room);
            m_line.append(start, take);
            m_pos += take;
            if (m_line.size() >= m_max) {
                m_partial = true;
                piece.text = m_line;
                return true;
            }
        }
    }

    [[nodiscard]] const std::optional<util::Error>& error() const { return m_error; }

private:
    Input& m_in;
    std::size_t m_max;
    std::string m_buf;
    std::size_t m_pos = 0;
    std::size_t m_len = 0;
    std::string m_line;
    bool m_partial = false;
    std::optional<util::Error> m_error;
};

util::Status read_export(Input& in, const LogIdentity& id, LogRouter& router)
{
    LineSink* sink = router.open_log(id);
    if (sink == nullptr) {
        return {};
    }
    EventLines events(*sink);
    LineReader reader(in, k_max_export_event_bytes);
    LineReader::Piece piece;
    std::string message;
    bool have_event = false;
    while (reader.next(piece)) {
        const std::size_t prefix = piece.continued ? 0 : export_timestamp_prefix(piece.text);
        if (prefix != 0) {
            if (have_event) {
                sink->on_event(message);
                events.event(message);
            }
            message.assign(piece.text.substr(prefix));
            have_event = true;
        } else {
            if (have_event && !piece.continued) {
                message.push_back('\n');
            }
            message.append(piece.text);
            have_event = true;
        }
        if (message.size() >= k_max_export_event_bytes) {
            // Bounded memory: pass the piece on; an event boundary here is soft, like a split.
            sink->on_event(message);
            events.event(message);
            message.clear();
            have_event = false;
        }
    }
    if (have_event) {
        sink->on_event(message);
        events.event(message);
    }
    events.finish();
    LogEnd end;
    end.units = events.events();
    router.end_log(id, end);
    if (reader.error()) {
        return *reader.error();
    }
    return {};
}

// One CloudWatch stream being read from a JSON input.
struct StreamState {
    LogIdentity id;
    LineSink* sink = nullptr;
    std::unique_ptr<EventLines> lines;
};

util::Status read_cloudwatch_json(Input& in,
                                  const std::string& path,
                                  const ReadOptions& options,
                                  LogRouter& router)
{
    const LogIdentity file_id = file_identity(path, LogFormat::cloudwatch_json, options);
    std::map<std::string, StreamState> streams;

    const auto state_for = [&](const std::string& stream) -> StreamState& {
        auto it = streams.find(stream);
        if (it != streams.end()) {
            return it->second;
        }
        StreamState st;
        st.id = file_id;
        if (!stream.empty()) {
            // filter-log-events names each event's stream: that is the log's own session id.
            st.id.key = "cw:" + stream;
            st.id.stream = stream;
            st.id.own_sid = stream;
            st.id.sid_origin = "stream name";
            st.id.source = file_id.source + " [stream " + stream + "]";
        } else if (!file_id.own_sid.empty()) {
            st.id.key = "cw:" + file_id.own_sid;
            st.id.stream = file_id.own_sid;
        }
        st.sink = router.open_log(st.id);
        if (st.sink != nullptr) {
            st.lines = std::make_unique<EventLines>(*st.sink);
        }
        return streams.emplace(stream, std::move(st)).first->second;
    };

    Page page;
    std::size_t documents = 0;
    RecordStreamer streamer({"events"}, false, [&](Json& event) {
        if (const Json* ts = json_member(event, "timestamp");
            ts != nullptr && ts->is_number_integer()) {
            page.saw_time(ts->get<std::int64_t>());
        }
        const std::string* msg = json_string_member(event, "message");
        if (msg == nullptr) {
            return;
        }
        const std::string* name = json_string_member(event, "logStreamName");
        const std::string stream = name == nullptr ? std::string() : *name;
        StreamState& st = state_for(stream);
        if (st.lines) {
            st.sink->on_event(*msg);
            st.lines->event(*msg);
        }
    });
    // filter-log-events pages (get-log-events always carries its forward and backward tokens,
    // which say nothing about completeness: it is not a page here).
    streamer.on_document([&](const RecordStreamer::Document& doc) {
        ++documents;
        if (options.pages != nullptr && doc.stream_key == "events"
            && !doc.strings.contains("nextForwardToken")) {
            page.input =
                path
                + (documents > 1 ? " (document " + std::to_string(documents) + ")" : std::string());
            page.role = options.role;
            page.shape = "filter-log-events";
            page.order = PageOrder::oldest_first;
            const auto token = doc.strings.find("nextToken");
            page.has_token = token != doc.strings.end() && !token->second.empty();
            options.pages->add(page);
        }
        page = Page{};
    });
    const util::Status parsed = parse_json_stream(in, streamer);
    if (streams.empty() && parsed) {
        // A valid output without events still names a log (an empty session).
        static_cast<void>(state_for(""));
    }
    for (auto& [name, st] : streams) {
        if (st.lines) {
            st.lines->finish();
            LogEnd end;
            end.units = st.lines->events();
            router.end_log(st.id, end);
        }
    }
    return parsed;
}

} // namespace

util::Status
read_log_input(Input& in, const std::string& path, const ReadOptions& options, LogRouter& router)
{
    auto head = in.peek(k_sniff_bytes);
    if (!head) {
        return head.error();
    }
    const LogFormat format = detect_log_format(*head);
    switch (format) {
    case LogFormat::cloudwatch_json:
        return read_cloudwatch_json(in, path, options, router);
    case LogFormat::cloudwatch_export:
        return read_export(in, file_identity(path, format, options), router);
    case LogFormat::transcript:
    case LogFormat::plain_text:
        break;
    }
    return read_text(in, file_identity(path, format, options), router);
}

} // namespace execmark::audit
