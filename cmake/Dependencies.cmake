# SPDX-License-Identifier: MIT
# Third-party libraries, all from Debian 12 packages. In the static build spdlog and fmt are
# header-only (Debian ships no .a for them) and libcurl is our HTTP-only build (StaticCurl.cmake).
find_package(Threads REQUIRED)
set(Boost_USE_STATIC_LIBS ${AGENT_STATIC})
find_package(Boost 1.74 REQUIRED COMPONENTS program_options)
find_package(nlohmann_json 3 REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(ZLIB REQUIRED)

add_library(dep_spdlog INTERFACE)
if(AGENT_STATIC)
    find_path(SPDLOG_INCLUDE_DIR spdlog/spdlog.h REQUIRED)
    target_include_directories(dep_spdlog SYSTEM INTERFACE "${SPDLOG_INCLUDE_DIR}")
    # FMT_STATIC_THOUSANDS_SEPARATOR keeps std::locale (and ~700 KB of libstdc++ facets) out.
    # FMT_USE_FLOAT=0 and FMT_USE_LONG_DOUBLE=0 drop fmt's float and long double formatting
    # (4 KiB; double stays): nothing of ours has either type. fmt would print nothing for one,
    # so the static build refuses to configure when a source under agent/ names either.
    target_compile_definitions(dep_spdlog INTERFACE SPDLOG_FMT_EXTERNAL FMT_HEADER_ONLY=1
        FMT_STATIC_THOUSANDS_SEPARATOR=0x2c FMT_USE_FLOAT=0 FMT_USE_LONG_DOUBLE=0)
    file(GLOB_RECURSE _agent_sources CONFIGURE_DEPENDS
        "${PROJECT_SOURCE_DIR}/agent/*.cpp" "${PROJECT_SOURCE_DIR}/agent/*.hpp")
    foreach(_source IN LISTS _agent_sources)
        file(STRINGS "${_source}" _float_lines
            REGEX "(^|[^A-Za-z0-9_])(float|long double)([^A-Za-z0-9_]|$)")
        if(_float_lines)
            message(FATAL_ERROR "${_source} uses float or long double, which the static build's "
                "fmt does not format (FMT_USE_FLOAT=0, FMT_USE_LONG_DOUBLE=0 in "
                "cmake/Dependencies.cmake): use double, or drop those two definitions")
        endif()
    endforeach()
    target_link_libraries(dep_spdlog INTERFACE Threads::Threads)
else()
    find_package(spdlog REQUIRED)
    target_link_libraries(dep_spdlog INTERFACE spdlog::spdlog)
endif()

add_library(dep_sodium INTERFACE)
if(AGENT_STATIC)
    find_library(SODIUM_STATIC libsodium.a REQUIRED)
    target_link_libraries(dep_sodium INTERFACE "${SODIUM_STATIC}")
else()
    pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
    target_link_libraries(dep_sodium INTERFACE PkgConfig::SODIUM)
endif()

add_library(dep_curl INTERFACE)
if(AGENT_STATIC)
    include(StaticCurl)
    target_link_libraries(dep_curl INTERFACE execmark_static_curl)
else()
    find_package(CURL REQUIRED)
    target_link_libraries(dep_curl INTERFACE CURL::libcurl)
endif()

add_library(dep_zlib INTERFACE)
if(AGENT_STATIC)
    find_library(ZLIB_STATIC libz.a REQUIRED)
    target_link_libraries(dep_zlib INTERFACE "${ZLIB_STATIC}")
else()
    target_link_libraries(dep_zlib INTERFACE ZLIB::ZLIB)
endif()
