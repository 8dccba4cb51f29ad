// SPDX-License-Identifier: MIT
#include <agent/audit/input.hpp>
#include <agent/util/error.hpp>
#include <agent/util/fd.hpp>

#include <zlib.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace execmark::audit {

namespace {

constexpr unsigned char k_gzip_magic0 = 0x1f;
constexpr unsigned char k_gzip_magic1 = 0x8b;
// zlib: 15-bit window, +16 = expect a gzip header and trailer.
constexpr int k_gzip_window_bits = 15 + 16;

class FdSource final : public ByteSource {
public:
    FdSource(util::Fd owned, int fd, std::string name, std::shared_ptr<std::uint64_t> count)
        : m_owned(std::move(owned))
        , m_fd(fd)
        , m_name(std::move(name))
        , m_count(std::move(count))
    {}

    util::Result<std::size_t> read(std::span<char> out) override
    {
        for (;;) {
            const ssize_t got = ::read(m_fd, out.data(), out.size());
            if (got >= 0) {
                *m_count += static_cast<std::uint64_t>(got);
                return static_cast<std::size_t>(got);
            }
            if (errno != EINTR) {
                return util::sys_error("read", m_name, errno);
            }
        }
    }

private:
    util::Fd m_owned; // empty for stdin, which is not ours to close
    int m_fd;
    std::string m_name;
    std::shared_ptr<std::uint64_t> m_count;
};

class MemorySource final : public ByteSource {
public:
    MemorySource(std::string_view bytes, std::shared_ptr<std::uint64_t> count)
        : m_bytes(bytes)
        , m_count(std::move(count))
    {}

    util::Result<std::size_t> read(std::span<char> out) override
    {
        const std::size_t n = std::min(out.size(), m_bytes.size() - m_pos);
        std::memcpy(out.data(), m_bytes.data() + m_pos, n);
        m_pos += n;
        *m_count += n;
        return n;
    }

private:
    std::string_view m_bytes;
    std::size_t m_pos = 0;
    std::shared_ptr<std::uint64_t> m_count;
};

// Yields `head` first, then the rest of `rest`.
class PrefixedSource final : public ByteSource {
public:
    PrefixedSource(std::string head, std::unique_ptr<ByteSource> rest)
        : m_head(std::move(head))
        , m_rest(std::move(rest))
    {}

    util::Result<std::size_t> read(std::span<char> out) override
    {
        if (m_pos < m_head.size()) {
            const std::size_t n = std::min(out.size(), m_head.size() - m_pos);
            std::memcpy(out.data(), m_head.data() + m_pos, n);
            m_pos += n;
            return n;
        }
        return m_rest->read(out);
    }

private:
    std::string m_head;
    std::size_t m_pos = 0;
    std::unique_ptr<ByteSource> m_rest;
};

// Inflates a gzip stream; consecutive members are concatenated (as gunzip does). Anything after
// the last member that is not another gzip member is an error: the file is not what it claims.
class GzipSource final : public ByteSource {
public:
    GzipSource(std::string name, std::unique_ptr<ByteSource> raw)
        : m_name(std::move(name))
        , m_raw(std::move(raw))
        , m_in(k_read_chunk_bytes)
    {
        m_ok = inflateInit2(&m_z, k_gzip_window_bits) == Z_OK;
    }

    GzipSource(const GzipSource&) = delete;
    GzipSource& operator=(const GzipSource&) = delete;

    ~GzipSource() override
    {
        if (m_ok) {
            inflateEnd(&m_z);
        }
    }

    util::Result<std::size_t> read(std::span<char> out) override
    {
        if (!m_ok) {
            return util::make_error("decompress", m_name, "zlib initialisation failed");
        }
        if (out.empty() || m_done) {
            return std::size_t{0};
        }
        m_z.next_out = reinterpret_cast<Bytef*>(out.data());
        m_z.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size(), UINT32_MAX));
        while (m_z.avail_out > 0) {
            if (m_z.avail_in == 0) {
                auto got = m_raw->read(m_in);
                if (!got) {
                    return got.error();
                }
                if (*got == 0) {
                    if (m_member_started) {
                        return util::make_error(
                            "decompress", m_name, "unexpected end of gzip data");
                    }
                    m_done = true;
                    break;
                }
                m_z.next_in = reinterpret_cast<Bytef*>(m_in.data());
                m_z.avail_in = static_cast<uInt>(*got);
            }
            if (!m_member_started) {
                // Between members: only another gzip header may follow.
                if (m_z.next_in[0] != k_gzip_magic0) {
                    return util::make_error(
                        "decompress", m_name, "data after the end of the gzip stream");
                }
                m_member_started = true;
            }
            const int rc = inflate(&m_z, Z_NO_FLUSH);
            if (rc == Z_STREAM_END) {
                inflateReset(&m_z);
                m_member_started = false;
                continue;
            }
            if (rc != Z_OK && rc != Z_BUF_ERROR) {
                return util::make_error(
                    "decompress", m_name, m_z.msg != nullptr ? m_z.msg : "corrupt gzip data");
            }
            if (rc == Z_BUF_ERROR && m_z.avail_in != 0) {
                return util::make_error("decompress", m_name, "corrupt gzip data");
            }
        }
        return out.size() - m_z.avail_out;
    }

