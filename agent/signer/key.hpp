// SPDX-License-Identifier: MIT
#pragma once

#include <agent/marker/marker.hpp>
#include <agent/util/result.hpp>

#include <string>
#include <string_view>

namespace execmark::signer {

// The per-boot Ed25519 key. The secret half lives only in sodium_malloc memory (guard pages,
// mlock'ed, excluded from core dumps, wiped when freed) and is never copied out: callers get
// signatures, the public key and the key id. Move-only.
class SigningKey {
public:
    static util::Result<SigningKey> generate();

    SigningKey(const SigningKey&) = delete;
    SigningKey& operator=(const SigningKey&) = delete;
    SigningKey(SigningKey&& other) noexcept;
    SigningKey& operator=(SigningKey&& other) noexcept;
    ~SigningKey();

    [[nodiscard]] marker::Signature sign(std::string_view payload) const;

    [[nodiscard]] const marker::PublicKey& public_key() const { return m_public; }

    [[nodiscard]] const std::string& key_id() const { return m_key_id; }

private:
    SigningKey() = default;

    unsigned char* m_secret = nullptr; // 64 bytes in sodium_malloc memory, read-only when idle
    marker::PublicKey m_public{};
    std::string m_key_id;
};

} // namespace execmark::signer
