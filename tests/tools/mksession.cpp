// SPDX-License-Identifier: MIT
// Test-only generator of GENUINE signed markers, without PID 1: a fresh Ed25519 key per boot
// (unless a seed is given), the v1 schema of docs/markers.md driven by marker::event_keys(), the
// per-boot tseq, and one seq/prev chain per sid exactly as PID 1 keeps them.
//
//   mksession SPEC.json|-         prints a manifest (JSON) of every marker line, per boot
//   mksession --bench DIR --bytes N [--session-bytes N] [--dense N] [--recorded N]
//                                 writes a transcript corpus for tests/bench/ (see --help);
//                                 --recorded: each session recorded, a rec checkpoint every N
//                                 normalised bytes (docs/markers.md §12) in the container log
//   mksession --verify-speed N    times N raw libsodium verifications (the bench's baseline)
//   mksession --hash-speed MIB    BLAKE2b-256 over MIB MiB in 4 KiB pieces: libsodium's and the
//                                 fingerprint's own (transcript::Blake2b), and the whole
//                                 fingerprint (normaliser and chain); MB/s of CPU time
//
// SPEC: {"boots":[{"id":"b1", "seed":"<64 hex>"?, "start":"2026-11-24T05:39:58.000Z",
//   "step_ms":1000, "host":"...", "ver":"...", "pid":1,
//   "meta":{"task":..,"cluster":..,"ctr":..,"cid":..,"az":..,"lt":..,"src":..} (or absent),
//   "events":[{"ev":"exec.seen","wsid":..,"wpid":..}, {"ev":"open","sid":..,"user":..,...},
//             {"ev":"close","sid":..,"fin":"exit","rc":0}, {"ev":"exec.gone",...},
//             {"ev":"shutdown","rc":0}, {"ev":"open","sid":..,"unsigned":"no-agent"}, ...]}]}
// A close takes the open's fields of its sid unless given. The manifest:
// {"boots":[{"id":..,"kid":..,"pub":..,"markers":[{"ev":..,"sid":..,"seq":..,"line":..},...]}]}
#include <agent/marker/marker.hpp>
#include <agent/transcript/transcript.hpp>

#include <nlohmann/json.hpp>
#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Json = nlohmann::json;
namespace mk = execmark::marker;
namespace transcript = execmark::transcript;

constexpr std::int64_t k_default_start_ms = 1795498798000; // 2026-11-24T05:39:58Z
constexpr std::size_t k_default_session_bytes = 2 * 1024 * 1024;

struct Boot {
    std::vector<unsigned char> sk = std::vector<unsigned char>(crypto_sign_SECRETKEYBYTES);
    mk::PublicKey pk{};
    std::string kid;
    std::uint64_t tseq = 0;
    std::int64_t now_ms = k_default_start_ms;
    std::int64_t step_ms = 1000;
    std::map<std::string, std::pair<std::uint64_t, std::string>> chains; // sid -> (seq, hash)
    std::map<std::string, Json> opens;                                   // sid -> open fields

    explicit Boot(const std::string& seed_hex)
    {
        if (seed_hex.empty()) {
            crypto_sign_keypair(pk.data(), sk.data());
        } else {
            unsigned char seed[crypto_sign_SEEDBYTES];
            size_t len = 0;
            if (sodium_hex2bin(
                    seed, sizeof seed, seed_hex.c_str(), seed_hex.size(), nullptr, &len, nullptr)
                    != 0
                || len != sizeof seed) {
                std::fprintf(stderr, "mksession: seed must be 64 hex digits\n");
                std::exit(2);
            }
            crypto_sign_seed_keypair(pk.data(), sk.data(), seed);
        }
        kid = mk::key_id(pk);
    }

    std::string boot_sid() const { return std::string(mk::k_boot_sid_prefix) + kid; }

