// SPDX-License-Identifier: MIT
#pragma once

// Genuine signed markers for unit tests: a seeded key and PID 1's chain rules (v1 schema from
// marker::event_keys), so tests build real sessions without PID 1.

#include <agent/audit/lines.hpp>
#include <agent/marker/marker.hpp>

#include <sodium.h>

#include <array>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace execmark::audit::test {

class TestBoot {
public:
    explicit TestBoot(unsigned char seed_byte = 0x42)
    {
        if (sodium_init() < 0) {
            throw std::runtime_error("sodium_init");
        }
        std::array<unsigned char, crypto_sign_SEEDBYTES> seed{};
        seed.fill(seed_byte);
        crypto_sign_seed_keypair(m_pk.data(), m_sk.data(), seed.data());
        m_kid = marker::key_id(m_pk);
    }

    [[nodiscard]] const std::string& kid() const { return m_kid; }

    [[nodiscard]] std::string pub() const { return marker::base64url(m_pk); }

    [[nodiscard]] const marker::PublicKey& pk() const { return m_pk; }

    [[nodiscard]] std::string boot_sid() const { return "boot-" + m_kid; }

    // Signs the next marker of sid; fields: event key -> value (strings; ints for int keys).
    std::string next(const std::string& ev,
                     const std::string& sid,
                     const std::map<std::string, std::string>& fields = {})
    {
        auto& chain = m_chains[sid];
        const std::uint64_t seq = chain.first + 1;
        const std::string payload = payload_for(ev, sid, seq, chain.second, fields);
        chain = {seq, marker::chain_hash(payload)};
        return marker::format_signed(payload, marker::sign(payload, m_sk));
    }

    std::string boot()
    {
        return next("boot", boot_sid(), {{"pub", pub()}, {"ver", "test"}, {"pid", "1"}});
    }

    // A payload with explicit chain values (for tampering tests).
    std::string payload_for(const std::string& ev,
                            const std::string& sid,
                            std::uint64_t seq,
                            const std::string& prev,
                            const std::map<std::string, std::string>& fields)
    {
        marker::PayloadWriter w;
        w.add("v", 1)
            .add("ev", ev)
            .add("ts", marker::format_timestamp(m_now += 1000))
            .add("kid", m_kid)
            .add("tseq", ++m_tseq)
            .add("sid", sid)
            .add("seq", seq)
            .add("prev", seq == 1 ? std::string("-") : prev);
        for (const auto& spec : marker::event_keys(ev)) {
            const auto it = fields.find(std::string(spec.name));
            const std::string value = it == fields.end() ? "" : it->second;
            if (spec.is_int) {
                w.add(spec.name, static_cast<std::int64_t>(value.empty() ? 0 : std::stoll(value)));
            } else {
                w.add(spec.name, value);
            }
        }
        return w.finish();
    }

    std::string sign_payload(const std::string& payload)
    {
        return marker::format_signed(payload, marker::sign(payload, m_sk));
    }

    std::int64_t m_now = 1795498798000; // 2026-11-24T05:39:58Z

private:
    marker::PublicKey m_pk{};
    std::array<unsigned char, crypto_sign_SECRETKEYBYTES> m_sk{};
    std::string m_kid;
    std::uint64_t m_tseq = 0;
    std::map<std::string, std::pair<std::uint64_t, std::string>> m_chains;
};

// Collects candidate lines.
class Collect final : public LineSink {
public:
    void on_candidate(const CandidateLine& line) override
    {
        lines.emplace_back(line.text);
        where.push_back(line.where);
        lost.push_back(line.lost_marker);
    }

    std::vector<std::string> lines;
    std::vector<LineLocation> where;
    std::vector<bool> lost;
};

} // namespace execmark::audit::test
