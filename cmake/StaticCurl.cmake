# SPDX-License-Identifier: MIT
# An HTTP-only libcurl for the static binary, built from Debian's curl source package (with
# Debian's security patches applied by dpkg-source). Debian's own libcurl.a cannot link fully
# static: it needs GSSAPI, LDAP and TLS libraries that ship no static archive.
# The task-metadata endpoint is plain http:// on a link-local address, so nothing else is needed.
include(ExternalProject)

set(EXECMARK_CURL_SOURCE_DIR "" CACHE PATH "Unpacked Debian curl source (default: fetched with apt-get source)")
if(NOT EXECMARK_CURL_SOURCE_DIR)
    set(_fetch_dir "${CMAKE_BINARY_DIR}/curl-source")
    if(NOT EXISTS "${_fetch_dir}/.done")
        message(STATUS "Fetching Debian's curl source package into ${_fetch_dir}")
        execute_process(
            COMMAND "${PROJECT_SOURCE_DIR}/docker/fetch-curl-source.sh" "${_fetch_dir}"
            RESULT_VARIABLE _rc)
        if(NOT _rc EQUAL 0)
            message(FATAL_ERROR "fetch Debian curl source: docker/fetch-curl-source.sh failed (${_rc})")
        endif()
    endif()
    file(READ "${_fetch_dir}/.done" EXECMARK_CURL_SOURCE_DIR)
    string(STRIP "${EXECMARK_CURL_SOURCE_DIR}" EXECMARK_CURL_SOURCE_DIR)
endif()

# Cross builds hand their toolchain file on (compiler, sysroot and search paths for the target);
# native builds pass the compiler only.
if(CMAKE_CROSSCOMPILING AND CMAKE_TOOLCHAIN_FILE)
    set(_curl_toolchain_args "-DCMAKE_TOOLCHAIN_FILE=${CMAKE_TOOLCHAIN_FILE}")
else()
    set(_curl_toolchain_args "-DCMAKE_C_COMPILER=${CMAKE_C_COMPILER}")
endif()

set(_curl_prefix "${CMAKE_BINARY_DIR}/curl-static")
set(_curl_lib "${_curl_prefix}/lib/libcurl.a")
ExternalProject_Add(curl_static_build
    SOURCE_DIR "${EXECMARK_CURL_SOURCE_DIR}"
    BINARY_DIR "${CMAKE_BINARY_DIR}/curl-static-build"
    INSTALL_DIR "${_curl_prefix}"
    CMAKE_ARGS
        -DCMAKE_INSTALL_PREFIX=<INSTALL_DIR>
        -DCMAKE_INSTALL_LIBDIR=lib
        -DCMAKE_BUILD_TYPE=MinSizeRel
        ${_curl_toolchain_args}
        # No unwind tables (18 KB of .eh_frame): nothing unwinds through libcurl's frames, since
        # our callbacks are noexcept and catch everything (agent/metadata/http.cpp).
        "-DCMAKE_C_FLAGS=-ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables"
        -DCMAKE_POSITION_INDEPENDENT_CODE=OFF
        -DBUILD_SHARED_LIBS=OFF -DBUILD_CURL_EXE=OFF -DBUILD_TESTING=OFF
        -DHTTP_ONLY=ON -DCURL_ENABLE_SSL=OFF -DCURL_USE_OPENSSL=OFF
        -DCURL_ZLIB=OFF -DCURL_BROTLI=OFF -DCURL_ZSTD=OFF -DUSE_NGHTTP2=OFF
        -DCURL_USE_LIBSSH2=OFF -DCURL_USE_LIBSSH=OFF -DUSE_LIBIDN2=OFF -DCURL_USE_GSSAPI=OFF
        -DCURL_USE_LIBPSL=OFF -DENABLE_UNIX_SOCKETS=OFF
        # Blocking resolver: the endpoint is an IP literal, and a resolver thread in PID 1 is
        # one more thing that could hang. Timeouts are enforced by the caller.
        -DENABLE_THREADED_RESOLVER=OFF
        # The metadata endpoint must never be reached through a proxy from the environment.
        -DCURL_DISABLE_PROXY=ON
        -DCURL_DISABLE_COOKIES=ON -DCURL_DISABLE_ALTSVC=ON -DCURL_DISABLE_HSTS=ON
        -DCURL_DISABLE_NETRC=ON -DCURL_DISABLE_MIME=ON -DCURL_DISABLE_PROGRESS_METER=ON
        -DCURL_DISABLE_NTLM=ON -DCURL_DISABLE_DOH=ON -DCURL_DISABLE_GETOPTIONS=ON
        -DCURL_DISABLE_SHUFFLE_DNS=ON -DCURL_DISABLE_VERBOSE_STRINGS=ON
        # The endpoint takes no credentials (HTTP auth, Digest, AWS SigV4 out), sends no dates to
        # parse (no cookies, If-Modified-Since or Retry-After in our use), and nothing calls
        # curl_multi_wakeup (the socketpair behind it out; curl_multi_poll works without).
        -DCURL_DISABLE_HTTP_AUTH=ON -DCURL_DISABLE_CRYPTO_AUTH=ON -DCURL_DISABLE_PARSEDATE=ON
        -DCURL_DISABLE_SOCKETPAIR=ON
        -DCURL_CA_BUNDLE=none -DCURL_CA_PATH=none
    BUILD_BYPRODUCTS "${_curl_lib}"
    UPDATE_COMMAND ""
    USES_TERMINAL_BUILD ON)

file(MAKE_DIRECTORY "${_curl_prefix}/include")
add_library(execmark_static_curl STATIC IMPORTED GLOBAL)
set_target_properties(execmark_static_curl PROPERTIES
    IMPORTED_LOCATION "${_curl_lib}"
    INTERFACE_INCLUDE_DIRECTORIES "${_curl_prefix}/include"
    INTERFACE_COMPILE_DEFINITIONS "CURL_STATICLIB")
add_dependencies(execmark_static_curl curl_static_build)
