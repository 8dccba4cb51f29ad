# SPDX-License-Identifier: MIT
# EXECMARK_VERSION from `git describe`, EXECMARK_GIT_SHA the short commit; fallbacks for tarballs.
set(EXECMARK_BASE_VERSION "0.1.0")
set(EXECMARK_VERSION "${EXECMARK_BASE_VERSION}")
set(EXECMARK_GIT_SHA "unknown")
find_package(Git QUIET)
if(GIT_FOUND AND EXISTS "${PROJECT_SOURCE_DIR}/.git")
    execute_process(COMMAND "${GIT_EXECUTABLE}" describe --tags --always --dirty
        WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}" OUTPUT_VARIABLE _describe
        OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _rc)
    if(_rc EQUAL 0 AND _describe)
        if(_describe MATCHES "^v?[0-9]+\\.[0-9]+")
            string(REGEX REPLACE "^v" "" EXECMARK_VERSION "${_describe}")
        else()
            # No tag yet: base version plus the commit.
            set(EXECMARK_VERSION "${EXECMARK_BASE_VERSION}+g${_describe}")
        endif()
    endif()
    execute_process(COMMAND "${GIT_EXECUTABLE}" rev-parse --short=7 HEAD
        WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}" OUTPUT_VARIABLE _sha
        OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _rc)
    if(_rc EQUAL 0 AND _sha)
        set(EXECMARK_GIT_SHA "${_sha}")
    endif()
endif()
# EXECMARK_VERSION in the environment wins (docker/Dockerfile's VERSION build argument: release
# builds of a tag, or a build context without .git).
if(NOT "$ENV{EXECMARK_VERSION}" STREQUAL "")
    string(REGEX REPLACE "^v" "" EXECMARK_VERSION "$ENV{EXECMARK_VERSION}")
endif()
message(STATUS "execmark version ${EXECMARK_VERSION} (git ${EXECMARK_GIT_SHA})")