    // Core keys in wire order; advances tseq and the chain of sid.
    std::string sign_event(const std::string& ev,
                           const std::string& sid,
                           const Json& fields,
                           const std::string& unsigned_reason,
                           std::uint64_t* seq_out)
    {
        mk::PayloadWriter w;
        const bool no_key = !unsigned_reason.empty();
        auto& chain = chains[sid];
        const std::uint64_t seq = no_key ? 1 : chain.first + 1;
        w.add("v", mk::k_version)
            .add("ev", ev)
            .add("ts", mk::format_timestamp(now_ms))
            .add("kid", no_key ? std::string(mk::k_none) : kid)
            .add("tseq", no_key ? std::uint64_t{0} : ++tseq)
            .add("sid", sid)
            .add("seq", seq)
            .add("prev", seq == 1 ? std::string(mk::k_none) : chain.second);
        for (const mk::KeySpec& spec : mk::event_keys(ev)) {
            const std::string name(spec.name);
            const auto it = fields.find(name);
            if (spec.is_int) {
                w.add(spec.name,
                      it != fields.end() && it->is_number_integer() ? it->get<std::int64_t>()
                                                                    : std::int64_t{0});
            } else {
                w.add(spec.name,
                      it != fields.end() && it->is_string() ? it->get<std::string>()
                                                            : std::string());
            }
        }
        const std::string payload = w.finish();
        now_ms += step_ms;
        *seq_out = seq;
        if (no_key) {
            return mk::format_unsigned(payload, unsigned_reason);
        }
        chain = {seq, mk::chain_hash(payload)};
        const auto sig = mk::sign(payload, mk::SecretKey(sk.data(), crypto_sign_SECRETKEYBYTES));
        return mk::format_signed(payload, sig);
    }
};

Json marker_entry(const std::string& ev,
                  const std::string& sid,
                  std::uint64_t seq,
                  std::string line)
{
    return {{"ev", ev}, {"sid", sid}, {"seq", seq}, {"line", std::move(line)}};
}

int run_spec(const Json& spec)
{
    Json out = {{"boots", Json::array()}};
    for (const Json& b : spec.at("boots")) {
        Boot boot(b.value("seed", std::string()));
        if (b.contains("start")) {
            const auto ms = mk::parse_timestamp(b.at("start").get<std::string>());
            if (!ms) {
                std::fprintf(stderr, "mksession: start must be YYYY-MM-DDTHH:MM:SS.mmmZ\n");
                return 2;
            }
            boot.now_ms = *ms;
        }
        boot.step_ms = b.value("step_ms", std::int64_t{1000});
        Json markers = Json::array();
        std::uint64_t seq = 0;
        Json boot_fields = {{"pub", mk::base64url(boot.pk)},
                            {"ver", b.value("ver", std::string("0.1.0"))},
                            {"pid", b.value("pid", std::int64_t{1})},
                            {"host", b.value("host", std::string("ip-10-0-1-23.ec2.internal"))}};
        markers.push_back(
            marker_entry("boot",
                         boot.boot_sid(),
                         1,
                         boot.sign_event("boot", boot.boot_sid(), boot_fields, "", &seq)));
        if (b.contains("meta") && b.at("meta").is_object()) {
            std::string line = boot.sign_event("meta", boot.boot_sid(), b.at("meta"), "", &seq);
            markers.push_back(marker_entry("meta", boot.boot_sid(), seq, std::move(line)));
        }
        for (const Json& e : b.value("events", Json::array())) {
            const std::string ev = e.at("ev").get<std::string>();
            if (e.contains("advance_ms")) {
                boot.now_ms += e.at("advance_ms").get<std::int64_t>();
            }
            std::string sid = boot.boot_sid();
            Json fields = e;
            if (ev == mk::k_ev_open || ev == mk::k_ev_close) {
                sid = e.at("sid").get<std::string>();
                if (b.contains("meta")) {
                    for (const char* k : {"task", "cluster", "ctr"}) {
                        if (!fields.contains(k)) {
                            fields[k] = b.at("meta").value(k, std::string());
                        }
                    }
                }
                if (ev == mk::k_ev_open) {
                    boot.opens[sid] = fields;
                } else if (const auto it = boot.opens.find(sid); it != boot.opens.end()) {
                    for (const auto& [k, v] : it->second.items()) {
                        if (!fields.contains(k)) {
                            fields[k] = v;
                        }
                    }
                }
            }
            const std::string reason = e.value("unsigned", std::string());
            std::string line = boot.sign_event(ev, sid, fields, reason, &seq);
            markers.push_back(marker_entry(ev, sid, seq, std::move(line)));
        }
        out["boots"].push_back({{"id", b.value("id", std::string())},
                                {"kid", boot.kid},
                                {"pub", mk::base64url(boot.pk)},
                                {"markers", markers}});
    }
    std::cout << out.dump() << "\n";
    return 0;
}

// --- bench corpus ------------------------------------------------------------------------------

std::string session_id(std::mt19937_64& rng)
{
    static constexpr char k_alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string id = "ecs-execute-command-";
    for (int i = 0; i < 26; ++i) {
        id.push_back(k_alphabet[rng() % 36]);
    }
    return id;
}

