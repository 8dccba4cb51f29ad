// SPDX-License-Identifier: MIT
#include <agent/signer/key.hpp>
#include <agent/util/error.hpp>

#include <sodium.h>

#include <utility>

namespace execmark::signer {

util::Result<SigningKey> SigningKey::generate()
{
    if (sodium_init() < 0) {
        return util::make_error("initialise", "libsodium", "sodium_init failed");
    }
    SigningKey key;
    key.m_secret = static_cast<unsigned char*>(sodium_malloc(crypto_sign_SECRETKEYBYTES));
    if (key.m_secret == nullptr) {
        return util::make_error("allocate", "locked memory for the key", "sodium_malloc failed");
    }
    if (crypto_sign_keypair(key.m_public.data(), key.m_secret) != 0) {
        return util::make_error("generate", "Ed25519 key", "crypto_sign_keypair failed");
    }
    // Read-only from now on: a stray write anywhere in the process cannot alter the key.
    sodium_mprotect_readonly(key.m_secret);
    key.m_key_id = marker::key_id(key.m_public);
    return key;
}

SigningKey::SigningKey(SigningKey&& other) noexcept
    : m_secret(std::exchange(other.m_secret, nullptr))
    , m_public(other.m_public)
    , m_key_id(std::move(other.m_key_id))
{}

SigningKey& SigningKey::operator=(SigningKey&& other) noexcept
{
    if (this != &other) {
        if (m_secret != nullptr) {
            sodium_free(m_secret);
        }
        m_secret = std::exchange(other.m_secret, nullptr);
        m_public = other.m_public;
        m_key_id = std::move(other.m_key_id);
    }
    return *this;
}

SigningKey::~SigningKey()
{
    if (m_secret != nullptr) {
        // sodium_free wipes the memory before releasing it.
        sodium_free(m_secret);
    }
}

marker::Signature SigningKey::sign(std::string_view payload) const
{
    return marker::sign(payload, marker::SecretKey(m_secret, crypto_sign_SECRETKEYBYTES));
}

} // namespace execmark::signer
