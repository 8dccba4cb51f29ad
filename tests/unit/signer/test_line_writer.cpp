// SPDX-License-Identifier: MIT
#include <agent/signer/server.hpp>
#include <agent/util/fd.hpp>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <string>
#include <thread>

using namespace execmark;
using namespace execmark::signer;

namespace {

struct Pipe {
    util::Fd read_end;
    util::Fd write_end;

    Pipe()
    {
        std::array<int, 2> fds{-1, -1};
        REQUIRE(::pipe2(fds.data(), O_CLOEXEC) == 0);
        read_end = util::Fd(fds[0]);
        write_end = util::Fd(fds[1]);
    }

    std::string drain() const
    {
        ::fcntl(read_end.get(), F_SETFL, O_NONBLOCK);
        std::string out;
        std::array<char, 4096> buf{};
        for (;;) {
            const auto n = ::read(read_end.get(), buf.data(), buf.size());
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
    LineWriter writer(p.write_end.get());
    writer.push("first");
    writer.push("second");
    writer.push("third");
    REQUIRE_FALSE(writer.detached());
    REQUIRE(writer.close(5000));
    REQUIRE_FALSE(writer.detached());
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
    ::fcntl(p.write_end.get(), F_SETFL, O_NONBLOCK);
    const std::string chunk(4096, 'x');
    while (::write(p.write_end.get(), chunk.data(), chunk.size()) > 0) {
    }
    ::fcntl(p.write_end.get(), F_SETFL, 0);
    {
        LineWriter writer(p.write_end.get());
        writer.push("stuck");
        const auto t0 = std::chrono::steady_clock::now();
        REQUIRE_FALSE(writer.close(200));
        const auto waited = std::chrono::steady_clock::now() - t0;
        REQUIRE(waited >= std::chrono::milliseconds(150));
        REQUIRE(waited < std::chrono::seconds(10));
        REQUIRE(writer.detached());
        // Destroying it must not wait for the blocked thread either (it was detached).
    }
    // Unblock the detached thread and read until its line arrived, so that its write(2) is done
    // before the pipe closes: it owns its state, and with the write done it touches nothing
    // else (a failed write would log, racing the logger's destruction at exit).
    ::fcntl(p.read_end.get(), F_SETFL, O_NONBLOCK);
    std::string got;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::array<char, 4096> buf{};
    while (got.find("stuck\n") == std::string::npos
           && std::chrono::steady_clock::now() < deadline) {
        const auto n = ::read(p.read_end.get(), buf.data(), buf.size());
        if (n > 0) {
            got.append(buf.data(), static_cast<std::size_t>(n));
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    REQUIRE(got.find("stuck\n") != std::string::npos);
}
