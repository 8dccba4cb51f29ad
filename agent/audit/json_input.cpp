// SPDX-License-Identifier: MIT
#include <agent/audit/json_input.hpp>
#include <agent/util/error.hpp>

#include <algorithm>
#include <cstring>
#include <iterator>

namespace execmark::audit {

namespace {

// Rough bookkeeping cost of one DOM value beyond its string bytes.
constexpr std::size_t k_value_overhead = 16;

// The bytes of an Input in k_read_chunk_bytes pieces, handed to nlohmann's lexer one character
// at a time through ChunkIterator (an inlined pointer step; an std::istream costs a library call
// per character). It refuses to deliver more than k_max_json_token_bytes between two calls of
// mark(), and keeps the first I/O error.
class ChunkReader {
public:
    explicit ChunkReader(Input& in)
        : m_in(in)
        , m_buf(k_read_chunk_bytes)
        , m_at(m_buf.data())
        , m_end(m_buf.data())
    {}

    void mark() { m_mark = consumed(); }

    [[nodiscard]] std::uint64_t consumed() const
    {
        return m_base + static_cast<std::uint64_t>(m_at - m_buf.data());
    }

    [[nodiscard]] bool over_budget() const { return m_over; }

    [[nodiscard]] const util::Error* io_error() const { return m_failed ? &m_error : nullptr; }

    // True when a byte is available (reading the next chunk when needed): false at the end, on
    // an I/O error and over the budget. Inlined: the lexer asks it for every byte.
    [[gnu::always_inline]] bool available() { return m_at != m_end || refill(); }

    [[nodiscard]] char current() const { return *m_at; }

    void advance() { ++m_at; }

private:
    bool refill()
    {
        if (m_failed || m_over) {
            return false;
        }
        if (consumed() - m_mark > k_max_json_token_bytes) {
            m_over = true;
            return false;
        }
        m_base += static_cast<std::uint64_t>(m_end - m_buf.data());
        auto got = m_in.read(m_buf);
        m_at = m_buf.data();
        if (!got) {
            m_failed = true;
            m_error = got.error();
            m_end = m_at;
            return false;
        }
        m_end = m_at + *got;
        return *got != 0;
    }

    Input& m_in;
    std::vector<char> m_buf;
    const char* m_at;
    const char* m_end;
    std::uint64_t m_base = 0;
    std::uint64_t m_mark = 0;
    bool m_over = false;
    bool m_failed = false;
    util::Error m_error;
};

// An input iterator over a ChunkReader for nlohmann's iterator_input_adapter, which only asks
// `it != end`, `*it` and `++it`: every iterator compares unequal to the end sentinel while the
// reader has a byte.
class ChunkIterator {
public:
    using iterator_category = std::input_iterator_tag;
    using value_type = char;
    using difference_type = std::ptrdiff_t;
    using pointer = const char*;
    using reference = char;

    ChunkIterator() = default;

    explicit ChunkIterator(ChunkReader* reader)
        : m_reader(reader)
    {}

    char operator*() const { return m_reader->current(); }

    ChunkIterator& operator++()
    {
        m_reader->advance();
        return *this;
    }

    ChunkIterator operator++(int)
    {
        ChunkIterator before = *this;
        m_reader->advance();
        return before;
    }

    // Only ever compared with the end sentinel (a default-constructed iterator): equal when the
    // reader has no byte left.
    [[gnu::always_inline]] bool operator==(const ChunkIterator& other) const
    {
        ChunkReader* reader = m_reader != nullptr ? m_reader : other.m_reader;
        return reader == nullptr || !reader->available();
    }

private:
    ChunkReader* m_reader = nullptr;
};

// Forwards every SAX event, renewing the token budget; keeps the parse error.
class BudgetSax final : public nlohmann::json_sax<Json> {
public:
    BudgetSax(nlohmann::json_sax<Json>& inner, ChunkReader& buf)
        : m_inner(inner)
        , m_buf(buf)
    {}

    std::string error;

    bool null() override { return tick(), m_inner.null(); }

    bool boolean(bool val) override { return tick(), m_inner.boolean(val); }

    bool number_integer(number_integer_t val) override
    {
        return tick(), m_inner.number_integer(val);
    }

    bool number_unsigned(number_unsigned_t val) override
    {
        return tick(), m_inner.number_unsigned(val);
    }

    bool number_float(number_float_t val, const string_t& s) override
    {
        return tick(), m_inner.number_float(val, s);
    }

    bool string(string_t& val) override { return tick(), m_inner.string(val); }

    bool binary(binary_t& val) override { return tick(), m_inner.binary(val); }

    bool start_object(std::size_t elements) override
    {
        return tick(), m_inner.start_object(elements);
    }

