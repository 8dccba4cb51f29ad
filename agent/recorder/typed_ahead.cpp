// SPDX-License-Identifier: MIT
#include <agent/client/protocol.hpp>
#include <agent/recorder/typed_ahead.hpp>
#include <agent/transcript/typed.hpp>
#include <agent/util/io.hpp>

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace execmark::recorder {

TypedAhead take_typed_ahead()
{
    TypedAhead taken;
    termios found{};
    if (::tcgetattr(STDIN_FILENO, &found) != 0) {
        return taken;
    }
    taken.outer_found = found;
    // Leaving canonical mode makes the whole queue readable, a line not ended yet included;
    // without echo, keys from here on are not shown by this terminal (the relay forwards them).
    termios quiet = found;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO | ECHONL);
    quiet.c_cc[VMIN] = 0;
    quiet.c_cc[VTIME] = 0;
    if (::tcsetattr(STDIN_FILENO, TCSANOW, &quiet) != 0) {
        taken.outer_found.reset();
        return taken;
    }
    int queued = 0;
    if (::ioctl(STDIN_FILENO, FIONREAD, &queued) != 0 || queued <= 0) {
        return taken;
    }
    const std::size_t want = std::min(static_cast<std::size_t>(queued),
                                      static_cast<std::size_t>(client::k_max_rec_typed_bytes));
    taken.bytes.resize(want);
    std::size_t got = 0;
    while (got < want) {
        const ssize_t r = ::read(STDIN_FILENO, taken.bytes.data() + got, want - got);
        if (r > 0) {
            got += static_cast<std::size_t>(r);
        } else if (r < 0 && errno == EINTR) {
            continue;
        } else {
            break; // VMIN 0: nothing more queued
        }
    }
    taken.bytes.resize(got);
    if (!taken.bytes.empty()) {
        const std::string echo = transcript::typed_echo_text(
            taken.bytes, (found.c_lflag & ECHO) != 0, (found.c_lflag & ECHOCTL) != 0);
        taken.echo_digest = transcript::typed_digest(echo);
    }
    return taken;
}

void give_typed_ahead(int master, const std::string& bytes)
{
    if (!bytes.empty()) {
        // The master is non-blocking and the shell's terminal holds 4096 queued bytes: what does
        // not fit is lost, as on a terminal whose queue is full.
        (void)util::write_all(master, bytes);
    }
}

} // namespace execmark::recorder