private:
    std::string m_name;
    std::unique_ptr<ByteSource> m_raw;
    std::vector<char> m_in;
    z_stream m_z{};
    bool m_ok = false;
    bool m_done = false;
    bool m_member_started = false;
};

} // namespace

Input::Input(std::string name, std::unique_ptr<ByteSource> raw)
    : m_name(std::move(name))
    , m_raw_count(std::make_shared<std::uint64_t>(0))
    , m_source(std::move(raw))
{}

util::Result<Input> Input::open(const std::string& path)
{
    auto count = std::make_shared<std::uint64_t>(0);
    std::unique_ptr<ByteSource> source;
    if (path == "-") {
        source = std::make_unique<FdSource>(util::Fd{}, STDIN_FILENO, "standard input", count);
    } else {
        util::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
        if (!fd) {
            return util::sys_error("open", path, errno);
        }
        // Sequential read-ahead: inputs are read once, front to back.
        static_cast<void>(posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL));
        const int raw = fd.get();
        source = std::make_unique<FdSource>(std::move(fd), raw, path, count);
    }
    Input input(path, std::move(source));
    input.m_raw_count = count;
    if (auto st = input.detect_gzip(); !st) {
        return st.error();
    }
    return input;
}

util::Result<Input> Input::from_memory(std::string name, std::string_view bytes)
{
    auto count = std::make_shared<std::uint64_t>(0);
    Input input(std::move(name), std::make_unique<MemorySource>(bytes, count));
    input.m_raw_count = count;
    if (auto st = input.detect_gzip(); !st) {
        return st.error();
    }
    return input;
}

util::Status Input::detect_gzip()
{
    // Two bytes decide; read them from the raw stream and give them back in front.
    std::string head;
    char buf[2];
    while (head.size() < 2) {
        auto got = m_source->read(std::span<char>(buf, 2 - head.size()));
        if (!got) {
            return got.error();
        }
        if (*got == 0) {
            break;
        }
        head.append(buf, *got);
    }
    m_gzip = head.size() == 2 && static_cast<unsigned char>(head[0]) == k_gzip_magic0
             && static_cast<unsigned char>(head[1]) == k_gzip_magic1;
    m_source = std::make_unique<PrefixedSource>(std::move(head), std::move(m_source));
    if (m_gzip) {
        m_source = std::make_unique<GzipSource>(m_name, std::move(m_source));
    }
    return {};
}

util::Result<std::string_view> Input::peek(std::size_t n)
{
    n = std::min(n, k_read_chunk_bytes);
    std::string buf(n, '\0');
    while (m_peeked.size() - m_peek_pos < n) {
        auto got = m_source->read(std::span<char>(buf.data(), n - (m_peeked.size() - m_peek_pos)));
        if (!got) {
            return got.error();
        }
        if (*got == 0) {
            break;
        }
        m_peeked.append(buf.data(), *got);
    }
    const std::string_view all(m_peeked);
    return all.substr(m_peek_pos, std::min(n, all.size() - m_peek_pos));
}

util::Result<std::size_t> Input::read(std::span<char> out)
{
    if (m_peek_pos < m_peeked.size()) {
        const std::size_t n = std::min(out.size(), m_peeked.size() - m_peek_pos);
        std::memcpy(out.data(), m_peeked.data() + m_peek_pos, n);
        m_peek_pos += n;
        if (m_peek_pos == m_peeked.size()) {
            m_peeked.clear();
            m_peek_pos = 0;
        }
        return n;
    }
    return m_source->read(out);
}

std::uint64_t Input::raw_bytes() const
{
    return *m_raw_count;
}

} // namespace execmark::audit