    bool key(string_t& val) override { return tick(), m_inner.key(val); }

    bool end_object() override { return tick(), m_inner.end_object(); }

    bool start_array(std::size_t elements) override
    {
        return tick(), m_inner.start_array(elements);
    }

    bool end_array() override { return tick(), m_inner.end_array(); }

    bool parse_error(std::size_t position,
                     const std::string& /*last_token*/,
                     const nlohmann::detail::exception& /*ex*/) override
    {
        error = "invalid JSON at byte " + std::to_string(m_offset + position);
        return false;
    }

    void set_offset(std::uint64_t offset) { m_offset = offset; }

private:
    void tick() { m_buf.mark(); }

    nlohmann::json_sax<Json>& m_inner;
    ChunkReader& m_buf;
    std::uint64_t m_offset = 0;
};

bool is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

} // namespace

const Json* json_member(const Json& object, std::string_view key)
{
    if (!object.is_object()) {
        return nullptr;
    }
    const auto& members = object.get_ref<const Json::object_t&>();
    const auto it = members.find(key);
    return it == members.end() ? nullptr : &it->second;
}

const std::string* json_string_member(const Json& object, std::string_view key)
{
    const Json* value = json_member(object, key);
    return value == nullptr ? nullptr : value->get_ptr<const std::string*>();
}

util::Status parse_json_stream(Input& in, nlohmann::json_sax<Json>& sax)
{
    ChunkReader buf(in);
    BudgetSax budget(sax, buf);
    for (;;) {
        while (buf.available() && is_space(static_cast<unsigned char>(buf.current()))) {
            buf.advance();
        }
        if (const util::Error* err = buf.io_error()) {
            return *err;
        }
        if (!buf.available()) {
            return {};
        }
        buf.mark();
        budget.set_offset(buf.consumed());
        bool ok = false;
        try {
            // Not strict: the value ends where it ends; another may follow.
            ok = Json::sax_parse(
                ChunkIterator(&buf), ChunkIterator(), &budget, Json::input_format_t::json, false);
        } catch (const std::exception& e) {
            return util::make_error("parse", in.name(), e.what());
        }
        if (const util::Error* err = buf.io_error()) {
            return *err;
        }
        if (buf.over_budget()) {
            return util::make_error("parse",
                                    in.name(),
                                    "a JSON value is larger than "
                                        + std::to_string(k_max_json_token_bytes) + " bytes");
        }
        if (!ok) {
            return util::make_error(
                "parse", in.name(), budget.error.empty() ? "invalid JSON" : budget.error);
        }
    }
}

void RecordStreamer::Builder::begin()
{
    root = Json();
    if (flat != nullptr) {
        flat->clear();
    }
    stack.clear();
    key.clear();
    take = Take::build;
    member_scope = Scope{};
    bytes = 0;
    active = true;
    oversized = false;
}

void RecordStreamer::Builder::set_key(const std::string& name)
{
    if (stack.empty() || !stack.back().built) {
        take = Take::skip; // inside a container not built
        return;
    }
    const Scope& scope = stack.back().scope;
    if (scope.all) {
        take = Take::build;
        member_scope = Scope{};
        key = name;
        return;
    }
    // Sizes first: most names differ in length, and this runs for every member of a record.
    const auto kept =
        std::find_if(scope.members.begin(), scope.members.end(), [&](const RecordMember& m) {
            return m.key.size() == name.size()
                   && std::memcmp(m.key.data(), name.data(), name.size()) == 0;
        });
    if (kept == scope.members.end()) {
        take = scope.root ? Take::null : Take::skip;
        if (take == Take::null) {
            key = name;
        }
        return;
    }
    take = Take::build;
    if (kept->record) {
        member_scope = Scope{filter, false, false};
    } else if (kept->members.empty()) {
        member_scope = Scope{};
    } else {
        member_scope = Scope{kept->members, false, false};
    }
    key = name;
}

bool RecordStreamer::Builder::counts(std::size_t size)
{
    bytes += size + k_value_overhead;
    if (bytes > k_max_json_record_bytes) {
        oversized = true;
    }
    if (oversized) {
        return false;
    }
    if (stack.empty()) {
        return true;
    }
    const Frame& top = stack.back();
    if (!top.built) {
        return false; // inside a container not built
    }
    if (top.array || take == Take::build) {
        return true;
    }
    if (take == Take::null) {
        if (flat != nullptr) {
            flat->add(top.id, key, FlatRecord::Kind::null);
        } else {
            (*top.json)[key] = nullptr;
        }
    }
    return false;
}

void RecordStreamer::Builder::store(Json&& v)
{
    if (stack.empty()) {
        root = std::move(v);
    } else if (stack.back().array) {
        stack.back().json->push_back(std::move(v));
    } else {
        (*stack.back().json)[key] = std::move(v);
    }
}

void RecordStreamer::Builder::open(bool array)
{
    const auto kind = array ? FlatRecord::Kind::array : FlatRecord::Kind::object;
    bytes += k_value_overhead;
    if (bytes > k_max_json_record_bytes) {
        oversized = true;
    }
    Frame frame;
    frame.array = array;
    if (oversized) {
        stack.push_back(frame);
        return;
    }
    const auto container = [array] {
        return array ? Json::array() : Json::object();
    };
    if (stack.empty()) {
        if (!filter.empty() && !array) {
            frame.scope = Scope{filter, false, true};
        }
        frame.built = true;
        if (flat != nullptr) {
            frame.id = flat->add(FlatRecord::k_none, {}, kind);
        } else {
            root = container();
            frame.json = &root;
        }
    } else if (Frame& top = stack.back(); !top.built) {
        // inside a container not built
    } else if (top.array) {
        // The elements of an array are filtered as the array is.
        frame.scope = top.scope;
        frame.scope.root = false;
        frame.built = true;
        if (flat != nullptr) {
            frame.id = flat->add(top.id, {}, kind);
        } else {
            top.json->push_back(container());
            frame.json = &top.json->back();
        }
    } else if (take == Take::build) {
        frame.scope = member_scope;
        frame.built = true;
        if (flat != nullptr) {
            frame.id = flat->add(top.id, key, kind);
        } else {
            frame.json = &((*top.json)[key] = container());
        }
    } else if (take == Take::null) {
        if (flat != nullptr) {
            flat->add(top.id, key, FlatRecord::Kind::null);
        } else {
            (*top.json)[key] = nullptr;
        }
    }
    stack.push_back(frame);
}

bool RecordStreamer::Builder::close()
{
    if (!stack.empty()) {
        stack.pop_back();
    }
    return stack.empty();
}

RecordStreamer::RecordStreamer(std::initializer_list<std::string_view> stream_keys,
                               bool deliver_root,
                               Deliver deliver)
    : m_deliver_root(deliver_root)
    , m_deliver(std::move(deliver))
{
    for (const auto k : stream_keys) {
        m_stream_keys.emplace_back(k);
    }
}

RecordStreamer::Builder* RecordStreamer::target()
{
    if (m_element.active) {
        return &m_element;
    }
    if (m_stream_depth != 0 && m_depth == m_stream_depth) {
        return nullptr;
    }
    if (m_root.active) {
        return &m_root;
    }
    return nullptr;
}

RecordStreamer::Builder* RecordStreamer::scalar_target()
{
    if (m_depth == 0) {
        if (m_document_end) {
            m_document = Document{};
            m_document.root_scalar = true;
            m_document_end(m_document);
        }
        return nullptr;
    }
    if (!m_element.active && m_stream_depth != 0 && m_depth == m_stream_depth) {
        ++m_stray;
        return nullptr;
    }
    Builder* b = target();
    if (b == &m_root && m_depth == 1) {
        m_next_is_stream = false;
    }
    return b;
}

bool RecordStreamer::null()
{
    if (Builder* b = scalar_target(); b != nullptr && b->counts(0)) {
        if (b->flat != nullptr) {
            b->flat->add(b->parent(), b->member(), FlatRecord::Kind::null);
        } else {
            b->store(Json(nullptr));
        }
    }
    return true;
}

bool RecordStreamer::boolean(bool val)
{
    if (Builder* b = scalar_target(); b != nullptr && b->counts(0)) {
        if (b->flat != nullptr) {
            b->flat->add_boolean(b->parent(), b->member(), val);
        } else {
            b->store(Json(val));
        }
    }
    return true;
}

bool RecordStreamer::number_integer(number_integer_t val)
{
    if (Builder* b = scalar_target(); b != nullptr && b->counts(0)) {
        if (b->flat != nullptr) {
            b->flat->add_integer(b->parent(), b->member(), val);
        } else {
            b->store(Json(val));
        }
    }
    return true;
}

bool RecordStreamer::number_unsigned(number_unsigned_t val)
{
    if (Builder* b = scalar_target(); b != nullptr && b->counts(0)) {
        if (b->flat != nullptr) {
            b->flat->add_unsigned(b->parent(), b->member(), val);
        } else {
            b->store(Json(val));
        }
    }
    return true;
}

bool RecordStreamer::number_float(number_float_t val, const string_t& /*s*/)
{
    if (Builder* b = scalar_target(); b != nullptr && b->counts(0)) {
        if (b->flat != nullptr) {
            b->flat->add(b->parent(), b->member(), FlatRecord::Kind::floating);
        } else {
            b->store(Json(val));
        }
    }
    return true;
}

bool RecordStreamer::string(string_t& val)
{
    if (!m_element.active && m_root.active && m_depth == 1
        && val.size() <= k_max_root_string_bytes) {
        m_document.strings[m_root.key] = val;
    }
    // Copied, not moved: the lexer keeps its buffer's capacity for the next string.
    if (Builder* b = scalar_target(); b != nullptr && b->counts(val.size())) {
        if (b->flat != nullptr) {
            b->flat->add(b->parent(), b->member(), FlatRecord::Kind::string, val);
        } else {
            b->store(Json(static_cast<const string_t&>(val)));
        }
    }
    return true;
}

bool RecordStreamer::binary(binary_t& /*val*/)
{
    return null();
}

bool RecordStreamer::start_object(std::size_t /*elements*/)
{
    if (m_depth == 0) {
        m_saw_stream = false;
        m_stream_depth = 0;
        m_document = Document{};
        m_root.begin();
        m_root.open(false);
    } else if (m_element.active) {
        m_element.open(false);
    } else if (m_stream_depth != 0 && m_depth == m_stream_depth) {
        m_element.flat = m_deliver_flat ? &m_flat : nullptr;
        m_element.begin();
        m_element.open(false);
    } else if (m_root.active) {
        if (m_depth == 1) {
            m_next_is_stream = false;
        }
        m_root.open(false);
    }
    ++m_depth;
    return true;
}

bool RecordStreamer::key(string_t& val)
{
    if (m_element.active) {
        m_element.set_key(val);
    } else if (m_root.active) {
        if (m_depth == 1) {
            m_next_is_stream =
                std::find(m_stream_keys.begin(), m_stream_keys.end(), val) != m_stream_keys.end();
            if (m_next_is_stream) {
                m_pending_stream_key = val;
            }
        }
        m_root.key = val;
    }
    return true;
}

bool RecordStreamer::end_object()
{
    if (m_depth == 0) {
        return true;
    }
    --m_depth;
    if (m_element.active) {
        if (m_element.close()) {
            finish_element();
        }
        return true;
    }
    if (m_root.active && m_root.close()) {
        m_root.active = false;
        if (m_deliver_root && !m_saw_stream) {
            if (m_root.oversized) {
                ++m_skipped;
            } else {
                m_deliver(m_root.root);
            }
        }
        m_root.root = Json();
        if (m_depth == 0 && m_document_end) {
            m_document_end(m_document);
        }
    }
    return true;
}

bool RecordStreamer::start_array(std::size_t /*elements*/)
{
    if (m_depth == 0) {
        m_root.active = false;
        m_stream_depth = 1;
        m_document = Document{};
        m_document.root_array = true;
    } else if (m_element.active) {
        m_element.open(true);
    } else if (m_root.active && m_depth == 1 && m_next_is_stream && m_stream_depth == 0) {
        m_stream_depth = 2;
        m_saw_stream = true;
        m_next_is_stream = false;
        m_document.stream_key = m_pending_stream_key;
    } else if (m_stream_depth != 0 && m_depth == m_stream_depth) {
        // An array where a record is expected: a record when arrays are delivered, else
        // skipped as a whole, like a scalar.
        m_element.flat = nullptr;
        m_element.begin();
        m_element.oversized = !m_deliver_arrays;
        m_element.open(true);
    } else if (m_root.active) {
        m_root.open(true);
    }
    ++m_depth;
    return true;
}

bool RecordStreamer::end_array()
{
    if (m_depth == 0) {
        return true;
    }
    if (m_element.active) {
        --m_depth;
        if (m_element.close()) {
            // Only the "array instead of a record" case closes an element with ']'.
            if (m_deliver_arrays) {
                finish_element();
            } else {
                m_element.active = false;
            }
        }
        return true;
    }
    if (m_stream_depth != 0 && m_depth == m_stream_depth) {
        m_stream_depth = 0;
        --m_depth;
        if (m_depth == 0 && m_document_end) {
            m_document_end(m_document);
        }
        return true;
    }
    --m_depth;
    if (m_root.active) {
        m_root.close();
    }
    return true;
}

bool RecordStreamer::parse_error(std::size_t /*position*/,
                                 const std::string& /*last_token*/,
                                 const nlohmann::detail::exception& /*ex*/)
{
    return false;
}

void RecordStreamer::finish_element()
{
    m_element.active = false;
    ++m_document.records;
    if (m_element.oversized) {
        ++m_skipped;
    } else if (m_element.flat != nullptr) {
        m_deliver_flat(*m_element.flat);
    } else {
        m_deliver(m_element.root);
    }
    m_element.root = Json();
}

} // namespace execmark::audit
