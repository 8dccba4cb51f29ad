// SPDX-License-Identifier: MIT
#pragma once

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>

namespace execmark::test {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it at scope exit.
class TempRoot {
public:
    TempRoot()
    {
        const char* tmp = std::getenv("TMPDIR");
        std::string pattern =
            std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/execmark-unit-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        m_path = pattern;
    }

    TempRoot(const TempRoot&) = delete;
    TempRoot& operator=(const TempRoot&) = delete;

    ~TempRoot()
    {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }

    [[nodiscard]] const std::string& path() const { return m_path; }

    // Host path of an image path.
    [[nodiscard]] std::string host(std::string_view image_path) const
    {
        return m_path + std::string(image_path);
    }

    // Writes a file (parents created) with mode.
    void write(std::string_view image_path, std::string_view content, mode_t mode = 0644) const
    {
        const std::filesystem::path p = host(image_path);
        std::filesystem::create_directories(p.parent_path());
        {
            std::ofstream out(p, std::ios::binary | std::ios::trunc);
            out.write(content.data(), static_cast<std::streamsize>(content.size()));
        }
        ::chmod(p.c_str(), mode);
    }

    [[nodiscard]] std::string read(std::string_view image_path) const
    {
        std::ifstream in(host(image_path), std::ios::binary);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

    [[nodiscard]] bool exists(std::string_view image_path) const
    {
        std::error_code ec;
        return std::filesystem::exists(std::filesystem::symlink_status(host(image_path), ec));
    }

    void symlink(std::string_view target, std::string_view image_path) const
    {
        const std::filesystem::path p = host(image_path);
        std::filesystem::create_directories(p.parent_path());
        std::filesystem::create_symlink(std::string(target), p);
    }

private:
    std::string m_path;
};

} // namespace execmark::test
