// SPDX-License-Identifier: MIT
#pragma once

// Internal to marker: strict UTF-8 decoding and the escaping rules shared by PayloadWriter and
// sanitize_claim, so that a sanitized claim's budget matches its encoded size exactly.

#include <cstddef>
#include <string>
#include <string_view>

namespace execmark::marker::detail {

inline constexpr char32_t k_replacement = 0xFFFD;
// "EXECMARK": the magic without its version digit; never written literally inside a string.
inline constexpr std::string_view k_magic_stem = "EXECMARK";

struct Decoded {
    char32_t cp = k_replacement;
    std::size_t length = 1; // bytes consumed (1 for an invalid byte)
    bool valid = false;
};

// Decodes the code point at text[pos] (pos < text.size()) by Unicode's well-formed table:
// no overlongs, no surrogates, nothing above U+10FFFF. An invalid byte yields valid == false.
Decoded decode_utf8(std::string_view text, std::size_t pos);

// Appends cp (a Unicode scalar value) as UTF-8.
void append_utf8(std::string& out, char32_t cp);

// Bytes cp takes inside a payload string: 1 (2 for '"' and '\\') for printable ASCII, 6 for
// other BMP code points, 12 for a surrogate pair. The EXECMARK rule is not included.
std::size_t encoded_size(char32_t cp);

// Appends value as the inside of a JSON string, by the PayloadWriter rules (marker.hpp).
void append_json_string_body(std::string& out, std::string_view value);

// Whether out ends with "EXECMAR", i.e. a literal 'K' appended now would spell "EXECMARK".
bool would_spell_magic(std::string_view out);

} // namespace execmark::marker::detail
