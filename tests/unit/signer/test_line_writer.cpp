// SPDX-License-Identifier: MIT
#include <agent/signer/server.hpp>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <string>

using namespace execmark::signer;

namespace {

struct Pipe {
    std::array<int, 2> fds{-1, -1};

    Pipe() { REQUIRE(::pipe2(fds.data(), O_CLOEXEC) == 0); }

    ~Pipe()
    {
        for (const int fd : fds) {
            if (fd >= 0) {
                ::close(fd);
            }
        }
    }

    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;

    std::string drain() const
    {
        ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
        std::string out;
        std::array<char, 4096> buf{};
        for (;;) {
            const auto n = ::read(fds[0], buf.data(), buf.size());
            if (n <= 0) {
                return out;
            }
            out.append(buf.data(), static_cast<std::size_t>(n));
        }
    }
};

} // namespace

TEST_CASE("LineWriter::close writes every queued line, in order, before it returns")
{
    Pipe p;
    LineWriter writer(p.fds[1]);
    writer.push("first");
    writer.push("second");
    writer.push("third");
    REQUIRE(writer.close(5000));
    REQUIRE(p.drain() == "first\nsecond\nthird\n");
    // Closing again is harmless and says the same; a line after close is not written.
    REQUIRE(writer.close(5000));
    writer.push("late");
    REQUIRE(p.drain().empty());
}

TEST_CASE("LineWriter::close gives up on a blocked log within its timeout")
{
    Pipe p;
    // Fill the pipe so the writer thread blocks on its first line.
    ::fcntl(p.fds[1], F_SETFL, O_NONBLOCK);
    const std::string chunk(4096, 'x');
    while (::write(p.fds[1], chunk.data(), chunk.size()) > 0) {
    }
    ::fcntl(p.fds[1], F_SETFL, 0);
    {
        LineWriter writer(p.fds[1]);
        writer.push("stuck");
        const auto t0 = std::chrono::steady_clock::now();
        REQUIRE_FALSE(writer.close(200));
        const auto waited = std::chrono::steady_clock::now() - t0;
        REQUIRE(waited >= std::chrono::milliseconds(150));
        REQUIRE(waited < std::chrono::seconds(10));
        // Destroying it must not wait for the blocked thread either (it was detached).
    }
    // Unblock the detached thread so it can finish: it owns its state, nothing dangles.
    p.drain();
}