// Terminal output as the SSM agent's `script` stores it: CR CR LF line ends, colours, prompts.
void ordinary_output(std::string& out, std::mt19937_64& rng, std::size_t target)
{
    static const char* const k_words[] = {"app",
                                          "data",
                                          "config",
                                          "logs",
                                          "node_modules",
                                          "srv",
                                          "cache",
                                          "tmp",
                                          "release-2026.11",
                                          "index.js"};
    std::size_t command = 0;
    while (out.size() < target) {
        out += "\x1b[?2004h\x1b]0;root@ip-10-0-1-23: /srv\x07root@ip-10-0-1-23:/srv# ";
        out += (command % 3 == 0   ? "ls -la --color=auto"
                : command % 3 == 1 ? "tail -n 40 app.log"
                                   : "cat config.json");
        out += "\r\r\n\x1b[?2004l\r";
        const std::size_t lines = 10 + rng() % 40;
        for (std::size_t i = 0; i < lines; ++i) {
            if (command % 3 == 0) {
                out += "drwxr-xr-x  2 root root  4096 Nov 24 05:4" + std::to_string(i % 10)
                       + " \x1b[01;34m" + k_words[rng() % 10] + "\x1b[0m\r\r\n";
            } else if (command % 3 == 1) {
                out += "2026-11-24T05:40:" + std::to_string(10 + i % 50)
                       + ".123Z INFO request id=" + std::to_string(rng() % 1000000)
                       + " path=/api/v1/items status=200 duration_ms=" + std::to_string(rng() % 900)
                       + "\r\r\n";
            } else {
                out += "  \"" + std::string(k_words[rng() % 10]) + "\": \"" + std::to_string(rng())
                       + "\",\r\r\n";
            }
        }
        if (command % 50 == 49) {
            // A very long line (minified output) now and then.
            out.append(70000, 'x');
            out += "\r\r\n";
        }
        ++command;
    }
}

// The rec markers of a recorded session whose region is raw_region (terminal bytes): start,
// a checkpoint every `every` normalised bytes, end.
void rec_markers(Boot& boot,
                 std::ostream& container,
                 const std::string& sid,
                 std::string_view raw_region,
                 std::size_t every,
                 std::uint64_t& seq,
                 std::uint64_t& count)
{
    const std::string region = execmark::transcript::normalise(raw_region);
    execmark::transcript::Chain chain;
    const auto rec = [&](const char* kind, std::uint64_t idx, std::uint64_t off, std::string hash) {
        const Json f = {{"ssid", sid},
                        {"kind", kind},
                        {"idx", idx},
                        {"off", off},
                        {"hash", std::move(hash)},
                        {"rpid", 4300},
                        {"fin", std::string(kind) == "end" ? "exit" : ""},
                        {"rc", 0}};
        container << boot.sign_event("rec", boot.boot_sid(), f, "", &seq) << "\n";
        ++count;
    };
    rec("start", 0, 0, "");
    std::size_t at = 0;
    while (true) {
        const std::size_t next = std::min(region.size(), at + every);
        chain.update(std::string_view(region).substr(at, next - at));
        at = next;
        const auto cp = chain.checkpoint();
        rec(at == region.size() ? "end" : "enter",
            cp.index,
            cp.offset,
            execmark::transcript::to_hex(cp.hash));
        if (at == region.size()) {
            break;
        }
    }
}

