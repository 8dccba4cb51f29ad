// SPDX-License-Identifier: MIT
#include <agent/audit/json_input.hpp>
#include <agent/util/error.hpp>

#include <algorithm>
#include <istream>
#include <streambuf>

namespace execmark::audit {

namespace {

// Rough bookkeeping cost of one DOM value beyond its string bytes.
constexpr std::size_t k_value_overhead = 16;

// A streambuf over an Input that refuses to deliver more than k_max_json_token_bytes between
// two calls of mark(), and keeps the first I/O error.
class BudgetBuf final : public std::streambuf {
public:
    explicit BudgetBuf(Input& in)
        : m_in(in)
        , m_buf(k_read_chunk_bytes)
    {}

    void mark() { m_mark = consumed(); }

    [[nodiscard]] std::uint64_t consumed() const
    {
        return m_base + static_cast<std::uint64_t>(gptr() - eback());
    }

    [[nodiscard]] bool over_budget() const { return m_over; }

    [[nodiscard]] const util::Error* io_error() const { return m_failed ? &m_error : nullptr; }

protected:
    int_type underflow() override
    {
        if (gptr() < egptr()) {
            return traits_type::to_int_type(*gptr());
        }
        if (m_failed || m_over) {
            return traits_type::eof();
        }
        if (consumed() - m_mark > k_max_json_token_bytes) {
            m_over = true;
            return traits_type::eof();
        }
        m_base += static_cast<std::uint64_t>(egptr() - eback());
        auto got = m_in.read(m_buf);
        if (!got) {
            m_failed = true;
            m_error = got.error();
            setg(m_buf.data(), m_buf.data(), m_buf.data());
            return traits_type::eof();
        }
        setg(m_buf.data(), m_buf.data(), m_buf.data() + *got);
        if (*got == 0) {
            return traits_type::eof();
        }
        return traits_type::to_int_type(*gptr());
    }

private:
    Input& m_in;
    std::vector<char> m_buf;
    std::uint64_t m_base = 0;
    std::uint64_t m_mark = 0;
    bool m_over = false;
    bool m_failed = false;
    util::Error m_error;
};

// Forwards every SAX event, renewing the token budget; keeps the parse error.
class BudgetSax final : public nlohmann::json_sax<Json> {
public:
    BudgetSax(nlohmann::json_sax<Json>& inner, BudgetBuf& buf)
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
    BudgetBuf& m_buf;
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
    BudgetBuf buf(in);
    std::istream stream(&buf);
    BudgetSax budget(sax, buf);
    for (;;) {
        int c = buf.sgetc();
        while (c != std::char_traits<char>::eof() && is_space(c)) {
            buf.sbumpc();
            c = buf.sgetc();
        }
        if (const util::Error* err = buf.io_error()) {
            return *err;
        }
        if (c == std::char_traits<char>::eof()) {
            return {};
        }
        buf.mark();
        budget.set_offset(buf.consumed());
        bool ok = false;
        try {
            // Not strict: the value ends where it ends; another may follow.
            ok = Json::sax_parse(stream, &budget, Json::input_format_t::json, false);
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
    stack.clear();
    key.clear();
    bytes = 0;
    active = true;
    oversized = false;
}

void RecordStreamer::Builder::value(Json&& v, std::size_t size)
{
    bytes += size + k_value_overhead;
    if (bytes > k_max_json_record_bytes) {
        oversized = true;
    }
    if (oversized) {
        return;
    }
    if (stack.empty()) {
        root = std::move(v);
    } else if (stack.back()->is_array()) {
        stack.back()->push_back(std::move(v));
    } else {
        (*stack.back())[key] = std::move(v);
    }
}

void RecordStreamer::Builder::open(Json&& container)
{
    bytes += k_value_overhead;
    if (bytes > k_max_json_record_bytes) {
        oversized = true;
    }
    if (oversized) {
        stack.push_back(nullptr);
        return;
    }
    Json* slot = nullptr;
    if (stack.empty()) {
        root = std::move(container);
        slot = &root;
    } else if (stack.back() == nullptr) {
        slot = nullptr;
    } else if (stack.back()->is_array()) {
        stack.back()->push_back(std::move(container));
        slot = &stack.back()->back();
    } else {
        slot = &((*stack.back())[key] = std::move(container));
    }
    stack.push_back(slot);
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

bool RecordStreamer::scalar(Json&& v, std::size_t size)
{
    if (m_depth == 0) {
        if (m_document_end) {
            m_document = Document{};
            m_document.root_scalar = true;
            m_document_end(m_document);
        }
        return true;
    }
    if (!m_element.active && m_stream_depth != 0 && m_depth == m_stream_depth) {
        ++m_stray;
        return true;
    }
    if (Builder* b = target()) {
        if (b == &m_root && m_depth == 1) {
            m_next_is_stream = false;
        }
        b->value(std::move(v), size);
    }
    return true;
}

bool RecordStreamer::null()
{
    return scalar(Json(nullptr), 0);
}

bool RecordStreamer::boolean(bool val)
{
    return scalar(Json(val), 0);
}

bool RecordStreamer::number_integer(number_integer_t val)
{
    return scalar(Json(val), 0);
}

bool RecordStreamer::number_unsigned(number_unsigned_t val)
{
    return scalar(Json(val), 0);
}

bool RecordStreamer::number_float(number_float_t val, const string_t& /*s*/)
{
    return scalar(Json(val), 0);
}

bool RecordStreamer::string(string_t& val)
{
    if (!m_element.active && m_root.active && m_depth == 1
        && val.size() <= k_max_root_string_bytes) {
        m_document.strings[m_root.key] = val;
    }
    const std::size_t size = val.size();
    return scalar(Json(std::move(val)), size);
}

bool RecordStreamer::binary(binary_t& /*val*/)
{
    return scalar(Json(nullptr), 0);
}

bool RecordStreamer::start_object(std::size_t /*elements*/)
{
    if (m_depth == 0) {
        m_saw_stream = false;
        m_stream_depth = 0;
        m_document = Document{};
        m_root.begin();
        m_root.open(Json::object());
    } else if (m_element.active) {
        m_element.open(Json::object());
    } else if (m_stream_depth != 0 && m_depth == m_stream_depth) {
        m_element.begin();
        m_element.open(Json::object());
    } else if (m_root.active) {
        if (m_depth == 1) {
            m_next_is_stream = false;
        }
        m_root.open(Json::object());
    }
    ++m_depth;
    return true;
}

bool RecordStreamer::key(string_t& val)
{
    if (m_element.active) {
        m_element.key = val;
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
        m_element.open(Json::array());
    } else if (m_root.active && m_depth == 1 && m_next_is_stream && m_stream_depth == 0) {
        m_stream_depth = 2;
        m_saw_stream = true;
        m_next_is_stream = false;
        m_document.stream_key = m_pending_stream_key;
    } else if (m_stream_depth != 0 && m_depth == m_stream_depth) {
        // An array where a record is expected: a record when arrays are delivered, else
        // skipped as a whole, like a scalar.
        m_element.begin();
        m_element.oversized = !m_deliver_arrays;
        m_element.open(Json::array());
    } else if (m_root.active) {
        m_root.open(Json::array());
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
    } else {
        m_deliver(m_element.root);
    }
    m_element.root = Json();
}

} // namespace execmark::audit
