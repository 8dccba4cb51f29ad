// SPDX-License-Identifier: MIT
#include <agent/audit/screen.hpp>
#include <agent/transcript/transcript.hpp>

#include <algorithm>
#include <charconv>

namespace execmark::audit {

namespace {

constexpr std::size_t k_tab_width = 8;
// CSI parameters kept (a hostile stream may send any number).
constexpr std::size_t k_max_csi_bytes = 64;

bool is_alt_screen_mode(std::string_view params)
{
    return params == "?1049" || params == "?1047" || params == "?47";
}

} // namespace

void Screen::feed(std::string_view bytes)
{
    for (const char ch : bytes) {
        const auto c = static_cast<unsigned char>(ch);
        if (m_alt) {
            ++m_alt_bytes;
        }
        switch (m_state) {
        case State::esc:
            if (c == '[') {
                m_state = State::csi;
                m_csi.clear();
            } else if (c == ']' || c == 'P' || c == '_' || c == '^' || c == 'X') {
                m_state = State::string; // OSC, DCS, APC, PM, SOS: dropped up to BEL or ST
            } else if (c >= 0x20 && c <= 0x2F) {
                // an intermediate byte (charset selection ...): wait for the final byte
            } else {
                m_state = State::ground;
            }
            continue;
        case State::csi:
            if (c >= 0x40 && c <= 0x7E) {
                m_state = State::ground;
                csi_final(static_cast<char>(c));
            } else if (c == 0x1B) {
                m_state = State::esc;
            } else if (m_csi.size() < k_max_csi_bytes) {
                m_csi.push_back(static_cast<char>(c));
            }
            continue;
        case State::string:
            if (c == 0x07) {
                m_state = State::ground;
            } else if (c == 0x1B) {
                m_state = State::string_esc;
            }
            continue;
        case State::string_esc:
            m_state = c == '\\' ? State::ground : State::string;
            continue;
        case State::ground:
            break;
        }
        if (m_utf8_need > 0) {
            if ((c & 0xC0) == 0x80) {
                m_utf8.push_back(static_cast<char>(c));
                if (--m_utf8_need == 0) {
                    print(m_utf8);
                    m_utf8.clear();
                }
                continue;
            }
            m_utf8.clear();
            m_utf8_need = 0;
            print("\xEF\xBF\xBD");
        }
        if (c == 0x1B) {
            m_state = State::esc;
        } else if (c < 0x20 || c == 0x7F) {
            control(c);
        } else if (c < 0x80) {
            print(std::string_view(&ch, 1));
        } else if (const std::size_t n = transcript::utf8_sequence_length(c); n > 0) {
            m_utf8.assign(1, static_cast<char>(c));
            m_utf8_need = n - 1;
        } else {
            print("\xEF\xBF\xBD");
        }
    }
}

void Screen::print(std::string_view cell)
{
    if (m_alt) {
        return;
    }
    put_cell(std::string(cell));
}

void Screen::put_cell(std::string cell)
{
    if (m_col >= k_max_line_cells) {
        m_cut = true;
        return;
    }
    if (m_col >= m_cells.size()) {
        m_cells.resize(m_col + 1, " ");
    }
    m_cells[m_col] = std::move(cell);
    ++m_col;
}

void Screen::control(unsigned char c)
{
    if (m_alt) {
        return;
    }
    switch (c) {
    case '\n':
        end_line();
        break;
    case '\r':
        m_col = 0;
        break;
    case '\b':
        m_col = m_col > 0 ? m_col - 1 : 0;
        break;
    case '\t':
        m_col = std::min(k_max_line_cells, (m_col / k_tab_width + 1) * k_tab_width);
        break;
    default:
        break; // BEL, NUL, DEL, ...: nothing shown
    }
}

std::size_t Screen::param(std::size_t i, std::size_t fallback) const
{
    std::string_view rest = m_csi;
    for (std::size_t n = 0; n < i; ++n) {
        const std::size_t semi = rest.find(';');
        if (semi == std::string_view::npos) {
            return fallback;
        }
        rest.remove_prefix(semi + 1);
    }
    std::size_t value = 0;
    const auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    if (ec != std::errc() || ptr == rest.data()) {
        return fallback;
    }
    return value == 0 ? fallback : std::min(value, k_max_line_cells);
}

void Screen::csi_final(char final)
{
    if ((final == 'h' || final == 'l') && is_alt_screen_mode(m_csi)) {
        if (final == 'h' && !m_alt) {
            m_alt = true;
            m_alt_bytes = 0;
        } else if (final == 'l' && m_alt) {
            m_alt = false;
            if (!m_cells.empty()) {
                end_line();
            }
            m_done.push_back("[full-screen program: " + std::to_string(m_alt_bytes) + " bytes]");
            m_cells.clear();
            m_col = 0;
        }
        return;
    }
    if (m_alt || (!m_csi.empty() && (m_csi[0] == '?' || m_csi[0] == '>' || m_csi[0] == '='))) {
        return;
    }
    switch (final) {
    case 'C':
        m_col = std::min(k_max_line_cells, m_col + param(0, 1));
        break;
    case 'D': {
        const std::size_t n = param(0, 1);
        m_col = m_col > n ? m_col - n : 0;
        break;
    }
    case 'G':
        m_col = param(0, 1) - 1;
        break;
    case 'K': {
        const std::size_t mode = m_csi.empty() ? 0 : param(0, 0);
        if (mode == 0) {
            if (m_col < m_cells.size()) {
                m_cells.resize(m_col);
            }
        } else if (mode == 1) {
            for (std::size_t i = 0; i <= m_col && i < m_cells.size(); ++i) {
                m_cells[i].assign(1, ' ');
            }
        } else {
            m_cells.clear();
        }
        break;
    }
    case 'X':
        for (std::size_t i = m_col; i < m_col + param(0, 1) && i < m_cells.size(); ++i) {
            m_cells[i].assign(1, ' ');
        }
        break;
    case 'P':
        if (m_col < m_cells.size()) {
            const std::size_t n = std::min(param(0, 1), m_cells.size() - m_col);
            m_cells.erase(m_cells.begin() + static_cast<std::ptrdiff_t>(m_col),
                          m_cells.begin() + static_cast<std::ptrdiff_t>(m_col + n));
        }
        break;
    case '@':
        if (m_col < m_cells.size()) {
            m_cells.insert(m_cells.begin() + static_cast<std::ptrdiff_t>(m_col), param(0, 1), " ");
            if (m_cells.size() > k_max_line_cells) {
                m_cells.resize(k_max_line_cells);
            }
        }
        break;
    default:
        break; // SGR and the rest: nothing to show
    }
}

std::string Screen::current_line() const
{
    std::string out;
    for (const std::string& cell : m_cells) {
        out += cell;
    }
    while (!out.empty() && out.back() == ' ') {
        out.pop_back();
    }
    if (m_cut) {
        out += "\xE2\x80\xA6"; // …
    }
    return out;
}

void Screen::end_line()
{
    m_done.push_back(current_line());
    m_cells.clear();
    m_col = 0;
    m_cut = false;
}

std::vector<std::string> Screen::take_lines()
{
    std::vector<std::string> out;
    out.swap(m_done);
    return out;
}

void Screen::finish()
{
    if (m_alt) {
        m_done.push_back("[full-screen program: " + std::to_string(m_alt_bytes)
                         + " bytes, still running]");
        m_alt = false;
    }
    if (!current_line().empty()) {
        end_line();
    }
    m_cells.clear();
    m_col = 0;
}

std::vector<std::string> render_screen(std::string_view bytes)
{
    Screen screen;
    screen.feed(bytes);
    screen.finish();
    return screen.take_lines();
}

} // namespace execmark::audit
