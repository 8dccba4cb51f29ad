// SPDX-License-Identifier: MIT
#pragma once

// A small terminal renderer for the timeline: turns a session's output bytes into the lines a
// terminal would show, without escape codes. Applied: CR, BS, TAB, LF; CSI cursor left/right
// and column (D, C, G), erase in line (K), erase/delete/insert characters (X, P, @); every
// other CSI (SGR colours included), OSC, DCS/APC/PM/SOS strings and other ESC sequences are
// dropped, as are other C0 controls. Output between entering and leaving the alternate screen
// (vi, less, top: CSI ?1049h/?1047h/?47h ... l) becomes one line
// "[full-screen program: N bytes]". Pure, streaming, bounded (k_max_line_cells per line).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace execmark::audit {

// Cells kept per line; a longer line is cut and ends with "…".
inline constexpr std::size_t k_max_line_cells = 4096;

class Screen {
public:
    void feed(std::string_view bytes);

    // Lines completed since the last take (each ended by LF, or a full-screen summary).
    std::vector<std::string> take_lines();

    // The line being written (not yet ended), as shown.
    [[nodiscard]] std::string current_line() const;

    // Ends the current line if it holds anything (the end of the output).
    void finish();

private:
    enum class State { ground, esc, csi, string, string_esc };

    void print(std::string_view cell);
    void control(unsigned char c);
    void csi_final(char final);
    void end_line();
    void put_cell(std::string cell);
    [[nodiscard]] std::size_t param(std::size_t i, std::size_t fallback) const;

    State m_state = State::ground;
    std::vector<std::string> m_cells; // the current line, one UTF-8 character per cell
    std::size_t m_col = 0;
    std::string m_utf8; // an incomplete UTF-8 character
    std::size_t m_utf8_need = 0;
    std::string m_csi; // parameters and intermediates of the CSI being read
    std::vector<std::string> m_done;
    bool m_alt = false;            // inside the alternate screen
    std::uint64_t m_alt_bytes = 0; // bytes written there
    bool m_cut = false;            // the current line exceeded k_max_line_cells
};

// The whole rendering of bytes: completed lines, plus the last line when not empty.
std::vector<std::string> render_screen(std::string_view bytes);

} // namespace execmark::audit
