// SPDX-License-Identifier: MIT
#pragma once

// Streaming JSON for the auditor's inputs (CloudWatch Logs and CloudTrail JSON), with nlohmann's
// SAX parser: memory is bounded by the largest single token and the largest record, never by
// the size of the file. Exceptions of nlohmann stay inside this module.

#include <agent/audit/flat_record.hpp>
#include <agent/audit/input.hpp>
#include <agent/util/result.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace execmark::audit {

using Json = nlohmann::json;

// Input bytes allowed between two SAX events, i.e. the largest JSON token (a CloudWatch message
// is at most 256 KiB; JSON escaping can make it up to 6 times longer).
inline constexpr std::size_t k_max_json_token_bytes = 4 * 1024 * 1024;
// Largest record (one CloudTrail record, one CloudWatch event) built in memory; larger ones
// are skipped and counted.
inline constexpr std::size_t k_max_json_record_bytes = 8 * 1024 * 1024;

// The member key of object (nullptr when object is not an object or has no such key), and the
// same for a string member. Through object_t, so that no iterator of an unknown kind is used.
const Json* json_member(const Json& object, std::string_view key);
const std::string* json_string_member(const Json& object, std::string_view key);

// A member of a record to build (RecordStreamer::keep_only): its name, and which of its own
// members to build — inside it when it is an object, inside the objects of it when it is an array
// — all of them when members is empty; record: the record's own list applies inside it (an
// EventBridge event's "detail" holds the record).
struct RecordMember {
    std::string_view key;
    std::span<const RecordMember> members = {};
    bool record = false;
};

// Parses every top-level JSON value of in (one document, or several concatenated or one per
// line, as EventBridge archives and paginated CLI output are) with sax. Errors: I/O, invalid
// JSON ("parse <name>: <what> at byte N"), a token over k_max_json_token_bytes.
util::Status parse_json_stream(Input& in, nlohmann::json_sax<Json>& sax);

// Delivers the records of a JSON document one at a time, each as a small DOM:
// - the elements of a root object's array under one of stream_keys ({"Records":[...]},
//   {"Events":[...]}, {"events":[...]});
// - the elements of a root array;
// - the root object itself when it has no such array and deliver_root is set.
// Scalars where records are expected are ignored; records over k_max_json_record_bytes are
// skipped and counted.
//
// After each top-level value, the document callback (when set) is told its shape: which stream
// key held the records, and the root object's own string members (NextToken, QueryStatus, ...;
// at most k_max_root_string_bytes each), so that a reader can recognise the document and its
// paging.
class RecordStreamer final : public nlohmann::json_sax<Json> {
public:
    using Deliver = std::function<void(Json& record)>;
    using DeliverFlat = std::function<void(const FlatRecord& record)>;

    struct Document {
        bool root_array = false;  // the value was an array of records
        bool root_scalar = false; // the value was a string, number, boolean or null
        std::string stream_key;   // the root member whose array was streamed ("" when none)
        std::size_t records = 0;  // records delivered (or skipped as oversized) from it
        std::map<std::string, std::string, std::less<>> strings; // the root's string members
    };

    using DocumentEnd = std::function<void(const Document& document)>;

    static constexpr std::size_t k_max_root_string_bytes = 4096;

    RecordStreamer(std::initializer_list<std::string_view> stream_keys,
                   bool deliver_root,
                   Deliver deliver);

    [[nodiscard]] std::size_t skipped_records() const { return m_skipped; }

    // Scalars (strings, numbers, ...) found where records were expected; not delivered.
    [[nodiscard]] std::size_t stray_scalars() const { return m_stray; }

    // Arrays where a record is expected (CloudTrail Lake's rows) are delivered as records,
    // instead of being ignored.
    void deliver_arrays(bool on) { m_deliver_arrays = on; }

    void on_document(DocumentEnd callback) { m_document_end = std::move(callback); }

    // Builds only these members of the records streamed from an array (not of a root object
    // delivered whole, not of an array delivered as a record): the others are parsed, checked
    // and counted towards k_max_json_record_bytes like the rest, but not built; a member of the
    // record itself that is not kept stays, as null, so that the record's member names are all
    // there. members must outlive the streamer. Empty (the default): everything is built.
    void keep_only(std::span<const RecordMember> members) { m_element.filter = members; }

    // Records that are objects (not arrays delivered as records, not a root object delivered
    // whole) are built as FlatRecord and handed to deliver instead: no DOM is built for them.
    void deliver_flat(DeliverFlat deliver) { m_deliver_flat = std::move(deliver); }

    bool null() override;
    bool boolean(bool val) override;
    bool number_integer(number_integer_t val) override;
    bool number_unsigned(number_unsigned_t val) override;
    bool number_float(number_float_t val, const string_t& s) override;
    bool string(string_t& val) override;
    bool binary(binary_t& val) override;
    bool start_object(std::size_t elements) override;
    bool key(string_t& val) override;
    bool end_object() override;
    bool start_array(std::size_t elements) override;
    bool end_array() override;
    bool parse_error(std::size_t position,
                     const std::string& last_token,
                     const nlohmann::detail::exception& ex) override;

private:
    // Builds one DOM (or FlatRecord, when flat is set) from SAX events, only the members that
    // filter keeps (all when it is empty).
    struct Builder {
        // Which members of an open container are built.
        struct Scope {
            std::span<const RecordMember> members;
            bool all = true;   // every member (no filter)
            bool root = false; // the record itself: a member not kept stays as null
        };

        // What becomes of the value of the member key.
        enum class Take { build, null, skip };

        // An open container.
        struct Frame {
            Json* json = nullptr;                   // DOM mode
            FlatRecord::Id id = FlatRecord::k_none; // flat mode
            bool built = false; // false: skipped or oversized, nothing inside is built
            bool array = false;
            Scope scope;
        };

        Json root;
        FlatRecord* flat = nullptr;
        std::vector<Frame> stack;
        std::string key;
        Take take = Take::build;
        Scope member_scope;
        std::span<const RecordMember> filter;
        std::size_t bytes = 0;
        bool active = false;
        bool oversized = false;

        void begin();
        void set_key(const std::string& name);
        // Counts a scalar of size bytes towards the record's size: true when it is to be built,
        // with store() or store_flat() (a member not kept is not; one kept as null is stored
        // here).
        bool counts(std::size_t size);
        void store(Json&& v);

        // Flat mode: the parent and member name of the value to store.
        [[nodiscard]] FlatRecord::Id parent() const
        {
            return stack.empty() ? FlatRecord::k_none : stack.back().id;
        }

        [[nodiscard]] std::string_view member() const
        {
            return stack.empty() || stack.back().array ? std::string_view{} : std::string_view(key);
        }

        void open(bool array);
        // Returns true when the builder's root was closed.
        bool close();
    };

    Builder* target();
    // The builder a scalar goes to (nullptr: none; a root scalar or a stray one is noted).
    Builder* scalar_target();
    void finish_element();

    std::vector<std::string> m_stream_keys;
    bool m_deliver_root;
    Deliver m_deliver;
    DeliverFlat m_deliver_flat;
    FlatRecord m_flat;
    std::size_t m_depth = 0;        // containers open
    std::size_t m_stream_depth = 0; // depth of the streamed array (0: none open)
    bool m_next_is_stream = false;  // the current root key is one of stream_keys
    bool m_saw_stream = false;
    Builder m_root;
    Builder m_element;
    std::size_t m_skipped = 0;
    std::size_t m_stray = 0;
    bool m_deliver_arrays = false;
    DocumentEnd m_document_end;
    Document m_document;
    std::string m_pending_stream_key;
};

} // namespace execmark::audit
