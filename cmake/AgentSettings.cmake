# SPDX-License-Identifier: MIT
# agent_settings: defines, sanitizers, hardening; agent_warnings: the warning set.
# Both are linked PRIVATE by first-party targets only.
add_library(agent_settings INTERFACE)
add_library(agent_warnings INTERFACE)

# The version is compiled into agent/cli/version.cpp only, so a new commit rebuilds one file.
target_compile_definitions(agent_settings INTERFACE $<$<CONFIG:Debug>:_GLIBCXX_ASSERTIONS>)
target_compile_options(agent_settings INTERFACE -fstack-protector-strong)
if(NOT CMAKE_BUILD_TYPE STREQUAL "Debug")
    target_compile_definitions(agent_settings INTERFACE _FORTIFY_SOURCE=2)
endif()
if(NOT AGENT_STATIC)
    target_link_options(agent_settings INTERFACE -Wl,-z,relro,-z,now)
endif()

if(AGENT_SANITIZE)
    if(AGENT_STATIC)
        message(FATAL_ERROR "sanitizers cannot be combined with the static build")
    endif()
    list(JOIN AGENT_SANITIZE "," _san)
    target_compile_options(agent_settings INTERFACE -fsanitize=${_san} -fno-omit-frame-pointer
        -fno-sanitize-recover=all)
    target_link_options(agent_settings INTERFACE -fsanitize=${_san})
endif()

target_compile_options(agent_warnings INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual -Wcast-align
    -Wnull-dereference -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough -Wconversion
    $<$<COMPILE_LANGUAGE:CXX>:-Wextra-semi>
    $<$<CXX_COMPILER_ID:GNU>:-Wlogical-op -Wduplicated-cond>)
if(AGENT_WARNINGS_AS_ERRORS)
    target_compile_options(agent_warnings INTERFACE -Werror)
endif()

if(AGENT_CLANG_TIDY)
    find_program(CLANG_TIDY_EXE NAMES clang-tidy-14 clang-tidy REQUIRED)
    set(CMAKE_CXX_CLANG_TIDY "${CLANG_TIDY_EXE}")
endif()

if(AGENT_STATIC)
    # Size: every function and object in its own section, unreferenced ones dropped. The same
    # flags at link time split the link-time optimiser's output per function too (-4 KiB).
    # gold's identical code folding then merges functions whose code is the same byte for byte
    # (template instances, libstdc++'s char/wchar_t and old/new-ABI facets): -48 KiB. "safe"
    # folds only functions whose address is never taken, so no two function pointers that
    # the program compares can become equal. GNU ld has no such option. docs/benchmarks.md
    # "Binary size" has the numbers; the linker map gold writes is read by
    # tests/bench/size_breakdown.py like GNU ld's. --rosegment: gold would otherwise put
    # read-only data (constants, exception tables, strings) into the executable segment, which
    # GNU ld keeps apart by default (-z separate-code); same size (tests/integration/
    # elf_segments.py checks every release binary). --section-ordering-file: code PID 1 never
    # runs (the auditor, the recorder) goes to the end of .text, together, so that PID 1's
    # resident pages of the executable do not grow with it (cmake/section-order.txt).
    add_compile_options(-ffunction-sections -fdata-sections)
    add_link_options(-static -ffunction-sections -fdata-sections -fuse-ld=gold -Wl,--icf=safe -Wl,--rosegment
        -Wl,--section-ordering-file=${PROJECT_SOURCE_DIR}/cmake/section-order.txt
        -Wl,--gc-sections -Wl,-O1 -s)
endif()
