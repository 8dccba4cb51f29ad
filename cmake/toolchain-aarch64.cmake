# SPDX-License-Identifier: MIT
# Cross-compile for aarch64 (Fargate on Graviton) on a Debian 12 amd64 machine with Debian's
# cross toolchain (g++-aarch64-linux-gnu) and multiarch libraries (<pkg>-dev:arm64, installed
# into /usr/lib/aarch64-linux-gnu). docker/build-static-arm64.sh installs both.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(_triple aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${_triple}-gcc)
set(CMAKE_CXX_COMPILER ${_triple}-g++)
# ar, ranlib, strip and the LTO wrappers (gcc-ar, gcc-ranlib) are found by CMake from the
# compiler's "aarch64-linux-gnu-" prefix.

# Libraries and CMake package files of the target come from the multiarch directories only
# (never /usr/lib/x86_64-linux-gnu); the header-only and architecture-independent packages
# (nlohmann-json3-dev, the spdlog and fmt headers) are found in /usr/include and /usr/share.
set(CMAKE_LIBRARY_ARCHITECTURE ${_triple})
set(CMAKE_FIND_ROOT_PATH /usr/${_triple})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${_triple}/pkgconfig:/usr/share/pkgconfig")