int run_bench(const std::string& dir,
              std::uint64_t bytes,
              std::size_t session_bytes,
              std::size_t dense,
              std::size_t recorded)
{
    std::mt19937_64 rng(12345);
    Boot boot("");
    Json meta = {
        {"task", "arn:aws:ecs:eu-west-1:123456789012:task/bench/0123456789abcdef0123456789abcdef"},
        {"cluster", "bench"},
        {"ctr", "app"},
        {"cid", "0123456789abcdef"},
        {"az", "eu-west-1a"},
        {"lt", "FARGATE"},
        {"src", "v4"}};
    std::ofstream container(dir + "/container.log", std::ios::binary);
    std::uint64_t seq = 0;
    container << boot.sign_event(
        "boot",
        boot.boot_sid(),
        {{"pub", mk::base64url(boot.pk)}, {"ver", "bench"}, {"pid", 1}, {"host", "bench"}},
        "",
        &seq) << "\n";
    container << boot.sign_event("meta", boot.boot_sid(), meta, "", &seq) << "\n";
    std::uint64_t written = 0;
    std::size_t sessions = 0;
    std::uint64_t markers = 0;
    std::uint64_t rec_count = 0;
    const auto session_fields = [&](const std::string& sid) {
        Json f = meta;
        f["sid"] = sid;
        f["user"] = "bench@example.com";
        f["shell"] = "/bin/bash";
        f["tty"] = "/dev/pts/0";
        f["cpid"] = 4250;
        f["mode"] = "hook";
        return f;
    };
    while (written < bytes) {
        const std::string sid = session_id(rng);
        Json f = session_fields(sid);
        std::string t =
            "Script started on 2026-11-24 05:40:04+00:00 [COMMAND=\"cat /var/lib/amazon/ssm/"
            "ipcTempFile.log\" <not executed on terminal>]\n";
        t += "execmark | session " + sid + " on task bench/01234567, container app\r\r\n";
        t += boot.sign_event("open", sid, f, "", &seq) + "\r\r\n";
        const std::size_t region_start = t.size();
        ordinary_output(t, rng, session_bytes);
        f["fin"] = "exit";
        f["rc"] = 0;
        t += "\x1b[?2004hroot@ip-10-0-1-23:/srv# exit";
        if (recorded > 0) {
            // The region as the recorder relayed it: `script` added a CR before every LF.
            std::string raw;
            raw.reserve(t.size() - region_start);
            for (std::size_t i = region_start; i < t.size(); ++i) {
                if (t[i] == '\r' && i + 2 < t.size() && t[i + 1] == '\r' && t[i + 2] == '\n') {
                    continue;
                }
                raw.push_back(t[i]);
            }
            rec_markers(boot, container, sid, raw, recorded, seq, rec_count);
        }
        t += "\r\r\n\x1b[?2004l\r";
        t += boot.sign_event("close", sid, f, "", &seq) + "\r\r\n";
        t += "\r\nScript done on 2026-11-24 05:52:17+00:00 [COMMAND_EXIT_CODE=\"0\"]\n";
        const std::string path = dir + "/sessions/" + sid + ".log";
        std::ofstream out(path, std::ios::binary);
        if (!(out << t) || !out.flush()) {
            std::fprintf(stderr, "mksession: cannot write %s\n", path.c_str());
            return 1;
        }
        written += t.size();
        markers += 2;
        ++sessions;
    }
    if (dense > 0) {
        // One session log made almost only of markers: nested shells opened and closed in turn.
        const std::string sid = session_id(rng);
        Json f = session_fields(sid);
        f["fin"] = "exit";
        f["rc"] = 0;
        std::ofstream d(dir + "/dense/" + sid + ".log", std::ios::binary);
        for (std::size_t i = 0; i < dense / 2; ++i) {
            d << boot.sign_event("open", sid, f, "", &seq) << "\r\r\n";
            d << boot.sign_event("close", sid, f, "", &seq) << "\r\r\n";
        }
        if (!d.flush()) {
            std::fprintf(
                stderr, "mksession: cannot write %s/dense/%s.log\n", dir.c_str(), sid.c_str());
            return 1;
        }
    }
    if (!container.flush()) {
        std::fprintf(stderr, "mksession: cannot write %s/container.log\n", dir.c_str());
        return 1;
    }
    std::printf("{\"sessions\":%zu,\"bytes\":%llu,\"markers\":%llu,\"dense_markers\":%zu,"
                "\"rec_markers\":%llu}\n",
                sessions,
                static_cast<unsigned long long>(written),
                static_cast<unsigned long long>(markers),
                dense / 2 * 2,
                static_cast<unsigned long long>(rec_count));
    return 0;
}

// CPU time of the calling thread.
double thread_cpu_seconds()
{
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

// Raw libsodium: n verifications of one 700-byte signed message, in CPU seconds of this thread.
int run_verify_speed(std::size_t n)
{
    Boot boot("");
    const std::string payload(700, 'p');
    const auto sig = mk::sign(payload, mk::SecretKey(boot.sk.data(), crypto_sign_SECRETKEYBYTES));
    const double start = thread_cpu_seconds();
    std::size_t ok = 0;
    for (std::size_t i = 0; i < n; ++i) {
        ok += mk::verify(payload, sig, boot.pk) ? 1 : 0;
    }
    const double seconds = thread_cpu_seconds() - start;
    std::printf("{\"verified\":%zu,\"cpu_seconds\":%.6f}\n", ok, seconds);
    return ok == n ? 0 : 1;
}

// libsodium's crypto_generichash against the fingerprint's BLAKE2b on the same bytes (terminal
// text: printable ASCII with CR LF line ends), each the best of three passes; both digests must
// be equal. The fingerprint pass also normalises (CR LF -> LF) and chains.
int run_hash_speed(std::size_t mib)
{
    std::string text(mib << 20, ' ');
    for (std::size_t i = 0; i < text.size(); ++i) {
        text[i] = i % 78 == 76 ? '\r' : i % 78 == 77 ? '\n' : static_cast<char>(33 + (i * 7) % 90);
    }
    constexpr std::size_t k_piece = 4096;
    const auto pieces = [&](const auto& take) {
        for (std::size_t at = 0; at < text.size(); at += k_piece) {
            take(std::string_view(text).substr(at, k_piece));
        }
    };
    const auto best_of_three = [&](const auto& pass) {
        double best = 0;
        for (int round = 0; round < 3; ++round) {
            const double start = thread_cpu_seconds();
            pass();
            const double seconds = thread_cpu_seconds() - start;
            best = round == 0 ? seconds : std::min(best, seconds);
        }
        return static_cast<double>(text.size()) / 1e6 / best;
    };
    transcript::Hash sodium_digest{};
    transcript::Hash own_digest{};
    const double sodium_mbs = best_of_three([&] {
        crypto_generichash_state state;
        crypto_generichash_init(&state, nullptr, 0, sodium_digest.size());
        pieces([&](std::string_view piece) {
            crypto_generichash_update(
                &state, reinterpret_cast<const unsigned char*>(piece.data()), piece.size());
        });
        crypto_generichash_final(&state, sodium_digest.data(), sodium_digest.size());
    });
    const double own_mbs = best_of_three([&] {
        transcript::Blake2b hash(own_digest.size());
        pieces([&](std::string_view piece) { hash.update(piece); });
        hash.final(own_digest.data());
    });
    const double fingerprint_mbs = best_of_three([&] {
        transcript::Fingerprint fingerprint;
        pieces([&](std::string_view piece) { fingerprint.feed(piece); });
        (void)fingerprint.finish();
    });
    const bool identical = sodium_digest == own_digest;
    std::printf("{\"mib\":%zu,\"libsodium_mbs\":%.0f,\"own_mbs\":%.0f,\"fingerprint_mbs\":%.0f,"
                "\"identical\":%s}\n",
                mib,
                sodium_mbs,
                own_mbs,
                fingerprint_mbs,
                identical ? "true" : "false");
    return identical ? 0 : 1;
}

void usage()
{
    std::fputs("usage: mksession SPEC.json|-\n"
               "       mksession --bench DIR --bytes N [--session-bytes N] [--dense N]\n"
               "                 [--recorded N]\n"
               "       mksession --verify-speed N   (raw libsodium verifications, CPU time)\n"
               "       mksession --hash-speed MIB   (BLAKE2b: libsodium's and the fingerprint's)\n"
               "  --bench writes DIR/container.log, DIR/sessions/<sid>.log (transcripts as\n"
               "  SSM's `script` stores them, N bytes in all) and, with --dense, one\n"
               "  DIR/dense/<sid>.log holding N markers; DIR/sessions and DIR/dense must exist.\n"
               "  --recorded N: every session recorded, PID 1's rec checkpoints (one every N\n"
               "  normalised bytes) in DIR/container.log.\n",
               stderr);
}

} // namespace

int main(int argc, char** argv)
{
    if (sodium_init() < 0) {
        return 1;
    }
    const std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (args.size() == 2 && args[0] == "--verify-speed") {
            return run_verify_speed(static_cast<std::size_t>(std::stoull(args[1])));
        }
        if (args.size() == 2 && args[0] == "--hash-speed") {
            return run_hash_speed(static_cast<std::size_t>(std::stoull(args[1])));
        }
        if (args.size() >= 2 && args[0] == "--bench") {
            std::uint64_t bytes = 0;
            std::size_t session_bytes = k_default_session_bytes;
            std::size_t dense = 0;
            std::size_t recorded = 0;
            for (std::size_t i = 2; i + 1 < args.size(); i += 2) {
                const auto value = std::stoull(args[i + 1]);
                if (args[i] == "--bytes") {
                    bytes = value;
                } else if (args[i] == "--session-bytes") {
                    session_bytes = static_cast<std::size_t>(value);
                } else if (args[i] == "--dense") {
                    dense = static_cast<std::size_t>(value);
                } else if (args[i] == "--recorded") {
                    recorded = static_cast<std::size_t>(value);
                } else {
                    usage();
                    return 2;
                }
            }
            return run_bench(args[1], bytes, session_bytes, dense, recorded);
        }
        if (args.size() != 1 || args[0] == "--help") {
            usage();
            return 2;
        }
        Json spec;
        if (args[0] == "-") {
            spec = Json::parse(std::cin);
        } else {
            std::ifstream in(args[0]);
            spec = Json::parse(in);
        }
        return run_spec(spec);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mksession: %s\n", e.what());
        return 2;
    }
}
